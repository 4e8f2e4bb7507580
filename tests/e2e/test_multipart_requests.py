"""File uploads by the GraphQL multipart request spec: a malformed form is a 400 with a JSON
error, never a 500; a well-formed one runs like any operation, authentication included."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.stack import Stack

OPERATION = {
    "query": "mutation($input: ImportVillageRosterInput!) "
    "{ importVillageRoster(input: $input) { userErrors { code } } }",
    "variables": {"input": {"villageId": "x", "file": None}},
}
FILE = {"0": ("roster.csv", b"name\n", "text/csv")}


async def post_form(
    stack: Stack, data: dict[str, str], files: Any = None, token: str | None = None
) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await stack.client.post("/graphql", data=data, files=files or FILE, headers=headers)


@pytest.mark.parametrize(
    ("operations", "mapping"),
    [
        ("{not json", {"0": ["variables.input.file"]}),
        (json.dumps(OPERATION), "[]"),
        (json.dumps(OPERATION), {"1": ["variables.input.file"]}),  # no such part
        (json.dumps(OPERATION), {"0": ["query"]}),  # outside `variables`
        (json.dumps(OPERATION), {"0": ["variables.input.villageId"]}),  # not a null
        (json.dumps(OPERATION), {"0": ["variables.input.nothing.deeper"]}),
        (json.dumps(OPERATION), {"0": "variables.input.file"}),  # paths must be a list
    ],
)
async def test_a_malformed_form_is_a_bad_request(
    stack: Stack, operations: str, mapping: Any
) -> None:
    data = {
        "operations": operations,
        "map": mapping if isinstance(mapping, str) else json.dumps(mapping),
    }
    response = await post_form(stack, data)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_more_than_one_file_is_a_bad_request(stack: Stack) -> None:
    data = {
        "operations": json.dumps(OPERATION),
        "map": json.dumps({"0": ["variables.input.file"], "1": ["variables.input.file"]}),
    }
    response = await post_form(stack, data, files={**FILE, "1": ("b.csv", b"x", "text/csv")})
    assert response.status_code == 400


async def test_an_upload_needs_a_signed_in_caller(stack: Stack) -> None:
    data = {"operations": json.dumps(OPERATION), "map": json.dumps({"0": ["variables.input.file"]})}
    response = await post_form(stack, data)
    assert response.status_code == 200
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
