"""`jikuai kpi import FILE.csv --institution CODE`: core banking's daily file, read in chunks of
a thousand rows, one transaction each, against the test stack's own database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from jikuai.persistence.tables.performance import performance_facts
from tests.support.cli import run_cli
from tests.support.credit import local_uuid
from tests.support.performance import Bank, new_bank
from tests.support.points import business_today
from tests.support.stack import Stack

pytestmark = pytest.mark.usefixtures("restore_logging", "stack_environment")

HEADER = "date,source,key,measure,staff,customer_id_number,value"
YESTERDAY = (business_today() - timedelta(days=1)).isoformat()


def csv_file(tmp_path: Path, *lines: str, bom: bool = False, header: str = HEADER) -> Path:
    path = tmp_path / f"facts-{uuid.uuid4().hex[:6]}.csv"
    text = "\r\n".join([header, *lines]) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


async def kpi_import(path: Path, bank: Bank) -> int:
    return await run_cli("kpi", "import", str(path), "--institution", bank.code)


async def stored(stack: Stack, bank: Bank) -> dict[str, dict[str, Any]]:
    """The bank's facts by key, straight from the database."""
    async with stack.services.database.primary.connect() as connection:
        rows = await connection.execute(
            select(performance_facts).where(
                performance_facts.c.institution_id == bank.institution.id
            )
        )
        return {row.key: dict(row._mapping) for row in rows}


async def test_a_file_with_a_bom_is_imported_and_a_second_run_changes_nothing(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = await new_bank(stack)
    id_number = stack.new_id_number()
    payload = await stack.register(bank.username("o1"), id_number=id_number)
    customer_id = uuid.UUID(local_uuid(payload["customer"]["id"]))
    path = csv_file(
        tmp_path,
        f"{YESTERDAY},CBS,dep-o1,DEPOSIT_BALANCE,{bank.username('o1')},,523000.50",
        f"{YESTERDAY},CBS,dep-c1,LOW_COST_DEPOSIT_BALANCE,,{id_number},8530.99",
        f"{YESTERDAY},CARDS,act-all,SOCIAL_SECURITY_CARDS_ACTIVATED,,,12",
        bom=True,
    )

    first = await kpi_import(path, bank)
    first_out = capsys.readouterr()
    second = await kpi_import(path, bank)
    second_out = capsys.readouterr()

    assert first == second == 0
    assert first_out.out == f"{path}: 3 rows: 3 inserted, 0 updated, 0 unchanged, 0 refused\n"
    assert first_out.err == ""
    assert second_out.out == f"{path}: 3 rows: 0 inserted, 0 updated, 3 unchanged, 0 refused\n"
    facts = await stored(stack, bank)
    assert {
        key: (row["metric"], row["staff_id"], row["customer_id"], row["value"])
        for key, row in facts.items()
    } == {
        "dep-o1": ("DEPOSIT_BALANCE", bank.staff_id("o1"), None, Decimal("523000.50")),
        "dep-c1": ("LOW_COST_DEPOSIT_BALANCE", None, customer_id, Decimal("8530.99")),
        "act-all": ("SOCIAL_SECURITY_CARDS_ACTIVATED", None, None, Decimal("12.00")),
    }


async def test_bad_lines_are_printed_with_their_line_and_the_good_ones_land(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = await new_bank(stack)
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    path = csv_file(
        tmp_path,
        f"{YESTERDAY},CBS,good-1,DEPOSIT_BALANCE,,,100",
        f"{tomorrow},CBS,future,DEPOSIT_BALANCE,,,100",
        "",
        f"{YESTERDAY},PLATFORM,bad,OUTSTANDING_BALANCE,nobody,,1.001",
        f"{YESTERDAY},CBS,short,DEPOSIT_BALANCE,,100",
        f'{YESTERDAY},CBS,"quoted, key",DEPOSIT_BALANCE,{bank.username("o2")},,"1,000"',
        f"{YESTERDAY},CBS,beta,DEPOSIT_BALANCE,beta-officer,,5",
        f"{YESTERDAY},CBS,good-2,SOCIAL_SECURITY_CARDS_ISSUED,{bank.username('o3')},,7",
    )

    status = await kpi_import(path, bank)

    out = capsys.readouterr()
    assert status == 1
    assert out.err.splitlines() == [
        "line 3: date: INVALID_DATE (Invalid date)",
        "line 5: source: INVALID_SOURCE (A source is 1–32 letters, digits, _ or -, and not "
        "PLATFORM)",
        "line 5: measure: INVALID_MEASURE (That measure cannot be imported)",
        "line 5: staff: NOT_FOUND (Not found)",
        "line 5: value: INVALID_AMOUNT (Invalid amount)",
        "line 6: INVALID_LENGTH (Too short or too long)",
        "line 7: value: INVALID_AMOUNT (Invalid amount)",
        "line 8: staff: NOT_FOUND (Not found)",
    ]
    assert out.out == f"{path}: 7 rows: 2 inserted, 0 updated, 0 unchanged, 5 refused\n"
    assert set(await stored(stack, bank)) == {"good-1", "good-2"}


async def test_columns_may_come_in_any_order_and_a_changed_value_replaces_the_old(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = await new_bank(stack)
    header = "Value, Measure ,date,key,source,staff,customer_id_number"
    await kpi_import(
        csv_file(tmp_path, f"1.00,deposit_balance,{YESTERDAY},k,CBS,,", header=header), bank
    )
    capsys.readouterr()

    status = await kpi_import(
        csv_file(tmp_path, f"2.00,DEPOSIT_BALANCE,{YESTERDAY},k,CBS,,", header=header), bank
    )

    assert status == 0
    assert "0 inserted, 1 updated, 0 unchanged" in capsys.readouterr().out
    assert (await stored(stack, bank))["k"]["value"] == Decimal("2.00")


async def test_a_large_file_goes_in_chunks_and_an_interrupted_import_is_run_again(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = await new_bank(stack)
    lines = [f"{YESTERDAY},CBS,row-{n:05d},DEPOSIT_BALANCE,,,{n}.25" for n in range(2500)]
    broken = tmp_path / "broken.csv"
    text = "\n".join([HEADER, *lines]) + "\n"
    # A byte that is not UTF-8 near the end: the chunks before it are saved, then it stops.
    cut = text.index("row-02400")
    broken.write_bytes(text[:cut].encode() + b"\xff" + text[cut + 1 :].encode())
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text, encoding="utf-8")

    interrupted = await kpi_import(broken, bank)
    interrupted_out = capsys.readouterr()
    saved = len(await stored(stack, bank))
    rerun = await kpi_import(fixed, bank)
    rerun_out = capsys.readouterr()

    assert interrupted == 2
    assert "not UTF-8" in interrupted_out.err
    assert saved == 2000  # two whole chunks of a thousand
    assert f"{saved} inserted" in interrupted_out.out
    assert rerun == 0
    assert (
        rerun_out.out == f"{fixed}: 2500 rows: 500 inserted, 0 updated, 2000 unchanged, 0 refused\n"
    )
    assert len(await stored(stack, bank)) == 2500


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("date,source,key,measure,staff,value", "the header must name the columns"),
        (HEADER + ",extra", "the header must name the columns"),
        ("", "the header must name the columns"),
    ],
)
async def test_a_wrong_header_stops_before_any_row(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, reason: str
) -> None:
    bank = await new_bank(stack)
    path = csv_file(tmp_path, f"{YESTERDAY},CBS,k,DEPOSIT_BALANCE,,,1", header=header)

    assert await kpi_import(path, bank) == 2

    out = capsys.readouterr()
    assert reason in out.err
    assert out.out == ""
    assert await stored(stack, bank) == {}


async def test_a_missing_file_a_file_that_is_not_utf8_and_an_unknown_institution(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = await new_bank(stack)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(f"{HEADER}\n{YESTERDAY},核心,k,DEPOSIT_BALANCE,,,1\n".encode("gbk"))
    good = csv_file(tmp_path, f"{YESTERDAY},CBS,k,DEPOSIT_BALANCE,,,1")

    missing = await kpi_import(tmp_path / "nowhere.csv", bank)
    missing_err = capsys.readouterr().err
    not_utf8 = await kpi_import(gbk, bank)
    not_utf8_err = capsys.readouterr().err
    unknown = await run_cli("kpi", "import", str(good), "--institution", "no-such-bank")
    unknown_err = capsys.readouterr().err
    province = await run_cli("kpi", "import", str(good), "--institution", "prov")
    province_err = capsys.readouterr().err

    assert (missing, not_utf8, unknown, province) == (2, 2, 2, 2)
    assert "cannot read" in missing_err
    assert "not UTF-8" in not_utf8_err
    assert "no member institution 'no-such-bank'" in unknown_err
    assert "no member institution 'prov'" in province_err
    assert await stored(stack, bank) == {}
