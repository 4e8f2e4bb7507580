from pathlib import Path

from jikuai.config import Settings
from jikuai.schema.root import build_schema
from jikuai.schema.sdl import printed_schema

SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"


def test_committed_schema_is_current() -> None:
    """schema.graphql is what clients build against; `make schema` refreshes it."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == printed_schema(), "run `make schema`"


def test_every_type_and_field_is_described() -> None:
    schema = build_schema(Settings())._schema
    builtin = {"String", "Boolean", "Int", "ID", "Float", "DateTime", "JSON"}
    missing = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in builtin:
            continue
        if not graphql_type.description:
            missing.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")

    assert missing == []
