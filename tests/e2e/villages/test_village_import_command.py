"""`jikuai village import FILE --village CODE`: a roster file from the command line, with a
progress bar, refused rows on stderr and a summary on stdout, against the stack's database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.stack import Stack
from tests.support.villages import household, households, roster_csv, roster_xlsx, village_bank

pytestmark = pytest.mark.usefixtures("restore_logging", "stack_environment")


def roster_file(tmp_path: Path, content: bytes, suffix: str = ".csv") -> Path:
    path = tmp_path / f"roster-{uuid.uuid4().hex[:6]}{suffix}"
    path.write_bytes(content)
    return path


async def test_a_roster_file_is_imported_and_again_changes_nothing(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = await village_bank(stack)
    path = roster_file(tmp_path, roster_csv([household(stack), household(stack, phone="x")]))

    assert await run_cli("village", "import", str(path), "--village", setup.village_code) == 1

    out, err = capsys.readouterr()
    assert out.strip() == (
        f"{path}: 2 rows: 1 inserted, 0 updated, 0 unchanged, 1 refused; 1 pre-approved"
    )
    assert "line 3: phone: INVALID_PHONE (Invalid mainland mobile number)" in err
    assert "100% 2/2 rows" in err
    assert await run_cli("village", "import", str(path), "--village", setup.village_code) == 1
    out, _ = capsys.readouterr()
    assert "0 inserted, 0 updated, 1 unchanged, 1 refused" in out
    officer = await stack.token(setup.username("o1"))
    assert len(await households(stack, officer, setup.village_id)) == 1


async def test_an_xlsx_roster(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = await village_bank(stack)
    path = roster_file(tmp_path, roster_xlsx([household(stack) for _ in range(3)]), ".xlsx")
    assert await run_cli("village", "import", str(path), "--village", setup.village_code) == 0
    assert "3 inserted" in capsys.readouterr().out


async def test_what_cannot_be_imported_at_all(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = await village_bank(stack)
    good = roster_file(tmp_path, roster_csv([household(stack)]))
    cases = [
        (good, "no-such-village", "no village 'no-such-village'"),
        (tmp_path / "missing.csv", setup.village_code, "cannot read"),
        (
            roster_file(tmp_path, roster_csv([household(stack)], header=["name", "phone"])),
            setup.village_code,
            "the header must name the columns",
        ),
        (roster_file(tmp_path, b"PK\x03\x04junk", ".xlsx"), setup.village_code, "not a readable"),
    ]
    for path, village, message in cases:
        assert await run_cli("village", "import", str(path), "--village", village) == 2
        assert message in capsys.readouterr().err
    officer = await stack.token(setup.username("o1"))
    assert await households(stack, officer, setup.village_id) == []
