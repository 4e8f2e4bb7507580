"""The operations the clients ship (`clients/<client>/<Name>.graphql`) stay valid against the
schema: one operation per file, named as the file, unique across clients, every argument a
variable, and accepted by the server as production runs it (depth, alias and token limits, no
introspection)."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import strawberry
from graphql import (
    ArgumentNode,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    specified_rules,
    validate,
    visit,
)

from jikuai.config import Environment, Settings
from jikuai.schema.execution import Operation, OperationRunner
from jikuai.schema.root import build_schema

CLIENTS = Path(__file__).parents[3] / "clients"
DOCUMENTS = sorted(CLIENTS.rglob("*.graphql"))


def _label(path: Path) -> str:
    return path.relative_to(CLIENTS).as_posix()


@cache
def _schema() -> strawberry.Schema:
    return build_schema(Settings())


@cache
def _production_runner() -> OperationRunner:
    settings = Settings(
        env=Environment.PRODUCTION, wechat_app_id="wx-client-operations", wechat_app_secret="-"
    )
    return OperationRunner(build_schema(settings), settings)


class _LiteralArguments(Visitor):
    """Arguments given a literal value instead of a variable."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def enter_argument(self, node: ArgumentNode, *_args: object) -> None:
        if not isinstance(node.value, VariableNode):
            self.found.append(print_ast(node))


def test_the_clients_ship_operations() -> None:
    assert DOCUMENTS, f"no *.graphql under {CLIENTS}"


def test_operation_names_are_unique_across_clients() -> None:
    """Each file's one operation is named as the file, so the file names must not repeat."""
    repeated = [name for name, count in Counter(p.stem for p in DOCUMENTS).items() if count > 1]

    assert repeated == [], [_label(p) for p in DOCUMENTS if p.stem in repeated]


@pytest.mark.parametrize("path", DOCUMENTS, ids=_label)
def test_the_file_holds_one_valid_operation_named_as_the_file(path: Path) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    operations = [
        each for each in document.definitions if isinstance(each, OperationDefinitionNode)
    ]

    assert len(operations) == 1, f"{len(operations)} operations"
    assert operations[0].name is not None, "anonymous operation"
    assert operations[0].name.value == path.stem
    assert [error.message for error in validate(_schema()._schema, document, specified_rules)] == []


@pytest.mark.parametrize("path", DOCUMENTS, ids=_label)
def test_production_accepts_the_operation(path: Path) -> None:
    prepared = _production_runner().prepare(path.read_text(encoding="utf-8"), path.stem)

    assert isinstance(prepared, Operation), prepared


@pytest.mark.parametrize("path", DOCUMENTS, ids=_label)
def test_every_argument_is_a_variable(path: Path) -> None:
    """A registered document is fixed text: what a user chooses travels in `variables`."""
    literals = _LiteralArguments()
    visit(parse(path.read_text(encoding="utf-8")), literals)

    assert literals.found == []
