"""GraphQL calls made while setting up (not timed): sign in, list customers, the envelope key."""

from __future__ import annotations

from typing import Any

import httpx

ME = "query Me { me { kind role staff { username } } }"
CUSTOMER = (
    "query Customer($id: ID!) { customer(id: $id) "
    "{ id nameMasked phoneMasked idNumberMasked gender age segment createdAt } }"
)
CUSTOMERS = (
    "query Customers { customers(first: 20) { edges { cursor node "
    "{ id nameMasked phoneMasked idNumberMasked gender age segment } } "
    "pageInfo { hasNextPage endCursor } } }"
)
_LOGIN = (
    "mutation Login($username: String!, $password: String!) { staffLogin(input: "
    "{username: $username, password: $password}) { accessToken userErrors { code message } } }"
)
_CUSTOMER_IDS = (
    "query Ids($after: String) { customers(first: 100, after: $after) "
    "{ edges { node { id } } pageInfo { hasNextPage endCursor } } }"
)
_ENVELOPE_KEY = "query { envelopeKey { keyId publicKeyPem } }"


class SetupError(RuntimeError):
    """A setup call did not answer as expected."""


class Api:
    """A small synchronous GraphQL client for 127.0.0.1 only (no proxies from the environment)."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.token = token
        self._http = httpx.Client(trust_env=False, timeout=30.0)

    def close(self) -> None:
        self._http.close()

    def call(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        response = self._http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        document: dict[str, Any] = response.json()
        if response.status_code != 200 or document.get("errors"):
            raise SetupError(f"{query[:40]}…: HTTP {response.status_code} {document}")
        data: dict[str, Any] = document["data"]
        return data

    def sign_in(self, username: str, password: str) -> str:
        payload = self.call(_LOGIN, {"username": username, "password": password})["staffLogin"]
        if payload["userErrors"] or not payload["accessToken"]:
            raise SetupError(f"staffLogin of {username} failed: {payload['userErrors']}")
        self.token = str(payload["accessToken"])
        return self.token

    def customer_ids(self, *, limit: int) -> list[str]:
        """Global IDs of the customers the viewer sees, oldest first, at most `limit`."""
        ids: list[str] = []
        after: str | None = None
        for _ in range(limit // 100 + 1):
            page = self.call(_CUSTOMER_IDS, {"after": after})["customers"]
            ids += [edge["node"]["id"] for edge in page["edges"]]
            after = page["pageInfo"]["endCursor"]
            if not page["pageInfo"]["hasNextPage"] or len(ids) >= limit:
                break
        return ids[:limit]

    def customer(self, global_id: str) -> dict[str, Any]:
        return self.call(CUSTOMER, {"id": global_id})

    def envelope_key(self) -> tuple[str, str]:
        key = self.call(_ENVELOPE_KEY)["envelopeKey"]
        return str(key["keyId"]), str(key["publicKeyPem"])
