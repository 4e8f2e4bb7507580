"""The API's defences, through the real stack: request limits, request ids, masked internal
errors, production mode, health checks and the language of messages."""

import base64
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from jikuai.app import create_app
from jikuai.config import Environment, Settings
from jikuai.container import build_services, load_keyring
from jikuai.persistence.tables.customers import customers
from jikuai.security import KeyRing, KeyRingError
from tests.support.stack import Stack

WECHAT_APP_ID = "wx1234567890abcdef"
WECHAT_APP_SECRET = "production-secret-0123456789"
UUID_HEX = re.compile(r"[0-9a-f]{32}")
JSCODE2SESSION = (
    "/dev/wechat/sns/jscode2session?appid=wx0000000000000000&secret=development-only"
    "&js_code=dev:someone&grant_type=authorization_code"
)
STAFF_LOGIN = """
mutation($u: String!, $p: String!) {
  staffLogin(input: {username: $u, password: $p}) { accessToken userErrors { code message } }
}
"""


def nested(levels: int) -> str:
    """`institutions { branches { institution { ... { id } } } }`, `levels` fields deep."""
    names = ["institutions", *["branches", "institution"] * levels][:levels]
    selection = "id"
    for name in reversed(names):
        selection = f"{name} {{ {selection} }}"
    return f"{{ {selection} }}"


def aliased_envelope_keys(count: int) -> str:
    return "{ " + " ".join(f"k{n}: envelopeKey {{ keyId }}" for n in range(count)) + " }"


def spread_fragments(count: int) -> str:
    """A valid document of 9 * count + 2 tokens (2000 for 222), each fragment `__typename`.

    Repeating one field 2000 times would not do: graphql-core's overlapping-fields budget
    aborts validation first.
    """
    spreads = " ".join(f"...F{n}" for n in range(count))
    fragments = " ".join(f"fragment F{n} on Query {{ __typename }}" for n in range(count))
    return f"{{ {spreads} }} {fragments}"


def body_of(size: int) -> bytes:
    """A valid GraphQL request of exactly `size` bytes (padded with JSON whitespace)."""
    request = json.dumps({"query": "{ __typename }"}).encode()
    return request + b" " * (size - len(request))


async def post_raw(stack: Stack, content: bytes, **headers: str) -> httpx.Response:
    return await stack.client.post(
        "/graphql", content=content, headers={"content-type": "application/json", **headers}
    )


@asynccontextmanager
async def app_client(settings: Settings, keyring: KeyRing | None = None) -> AsyncIterator[Any]:
    """A separate app built from `settings` (keys from disk unless given), as a server would."""
    services = build_services(settings, keyring=keyring)
    app = create_app(settings, services=services)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://jikuai.test"
        ) as client:
            yield client
    finally:
        await services.close()


@pytest.fixture(scope="module")
async def production(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """A production app over the stack's database, its key ring already on disk."""
    settings = Settings(
        env=Environment.PRODUCTION,
        data_dir=tmp_path_factory.mktemp("production"),
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_APP_SECRET,
        database_url=stack.settings.primary_database_url,
    )
    stack.services.keyring.save(settings.key_directory)
    async with app_client(settings) as client:
        yield client


# Depth, aliases, tokens


async def test_a_query_twelve_levels_deep_runs(stack: Stack) -> None:
    body = await stack.gql(nested(12))

    assert "errors" not in body
    assert len(body["data"]["institutions"]) >= 3


async def test_a_query_thirteen_levels_deep_is_refused_before_any_sql(stack: Stack) -> None:
    with stack.count_statements() as statements:
        body = await stack.gql(nested(13))

    assert body["data"] is None
    assert [error["message"] for error in body["errors"]] == [
        "'anonymous' exceeds maximum operation depth of 12"
    ]
    assert statements == []


async def test_a_far_deeper_query_is_refused(stack: Stack) -> None:
    with stack.count_statements() as statements:
        body = await stack.gql(nested(40))

    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert "exceeds maximum operation depth of 12" in body["errors"][0]["message"]
    assert statements == []


async def test_thirty_aliases_are_allowed(stack: Stack) -> None:
    body = await stack.gql(aliased_envelope_keys(30))

    assert "errors" not in body
    kid = stack.services.keyring.primary_transport_key.kid
    assert body["data"] == {f"k{n}": {"keyId": kid} for n in range(30)}


async def test_thirty_one_aliases_are_refused(stack: Stack) -> None:
    body = await stack.gql(aliased_envelope_keys(31))

    assert body["data"] is None
    assert [error["message"] for error in body["errors"]] == ["31 aliases found. Allowed: 30"]


async def test_a_document_of_two_thousand_tokens_is_allowed(stack: Stack) -> None:
    body = await stack.gql(spread_fragments(222))

    assert body == {"data": {"__typename": "Query"}}


async def test_a_document_over_two_thousand_tokens_is_refused_without_a_server_error(
    stack: Stack,
) -> None:
    response = await stack.post(spread_fragments(222).replace("{ ...F0", "{ __typename ...F0"))

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert "more than 2000 tokens" in body["errors"][0]["message"]


# The HTTP layer


async def test_a_body_at_the_limit_is_served(stack: Stack) -> None:
    response = await post_raw(stack, body_of(stack.settings.max_body_bytes))

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_body_over_the_limit_is_413_with_a_json_error(stack: Stack) -> None:
    response = await post_raw(stack, body_of(stack.settings.max_body_bytes + 1))

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    assert UUID_HEX.fullmatch(response.headers["x-request-id"])


async def test_a_streamed_body_over_the_limit_without_a_length_is_413(stack: Stack) -> None:
    chunk = b" " * 65_536
    chunks = stack.settings.max_body_bytes // len(chunk) + 1

    async def stream() -> AsyncIterator[bytes]:
        yield json.dumps({"query": "{ __typename }"}).encode()
        for _ in range(chunks):
            yield chunk

    response = await stack.client.post(
        "/graphql", content=stream(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}


async def test_a_non_numeric_content_length_is_400(stack: Stack) -> None:
    response = await post_raw(stack, b'{"query": "{ __typename }"}', **{"content-length": "abc"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.parametrize(
    "content",
    [
        b'{"query": "mutation($i: StaffLoginInput!) { staffLogin(input: $i) { accessToken } }",'
        b' "variables": {"i": {"username": "a\\u0000b", "password": "x"}}}',
        b'{"query": "{ __typename }", "variables": {"deep": [[{"k\\u0000": 1}]]}}',
    ],
    ids=["in-a-value", "in-a-key"],
)
async def test_a_nul_character_is_refused_before_it_reaches_the_database(
    stack: Stack, content: bytes
) -> None:
    response = await post_raw(stack, content)

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert "U+0000" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("escape", ["\\u0000", "\\u{0}"], ids=["u0000", "braced"])
async def test_a_nul_character_in_a_documents_own_string_is_refused(
    stack: Stack, escape: str
) -> None:
    query = 'mutation { staffLogin(input: {username: "a%sb", password: "x"}) { accessToken } }'

    body = await stack.gql(query % escape)

    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "U+0000" in error["message"]


async def test_a_document_past_the_validation_error_limit_is_refused_not_a_server_error(
    stack: Stack,
) -> None:
    fragments = [
        f"fragment F{level} on Customer {{ id "
        + " ".join(
            f"a{each}: loans {{ customer {{ id {f'...F{level + 1}' if level < 5 else 'id'} }} }}"
            for each in range(3)
        )
        + " }"
        for level in range(6)
    ]
    query = "{ customers { edges { node { ...F0 } } } } " + " ".join(fragments)

    response = await stack.post(query)

    assert response.status_code == 200, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


MALFORMED = pytest.mark.parametrize(
    "content",
    [b'{"query": "{ __typename }"', b"not json at all", b'{"variables": {}}', b"[1, 2]", b""],
    ids=["truncated", "not-json", "no-query", "json-array", "empty"],
)


@MALFORMED
async def test_a_malformed_request_is_a_client_error(stack: Stack, content: bytes) -> None:
    response = await post_raw(stack, content)

    assert 400 <= response.status_code < 500, response.text


@MALFORMED
async def test_a_malformed_request_answers_with_a_json_error(stack: Stack, content: bytes) -> None:
    response = await post_raw(stack, content)

    assert response.headers["content-type"].startswith("application/json"), (
        response.headers["content-type"],
        response.text,
    )
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["message"]


async def test_a_query_sent_by_get_is_not_executed(stack: Stack) -> None:
    with stack.count_statements() as statements:
        response = await stack.client.get("/graphql", params={"query": "{ __typename }"})

    assert response.status_code == 400
    assert "__typename" not in response.text
    assert '"data"' not in response.text
    assert statements == []


async def test_a_mutation_sent_by_get_is_not_executed(stack: Stack) -> None:
    username = f"nobody-{uuid.uuid4().hex[:8]}"
    query = (
        f'mutation {{ staffLogin(input: {{username: "{username}", password: "x"}})'
        " { accessToken } }"
    )

    with stack.count_statements() as statements:
        response = await stack.client.get("/graphql", params={"query": query})

    assert response.status_code in (400, 405)
    assert statements == []


# Request ids


async def test_every_response_carries_a_fresh_request_id(stack: Stack) -> None:
    first = await stack.post("{ __typename }")
    second = await stack.post("{ __typename }")

    assert UUID_HEX.fullmatch(first.headers["x-request-id"])
    assert UUID_HEX.fullmatch(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_safe_client_request_id_is_echoed(stack: Stack) -> None:
    response = await stack.post("{ __typename }", headers={"x-request-id": "abc-123"})

    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers.get_list("x-request-id") == ["abc-123"]


@pytest.mark.parametrize(
    "given",
    ["a" * 65, "a" * 200, "abc 123", "abc/123", "abc;123", "<script>"],
    ids=["65-chars", "200-chars", "space", "slash", "semicolon", "markup"],
)
async def test_an_unsafe_client_request_id_is_replaced(stack: Stack, given: str) -> None:
    response = await stack.post("{ __typename }", headers={"x-request-id": given})

    assert response.status_code == 200
    assert response.headers.get_list("x-request-id") != [given]
    assert UUID_HEX.fullmatch(response.headers["x-request-id"])


# Internal errors


def customer_uuid(global_id: str) -> uuid.UUID:
    """The row id behind a customer's global id (base64url of `Customer:<uuid>`)."""
    type_name, _, local = base64.urlsafe_b64decode(global_id).decode().partition(":")
    assert type_name == "Customer"
    return uuid.UUID(local)


@asynccontextmanager
async def corrupted(stack: Stack, customer_id: uuid.UUID, **garbage: bytes) -> AsyncIterator[None]:
    """Ciphertext columns of one customer overwritten in the database, then put back, so the
    shared stack's customer lists stay readable for every other test."""
    columns = [customers.c[name] for name in garbage]
    async with stack.services.database.primary.begin() as connection:
        original = (
            await connection.execute(select(*columns).where(customers.c.id == customer_id))
        ).one()
        result = await connection.execute(
            update(customers).where(customers.c.id == customer_id).values(**garbage)
        )
        assert result.rowcount == 1
    try:
        yield
    finally:
        async with stack.services.database.primary.begin() as connection:
            await connection.execute(
                update(customers)
                .where(customers.c.id == customer_id)
                .values(dict(zip(garbage, original, strict=True)))
            )


async def test_an_internal_error_is_masked_with_the_request_id(stack: Stack) -> None:
    payload = await stack.register("alpha-officer")
    global_id = payload["customer"]["id"]

    async with corrupted(
        stack, customer_uuid(global_id), name_ct=b"\x01\x00\x00\x00\x07garbage-not-a-ciphertext"
    ):
        response = await stack.post(
            "query($id: ID!) { customer(id: $id) { phoneMasked nameMasked } }",
            {"id": global_id},
            token=await stack.token("alpha-officer"),
        )

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"customer": None}
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["message"] == "Internal server error"
    assert error["path"] == ["customer"]
    assert error["extensions"] == {
        "code": "INTERNAL",
        "requestId": response.headers["x-request-id"],
    }
    for leak in ("Traceback", "Error", "Exception", "InvalidTag", "decrypt", 'File "', ".py"):
        assert leak not in response.text.replace("Internal server error", "")


async def test_an_internal_error_echoes_the_client_request_id(stack: Stack) -> None:
    payload = await stack.register("alpha-officer")
    global_id = payload["customer"]["id"]

    async with corrupted(stack, customer_uuid(global_id), phone_ct=b"\x00"):
        body = await stack.gql(
            "query($id: ID!) { customer(id: $id) { phoneMasked } }",
            {"id": global_id},
            token=await stack.token("alpha-officer"),
            headers={"x-request-id": "support-ticket-42"},
        )

    assert body["errors"][0]["extensions"] == {
        "code": "INTERNAL",
        "requestId": "support-ticket-42",
    }


async def test_a_restored_customer_reads_again(stack: Stack) -> None:
    payload = await stack.register("alpha-officer", name="李四")
    global_id = payload["customer"]["id"]
    async with corrupted(stack, customer_uuid(global_id), name_ct=b"\x00"):
        pass

    body = await stack.gql(
        "query($id: ID!) { customer(id: $id) { nameMasked } }",
        {"id": global_id},
        token=await stack.token("alpha-officer"),
    )

    assert body == {"data": {"customer": {"nameMasked": "*四"}}}


# Production and development modes


async def test_production_refuses_introspection(production: httpx.AsyncClient) -> None:
    response = await production.post("/graphql", json={"query": "{ __schema { types { name } } }"})

    body = response.json()
    assert body["data"] is None
    assert body["errors"]
    assert "introspection has been disabled" in body["errors"][0]["message"]


async def test_production_still_answers_typename_and_queries(
    production: httpx.AsyncClient, stack: Stack
) -> None:
    response = await production.post(
        "/graphql", json={"query": "{ __typename envelopeKey { keyId } }"}
    )

    assert response.json() == {
        "data": {
            "__typename": "Query",
            "envelopeKey": {"keyId": stack.services.keyring.primary_transport_key.kid},
        }
    }


async def test_production_serves_no_graphiql(production: httpx.AsyncClient) -> None:
    response = await production.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code != 200
    assert "text/html" not in response.headers.get("content-type", "")
    assert "graphiql" not in response.text.lower()


async def test_production_does_not_suggest_field_names(production: httpx.AsyncClient) -> None:
    response = await production.post("/graphql", json={"query": "{ envelopeKy { keyId } }"})

    body = response.json()
    assert body["data"] is None
    assert [error["message"] for error in body["errors"]] == [
        "Cannot query field 'envelopeKy' on type 'Query'."
    ]
    assert "Did you mean" not in response.text


async def test_production_mounts_no_wechat_standin(production: httpx.AsyncClient) -> None:
    response = await production.get(JSCODE2SESSION)

    assert response.status_code == 404


async def test_production_does_not_execute_queries_sent_by_get(
    production: httpx.AsyncClient,
) -> None:
    response = await production.get("/graphql", params={"query": "{ __typename }"})

    assert response.status_code == 400
    assert '"data"' not in response.text


async def test_development_allows_introspection(stack: Stack) -> None:
    body = await stack.gql("{ __schema { types { name } } }")

    names = {each["name"] for each in body["data"]["__schema"]["types"]}
    assert {"Query", "Mutation", "Customer", "EnvelopeKey"} <= names


async def test_development_suggests_field_names(stack: Stack) -> None:
    body = await stack.gql("{ envelopeKy { keyId } }")

    assert [error["message"] for error in body["errors"]] == [
        "Cannot query field 'envelopeKy' on type 'Query'. Did you mean 'envelopeKey'?"
    ]


async def test_development_serves_graphiql_to_a_browser(stack: Stack) -> None:
    response = await stack.client.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_a_configured_wechat_base_mounts_no_standin(stack: Stack) -> None:
    assert stack.settings.wechat_api_base is not None

    response = await stack.client.get(JSCODE2SESSION)

    assert response.status_code == 404


async def test_development_with_default_wechat_settings_mounts_the_standin(
    stack: Stack, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=stack.settings.primary_database_url)
    assert settings.uses_wechat_standin

    async with app_client(settings, stack.services.keyring) as client:
        response = await client.get(JSCODE2SESSION)

    assert response.status_code == 200
    body = response.json()
    assert body["openid"] == "someone"
    assert body["session_key"]
    assert "errcode" not in body


def test_production_refuses_to_start_without_wechat_credentials(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="JIKUAI_WECHAT_APP_ID"):
        Settings(env=Environment.PRODUCTION, data_dir=tmp_path)
    with pytest.raises(ValidationError):
        Settings(env=Environment.PRODUCTION, data_dir=tmp_path, wechat_app_id=WECHAT_APP_ID)


def test_production_refuses_to_start_without_a_key_ring(tmp_path: Path) -> None:
    settings = Settings(
        env=Environment.PRODUCTION,
        data_dir=tmp_path,
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_APP_SECRET,
    )
    settings.key_directory.mkdir(parents=True)

    with pytest.raises(KeyRingError, match="jikuai keys generate"):
        load_keyring(settings)
    with pytest.raises(KeyRingError):
        build_services(settings)

    assert list(settings.key_directory.iterdir()) == []


# Health


async def test_healthz_is_ok(stack: Stack) -> None:
    response = await stack.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database_and_the_cache(stack: Stack) -> None:
    response = await stack.client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


async def test_readyz_is_503_when_the_database_is_unreachable(stack: Stack, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none"
    )

    async with app_client(settings, stack.services.keyring) as client:
        ready = await client.get("/readyz")
        healthy = await client.get("/healthz")

    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unavailable", "cache": "ok"}
    assert healthy.status_code == 200
    assert healthy.json() == {"status": "ok"}


# Language


async def test_a_failed_login_answers_in_english_when_asked(stack: Stack) -> None:
    body = await stack.gql(
        STAFF_LOGIN,
        {"u": f"nobody-{uuid.uuid4().hex[:8]}", "p": "wrong"},
        headers={"accept-language": "en"},
    )

    assert body["data"]["staffLogin"] == {
        "accessToken": None,
        "userErrors": [{"code": "INVALID_CREDENTIALS", "message": "Wrong username or password"}],
    }


async def test_a_failed_login_answers_in_chinese_by_default(stack: Stack) -> None:
    body = await stack.gql(STAFF_LOGIN, {"u": f"nobody-{uuid.uuid4().hex[:8]}", "p": "wrong"})

    assert body["data"]["staffLogin"]["userErrors"] == [
        {"code": "INVALID_CREDENTIALS", "message": "用户名或密码错误"}
    ]


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        ("en-US,en;q=0.9", "Wrong username or password"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "用户名或密码错误"),
        ("fr-FR", "用户名或密码错误"),
    ],
)
async def test_the_preferred_language_is_the_first_known_one(
    stack: Stack, accept_language: str, message: str
) -> None:
    body = await stack.gql(
        STAFF_LOGIN,
        {"u": f"nobody-{uuid.uuid4().hex[:8]}", "p": "wrong"},
        headers={"accept-language": accept_language},
    )

    assert body["data"]["staffLogin"]["userErrors"][0]["message"] == message


@pytest.mark.parametrize(
    "payload",
    [
        {"query": "query A { __typename }", "operationName": "B"},
        {"query": ""},
    ],
    ids=["unknown-operation", "empty-query"],
)
async def test_an_operation_that_cannot_be_chosen_is_a_400(
    stack: Stack, payload: dict[str, str]
) -> None:
    response = await stack.client.post("/graphql", json=payload)

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


async def test_an_operation_sent_as_another_content_type_is_a_415(stack: Stack) -> None:
    response = await stack.client.post(
        "/graphql", content=b"{ __typename }", headers={"content-type": "application/graphql"}
    )

    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ institutions { code ", "GRAPHQL_PARSE_FAILED"),
        ("{ institutions { noSuchField } }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "query($n: Int!) { loanSchedulePreview(input: {amount: $n, termMonths: 1,"
            ' method: BULLET, annualRate: "0.04"}) { totalInterest } }',
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ],
)
async def test_a_document_that_cannot_run_has_a_stable_code(
    stack: Stack, query: str, code: str
) -> None:
    body = await stack.gql(query, {"n": 1})

    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


async def test_variables_that_do_not_fit_their_types_are_bad_user_input(stack: Stack) -> None:
    body = await stack.gql(
        'query($n: Int!) { loanSchedulePreview(input: {amount: "100", termMonths: $n,'
        ' method: BULLET, annualRate: "0.04"}) { totalInterest } }',
        {"n": "seven"},
    )

    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
