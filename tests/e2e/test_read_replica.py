"""With a replica configured, queries read there; a request that has written reads the primary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import WECHAT_APP_ID, WECHAT_APP_SECRET
from tests.support.stack import REGISTER, Stack, open_stack


@pytest.fixture
async def replicated(tmp_path: Path, wechat_base_url: str) -> AsyncIterator[Stack]:
    async with open_stack(
        data_dir=tmp_path,
        database_url=None,
        redis_url=None,
        wechat=(wechat_base_url, WECHAT_APP_ID, WECHAT_APP_SECRET),
        with_replica=True,
    ) as stack:
        yield stack


async def test_queries_read_from_the_replica(replicated: Stack) -> None:
    token = await replicated.token("alpha-officer")
    assert replicated.services.database.reader.url.database.endswith("replica.db")

    with (
        replicated.count_statements(writer=True) as primary,
        replicated.count_statements(writer=False) as replica,
    ):
        body = await replicated.gql(
            "{ customers(first: 5) { edges { node { id } } } institutions { code } }", token=token
        )

    assert "errors" not in body
    assert len(replica) == 2
    assert primary == []


async def test_a_mutation_reads_its_own_writes_from_the_primary(replicated: Stack) -> None:
    token = await replicated.token("alpha-officer")

    with replicated.count_statements(writer=False) as replica:
        body = await replicated.gql(
            REGISTER, {"input": replicated.registration(name="周杰")}, token=token
        )

    payload = body["data"]["registerCustomer"]
    assert payload["userErrors"] == []
    assert payload["customer"]["nameMasked"] == "*杰"
    assert payload["customer"]["institution"] == {"code": "alpha"}
    assert replica == []
