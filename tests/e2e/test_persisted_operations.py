"""Persisted operations through the real stack: Apollo's automatic persisted queries (APQ) kept
in the cache, documents registered with `jikuai operations register`, and the allow-list that
lets only those run."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from jikuai.app import create_app
from jikuai.config import Settings
from jikuai.container import Services, build_services
from tests.support.cli import run_cli
from tests.support.stack import Stack, count_checkouts

NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}
PREVIEW = """
query Preview($input: LoanSchedulePreviewInput!) {
  loanSchedulePreview(input: $input) { totalInterest }
}
"""
PREVIEW_INPUT = {
    "input": {
        "amount": "100000",
        "termMonths": 12,
        "method": "EQUAL_INSTALLMENT",
        "annualRate": "0.0435",
    }
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def unique(document: str) -> str:
    """The document with a first comment line of its own: the same operations, a new hash."""
    return f"# {uuid.uuid4().hex}\n{document}"


def probe() -> str:
    """A small valid document no other test sends."""
    return unique("query Probe { institutions { code } }")


def persisted(sha: object, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


async def send(client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
    """POST the payload as a client would, JSON-encoded (lone surrogates escaped)."""
    return await client.post(
        "/graphql",
        content=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
    )


async def by_hash(client: httpx.AsyncClient, text: str, **extra: Any) -> httpx.Response:
    """What the mini-program sends: the hash, never the text."""
    return await send(client, {"extensions": persisted(sha256(text)), **extra})


async def with_text(client: httpx.AsyncClient, text: str, **extra: Any) -> httpx.Response:
    """What an APQ client sends after PersistedQueryNotFound: the text and its hash."""
    return await send(client, {"query": text, "extensions": persisted(sha256(text)), **extra})


def code_of(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


def assert_runs(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]


@dataclass
class App:
    """Another server process of the deployment: its own services, the stack's database."""

    client: httpx.AsyncClient
    services: Services


@asynccontextmanager
async def another_server(stack: Stack, **changes: Any) -> AsyncIterator[App]:
    settings: Settings = stack.settings.model_copy(update=changes)
    services = build_services(settings, keyring=stack.services.keyring)
    app = create_app(settings, services=services)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://jikuai.test"
        ) as client:
            yield App(client, services)
    finally:
        await services.close()


@pytest.fixture(scope="module")
async def allow_list(stack: Stack) -> AsyncIterator[App]:
    """A server with JIKUAI_OPERATIONS_ALLOW_LIST on, sharing the stack's database and cache."""
    async with another_server(stack, operations_allow_list=True) as app:
        yield app


Register = Callable[..., Awaitable[int]]


@pytest.fixture
def register(stack_environment: None, restore_logging: None, tmp_path: Path) -> Register:
    """`jikuai operations register` on files holding the given documents; the exit status."""

    async def registered(*documents: str) -> int:
        paths = []
        for document in documents:
            path = tmp_path / f"{uuid.uuid4().hex}.graphql"
            path.write_text(document, encoding="utf-8")
            paths.append(str(path))
        return await run_cli("operations", "register", *paths)

    return registered


# Automatic persisted queries (allow-list off)


async def test_an_unknown_hash_asks_for_the_text_in_apollos_words(stack: Stack) -> None:
    response = await by_hash(stack.client, probe())

    assert response.status_code == 200
    assert response.json() == NOT_FOUND


async def test_the_text_sent_once_with_its_hash_runs_by_hash_alone_afterwards(
    stack: Stack,
) -> None:
    document = unique(PREVIEW)
    assert (await by_hash(stack.client, document, variables=PREVIEW_INPUT)).json() == NOT_FOUND

    first = await with_text(stack.client, document, variables=PREVIEW_INPUT)
    assert_runs(first)
    for _ in range(2):
        again = await by_hash(stack.client, document, variables=PREVIEW_INPUT)
        assert again.json() == first.json()
    assert first.json()["data"]["loanSchedulePreview"]["totalInterest"] == "2371.90"


async def test_another_server_sharing_the_cache_knows_the_text(stack: Stack) -> None:
    document = probe()
    assert_runs(await with_text(stack.client, document))

    async with another_server(stack) as other:
        response = await by_hash(other.client, document)

    if stack.settings.redis_url:
        assert_runs(response)
    else:  # the in-process store is one process's own
        assert response.json() == NOT_FOUND


async def test_a_process_keeps_a_bounded_number_of_documents_the_oldest_going_first(
    stack: Stack,
) -> None:
    async with another_server(stack, persisted_query_documents=2) as small:
        documents = [probe() for _ in range(3)]
        for document in documents:
            assert_runs(await with_text(small.client, document))

        oldest, *kept = [await by_hash(small.client, document) for document in documents]

    assert oldest.json() == NOT_FOUND
    for response in kept:
        assert_runs(response)


async def test_a_text_that_is_not_its_hash_is_a_400(stack: Stack) -> None:
    response = await send(
        stack.client, {"query": "{ __typename }", "extensions": persisted(sha256("{ me { id } }"))}
    )

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "provided sha does not match query",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }


@pytest.mark.parametrize("version", [2, 0, "1", None, True, 1.5])
async def test_another_version_is_a_400(stack: Stack, version: object) -> None:
    document = probe()
    response = await send(
        stack.client, {"query": document, "extensions": persisted(sha256(document), version)}
    )

    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
    assert "version" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "sha",
    [
        sha256("{ __typename }").upper(),
        sha256("{ __typename }")[:63],
        sha256("{ __typename }") + "0",
        "z" * 64,
        f" {sha256('{ __typename }')}",
        f"{sha256('{ __typename }')}\n",
        12,
        None,
    ],
    ids=["upper-case", "short", "long", "not-hex", "leading-space", "newline", "number", "null"],
)
async def test_a_malformed_hash_is_a_400(stack: Stack, sha: object) -> None:
    response = await send(stack.client, {"query": "{ __typename }", "extensions": persisted(sha)})

    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
    assert "sha256Hash" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "extensions",
    [[], "persistedQuery", 5, {"persistedQuery": []}, {"persistedQuery": "abc"}],
    ids=["list", "string", "number", "query-list", "query-string"],
)
async def test_extensions_that_are_not_objects_are_a_400(stack: Stack, extensions: object) -> None:
    response = await send(stack.client, {"query": "{ __typename }", "extensions": extensions})

    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"


@pytest.mark.parametrize("query", [5, ["{ __typename }"], {"q": 1}])
async def test_a_query_that_is_not_text_is_a_400(stack: Stack, query: object) -> None:
    response = await send(
        stack.client, {"query": query, "extensions": persisted(sha256("{ __typename }"))}
    )

    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"


async def test_a_lone_surrogate_is_a_mismatch_not_a_crash(stack: Stack) -> None:
    response = await send(
        stack.client, {"query": "{ __typename } # \ud800", "extensions": persisted("a" * 64)}
    )

    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"


async def test_other_extensions_change_nothing(stack: Stack) -> None:
    response = await send(
        stack.client, {"query": probe(), "extensions": {"tracing": True, "persistedQuery": None}}
    )

    assert_runs(response)


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("query Broken { institutions { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query Broken { institutions { code }", "GRAPHQL_PARSE_FAILED"),
    ],
    ids=["invalid", "unparsable"],
)
async def test_a_document_that_cannot_run_is_not_kept(
    stack: Stack, document: str, code: str
) -> None:
    document = unique(document)

    response = await with_text(stack.client, document)

    assert response.status_code == 200
    assert code_of(response) == code
    assert (await by_hash(stack.client, document)).json() == NOT_FOUND
    assert await stack.services.cache.get(f"apq:{sha256(document)}") is None


async def test_an_unknown_operation_name_is_not_kept(stack: Stack) -> None:
    document = probe()

    response = await with_text(stack.client, document, operationName="Other")

    assert response.status_code == 400
    assert (await by_hash(stack.client, document)).json() == NOT_FOUND


# Registered documents


MINI_PROGRAM = """
query Institutions { institutions { ...Named } }
query Preview($input: LoanSchedulePreviewInput!) {
  loanSchedulePreview(input: $input) { totalInterest }
}
fragment Named on Institution { code name }
"""


async def test_a_registered_document_runs_by_hash_without_the_allow_list(
    stack: Stack, register: Register
) -> None:
    document = unique(MINI_PROGRAM)
    assert await register(document) == 0

    response = await by_hash(
        stack.client, document, variables=PREVIEW_INPUT, operationName="Preview"
    )

    assert_runs(response)


async def test_the_allow_list_runs_a_registered_document_by_hash(
    stack: Stack, allow_list: App, register: Register
) -> None:
    document = unique(MINI_PROGRAM)
    assert (await by_hash(allow_list.client, document)).json() == NOT_FOUND
    assert await register(document) == 0

    preview = await by_hash(
        allow_list.client, document, variables=PREVIEW_INPUT, operationName="Preview"
    )
    institutions = await by_hash(allow_list.client, document, operationName="Institutions")

    assert preview.json()["data"]["loanSchedulePreview"]["totalInterest"] == "2371.90"
    assert {"code": "alpha", "name": "alpha bank"} in institutions.json()["data"]["institutions"]


async def test_the_allow_list_runs_a_registered_document_sent_as_text(
    stack: Stack, allow_list: App, register: Register
) -> None:
    document = unique(MINI_PROGRAM)
    assert await register(document) == 0

    plain = await send(allow_list.client, {"query": document, "operationName": "Institutions"})
    apq = await with_text(allow_list.client, document, operationName="Institutions")

    assert_runs(plain)
    assert plain.json() == apq.json()


async def test_the_allow_list_refuses_any_other_text(stack: Stack, allow_list: App) -> None:
    with count_checkouts(allow_list.services) as taken:
        response = await send(allow_list.client, {"query": "{ institutions { code } }"})

    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": "Only registered operations run on this server",
                "extensions": {"code": "PERSISTED_QUERY_NOT_ALLOWED"},
            }
        ]
    }
    assert taken == ["reader"]  # the lookup, and nothing ran


async def test_under_the_allow_list_apq_cannot_add_a_document(
    stack: Stack, allow_list: App
) -> None:
    document = probe()

    assert (await by_hash(allow_list.client, document)).json() == NOT_FOUND
    sent = await with_text(allow_list.client, document)
    assert sent.status_code == 200
    assert code_of(sent) == "PERSISTED_QUERY_NOT_ALLOWED"
    assert (await by_hash(allow_list.client, document)).json() == NOT_FOUND
    assert await allow_list.services.cache.get(f"apq:{sha256(document)}") is None


async def test_under_the_allow_list_an_apq_document_of_the_cache_does_not_run(
    stack: Stack, allow_list: App
) -> None:
    document = probe()
    assert_runs(await with_text(stack.client, document))  # a server without the allow-list

    assert (await by_hash(allow_list.client, document)).json() == NOT_FOUND


async def test_a_registered_document_is_read_once_on_the_requests_connection(
    stack: Stack, allow_list: App, register: Register
) -> None:
    document = unique(MINI_PROGRAM)
    assert await register(document) == 0

    with count_checkouts(allow_list.services) as first:
        assert_runs(await by_hash(allow_list.client, document, operationName="Institutions"))
    with count_checkouts(allow_list.services) as second:
        assert_runs(await by_hash(allow_list.client, document, operationName="Institutions"))

    assert first == ["reader"]  # the document and the institutions, one checkout
    assert second == ["reader"]  # the institutions; the document is known


async def test_a_registered_document_known_to_the_process_needs_no_database(
    stack: Stack, allow_list: App, register: Register
) -> None:
    document = unique("query Key { envelopeKey { keyId } }")
    assert await register(document) == 0
    assert_runs(await by_hash(allow_list.client, document))

    with count_checkouts(allow_list.services) as taken:
        assert_runs(await by_hash(allow_list.client, document))

    assert taken == []
