"""`jikuai operations register FILE...` and `jikuai operations list`, against the stack's
database, as a client's build runs them before a release."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.stack import Stack

pytestmark = pytest.mark.usefixtures("restore_logging", "stack_environment")

HOME = """\
query Home { institutions { ...Named } }
query Key { envelopeKey { keyId } }
fragment Named on Institution { code name }
"""


def graphql_file(tmp_path: Path, content: str | bytes) -> Path:
    """A file of its own; a text gets a first comment line no other test's file has."""
    path = tmp_path / f"{uuid.uuid4().hex[:8]}.graphql"
    if isinstance(content, str):
        path.write_text(f"# {uuid.uuid4().hex}\n{content}", encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def registered_hashes(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """`jikuai operations list`: each hash with the rest of its line."""
    assert await run_cli("operations", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    return {line.split()[0]: line for line in lines}


async def test_registering_prints_each_hash_and_again_changes_nothing(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = graphql_file(tmp_path, HOME)
    anonymous = graphql_file(tmp_path, "{ institutions { code } }")

    assert await run_cli("operations", "register", str(home), str(anonymous)) == 0

    assert capsys.readouterr().out.splitlines() == [
        f"{file_hash(home)}  Home Key  {home}",
        f"{file_hash(anonymous)}  (anonymous)  {anonymous}",
    ]
    assert await run_cli("operations", "register", str(home)) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{file_hash(home)}  Home Key  {home}  (already registered)"
    ]
    registered = await registered_hashes(capsys)
    assert registered[file_hash(home)].endswith("  Home Key")
    assert registered[file_hash(anonymous)].endswith("  (anonymous)")


async def test_the_hash_is_of_the_files_exact_bytes(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crlf = graphql_file(
        tmp_path, f"# {uuid.uuid4().hex}\r\nquery Home {{ __typename }}\r\n".encode()
    )

    assert await run_cli("operations", "register", str(crlf)) == 0

    assert capsys.readouterr().out.startswith(f"{file_hash(crlf)}  Home  ")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("query Home { institutions { nope } }", "line 2 column 29: Cannot query field 'nope'"),
        ("query Home { institutions { code }", "Syntax Error"),
        ("fragment Named on Institution { code }", "holds no operation"),
        ("{ institutions { code } } { envelopeKey { keyId } }", "several anonymous operations"),
        ("query A { __typename } query A { __typename }", "only one operation named 'A'"),
        ("query Home($id: ID!) { __typename }", "Variable '$id' is never used"),
        (b"query Home { __typename } # \xff\xfe", "not UTF-8 text"),
    ],
    ids=[
        "invalid",
        "unparsable",
        "fragments-only",
        "anonymous",
        "duplicate-name",
        "unused-variable",
        "not-utf8",
    ],
)
async def test_a_bad_file_registers_nothing_of_its_batch(
    stack: Stack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes,
    reason: str,
) -> None:
    good = graphql_file(tmp_path, HOME)
    bad = graphql_file(tmp_path, content)

    assert await run_cli("operations", "register", str(good), str(bad)) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert f"jikuai: {bad}: " in err
    assert reason in err
    assert err.splitlines()[-1] == "jikuai: nothing registered"
    assert file_hash(good) not in await registered_hashes(capsys)


async def test_a_file_that_cannot_be_read_is_refused(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.graphql"

    assert await run_cli("operations", "register", str(missing)) == 2

    assert f"jikuai: {missing}: cannot read: No such file or directory" in capsys.readouterr().err


async def test_a_document_over_the_servers_limits_is_refused(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = (
        "query Deep { "
        + "institutions { branches { institution { " * 5
        + "code"
        + " } } }" * 5
        + " }"
    )
    path = graphql_file(tmp_path, deep)

    assert await run_cli("operations", "register", str(path)) == 2

    assert "exceeds maximum operation depth" in capsys.readouterr().err
