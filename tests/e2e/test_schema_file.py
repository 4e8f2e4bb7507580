from pathlib import Path

from jikuai.schema.sdl import printed_schema

SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"


def test_committed_schema_is_current() -> None:
    """schema.graphql is what clients build against; `make schema` refreshes it."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == printed_schema(), "run `make schema`"
