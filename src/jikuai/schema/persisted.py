"""Persisted operations: which document a request runs when it names one by its hash.

A request may carry `extensions.persistedQuery = {"version": 1, "sha256Hash": <hex>}`, Apollo's
automatic persisted queries (APQ): the hash alone runs a document the server knows; an unknown
hash is answered `PERSISTED_QUERY_NOT_FOUND`, and the client sends the text with its hash, which
is kept in the cache (Redis in production) once it has parsed and validated, so the next request
sends the hash alone.

The server also knows the documents registered with `jikuai operations register` (the
`persisted_operations` table): they run by hash too. With `JIKUAI_OPERATIONS_ALLOW_LIST` on,
they are the only ones that run, by hash or by text, and the cache stores nothing: anything else
is `PERSISTED_QUERY_NOT_ALLOWED` (an unknown hash alone is still `PERSISTED_QUERY_NOT_FOUND`, so
an APQ client sends its text, and is then refused).

A registered document never changes for its hash, so the ones found are kept in a bounded map
per process; a miss reads the database on the request's own reader connection, so a document
registered while the servers run works at once.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from graphql import GraphQLError, OperationDefinitionNode, parse

from jikuai.config import Settings
from jikuai.domain.operations.model import PersistedOperation, document_hash
from jikuai.domain.ports import Repositories
from jikuai.schema.execution import OperationRunner, UnknownOperation

ReadsProvider = Callable[[], Awaitable[Repositories]]


class DocumentCache(Protocol):
    """What APQ needs of the cache (`persistence.cache.Cache`)."""

    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, *, ttl_seconds: int) -> None: ...
    async def delete(self, key: str) -> None: ...


CACHE_KEY = "apq:"
MAX_CACHED_BYTES = 16_384  # an APQ document beyond this runs but is not kept
REGISTERED_IN_MEMORY = 1_024  # registered documents kept per process
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Document:
    """The text to run; `cache_as` is the hash to keep it under once it has prepared, when an
    APQ client sent it with its hash."""

    text: str
    cache_as: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request that runs nothing: a malformed one (400, `BAD_REQUEST`), or one asking for a
    document the server does not know or does not allow (200, so APQ clients read the code)."""

    status_code: int
    code: str
    message: str

    @property
    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def _bad_request(message: str) -> Refusal:
    return Refusal(400, "BAD_REQUEST", message)


NO_QUERY = _bad_request("No GraphQL query found in the request")
UNKNOWN_HASH = Refusal(200, NOT_FOUND, "PersistedQueryNotFound")  # Apollo's, word for word
NOT_REGISTERED = Refusal(200, NOT_ALLOWED, "Only registered operations run on this server")


class PersistedQueries:
    """Resolves a request's document; one per process."""

    def __init__(self, cache: DocumentCache, settings: Settings) -> None:
        self._cache = cache
        self._allow_list = settings.operations_allow_list
        self._ttl_seconds = int(settings.persisted_query_lifetime.total_seconds())
        self._registered: dict[str, str] = {}
        # The APQ documents this process stored, oldest first: past the limit, the oldest is
        # removed from the cache, so no one can fill it by varying a document's whitespace.
        self._stored: dict[str, None] = {}
        self._storable = settings.persisted_query_documents

    async def document(
        self, payload: Mapping[str, Any], reads: ReadsProvider
    ) -> Document | Refusal:
        """The document the request runs, or why it runs none. `reads` opens the request's
        reader connection, called only when a registered document has to be looked up."""
        sha256 = _requested_hash(payload.get("extensions"))
        if isinstance(sha256, Refusal):
            return sha256
        query = payload.get("query")
        if sha256 is None:
            return await self._by_text(query, reads)
        if query is None:
            return await self._by_hash(sha256, reads)
        return await self._with_hash(query, sha256, reads)

    async def remember(self, document: Document) -> None:
        """Keep an APQ document that prepared (parsed and validated), so its hash alone runs it;
        documents that cannot run are never stored."""
        if document.cache_as is None:
            return
        text = document.text.encode("utf-8", "surrogatepass")
        if len(text) > MAX_CACHED_BYTES:
            return
        self._stored.pop(document.cache_as, None)
        self._stored[document.cache_as] = None
        if len(self._stored) > self._storable:
            oldest = next(iter(self._stored))
            del self._stored[oldest]
            await self._cache.delete(CACHE_KEY + oldest)
        await self._cache.set(CACHE_KEY + document.cache_as, text, ttl_seconds=self._ttl_seconds)

    async def _by_text(self, query: object, reads: ReadsProvider) -> Document | Refusal:
        """A plain request: any document, or under the allow-list a registered one."""
        if not isinstance(query, str) or not query.strip():
            return NO_QUERY
        if self._allow_list:
            return await self._registered_only(query, document_hash(query), reads)
        return Document(query)

    async def _by_hash(self, sha256: str, reads: ReadsProvider) -> Document | Refusal:
        """The hash alone: a registered document, or (no allow-list) one the cache keeps."""
        text = self._registered.get(sha256)
        if text is None and not self._allow_list:
            cached = await self._cache.get(CACHE_KEY + sha256)
            if cached is not None:
                return Document(cached.decode("utf-8", "surrogatepass"))
        if text is None:
            text = await self._load_registered(sha256, reads)
        return UNKNOWN_HASH if text is None else Document(text)

    async def _with_hash(
        self, query: object, sha256: str, reads: ReadsProvider
    ) -> Document | Refusal:
        """The text and its hash, as an APQ client sends after `PERSISTED_QUERY_NOT_FOUND`."""
        if not isinstance(query, str):
            return _bad_request("`query` must be a string")
        if document_hash(query) != sha256:
            return _bad_request("provided sha does not match query")
        if self._allow_list:
            return await self._registered_only(query, sha256, reads)
        return Document(query, cache_as=sha256)

    async def _registered_only(
        self, query: str, sha256: str, reads: ReadsProvider
    ) -> Document | Refusal:
        if sha256 in self._registered or await self._load_registered(sha256, reads) is not None:
            return Document(query)
        return NOT_REGISTERED

    async def _load_registered(self, sha256: str, reads: ReadsProvider) -> str | None:
        text = await (await reads()).persisted_operations.document(sha256)
        if text is not None:
            if len(self._registered) >= REGISTERED_IN_MEMORY:
                del self._registered[next(iter(self._registered))]  # the oldest
            self._registered[sha256] = text
        return text


def _requested_hash(extensions: object) -> str | Refusal | None:
    """The hash of `extensions.persistedQuery`, None without one, or why it is malformed."""
    if extensions is None:
        return None
    if not isinstance(extensions, dict):
        return _bad_request("`extensions` must be a JSON object")
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        return _bad_request("`extensions.persistedQuery` must be a JSON object")
    version = persisted.get("version")
    if type(version) is not int or version != 1:
        return _bad_request("Unsupported persisted query version: send version 1")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        return _bad_request(
            "`sha256Hash` must be the SHA-256 of the query's UTF-8 text, 64 lowercase hex digits"
        )
    return sha256


class NotRegistrable(Exception):
    """A document that cannot be registered; the message says why."""


def registrable(
    text: str, runner: OperationRunner, *, max_tokens: int, now: datetime
) -> PersistedOperation:
    """The document as `jikuai operations register` records it, once it parses and validates as
    the server checks every request (the same rules and limits); NotRegistrable if not."""
    try:
        document = parse(text, max_tokens=max_tokens)
    except GraphQLError as error:
        raise NotRegistrable(_described(error.formatted)) from None
    operations = [
        each for each in document.definitions if isinstance(each, OperationDefinitionNode)
    ]
    names = tuple(each.name.value for each in operations if each.name is not None)
    if not operations:
        raise NotRegistrable("the document holds no operation, only fragments")
    try:
        prepared = runner.prepare(text, names[0] if names else None)
    except UnknownOperation:
        raise NotRegistrable("several anonymous operations: name them") from None
    if isinstance(prepared, dict):
        raise NotRegistrable("; ".join(_described(error) for error in prepared["errors"]))
    return PersistedOperation(
        sha256=document_hash(text), document=text, operation_names=names, registered_at=now
    )


def _described(error: Mapping[str, Any]) -> str:
    """A formatted GraphQL error as one line: where, then what."""
    where = ", ".join(
        f"line {at['line']} column {at['column']}" for at in error.get("locations") or ()
    )
    return f"{where}: {error['message']}" if where else str(error["message"])
