"""Print the schema's SDL: `python -m jikuai.schema.sdl > schema.graphql` (`make schema`)."""

from __future__ import annotations

from jikuai.config import Settings
from jikuai.schema.root import build_schema


def printed_schema() -> str:
    """The SDL of the schema as the development server serves it."""
    return build_schema(Settings()).as_str() + "\n"


if __name__ == "__main__":
    print(printed_schema(), end="")
