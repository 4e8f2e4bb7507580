"""A closed-loop load generator: HTTP/1.1 over keep-alive loopback connections.

Each of `concurrency` connections sends one request, waits for the whole response, and sends
the next, so the number of requests in flight is fixed. Requests are encoded in advance; the
loop only writes bytes, finds the end of the headers, reads `Content-Length` and checks the
body with a byte search. A run is bounded in time (warm-up, then the measured window), in
count (`max_requests`), and as a whole by a deadline after which unfinished connections are
cancelled.

Only requests that complete inside the measured window count: throughput is their number over
the window, latencies are theirs (from the first byte written to the last byte read).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

HOST = "127.0.0.1"
Check = Callable[[int, bytes], bool]


class ProtocolError(Exception):
    """A response this client does not read (no Content-Length, a bad status line)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    port: int
    requests: Sequence[bytes]
    check: Check
    reuse: bool = True  # False: each request is sent at most once (registrations)


@dataclass(frozen=True, slots=True)
class LoadSettings:
    concurrency: int = 32
    warmup_seconds: float = 2.0
    duration_seconds: float = 10.0
    grace_seconds: float = 10.0  # how long in-flight requests may finish after the window
    max_requests: int = 5_000_000


@dataclass(slots=True)
class LoadResult:
    name: str
    requests: int
    errors: int
    window_seconds: float
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    sent: int
    completed: int  # responses read, in the window or not, failed or not
    exhausted: bool
    unfinished: int
    loadgen_cpu_percent: float
    error_sample: str | None = None
    extra: dict[str, float] = field(default_factory=dict)


def http_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One encoded HTTP/1.1 POST with a JSON body, for a keep-alive connection."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Content-Type: application/json",
        *(f"{name}: {value}" for name, value in headers.items()),
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request outstanding."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("connection closed by the server"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        try:
            response = self._take_response()
        except ProtocolError as error:
            waiter.set_exception(error)
            return
        if response is not None:
            waiter.set_result(response)

    def _take_response(self) -> tuple[int, bytes] | None:
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(buffer[:end]).lower()
        if not head.startswith(b"http/1.1 ") or len(head) < 12:
            raise ProtocolError(f"bad status line: {head[:40]!r}")
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            raise ProtocolError("response without Content-Length")
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(buffer) < total:
            return None
        body = bytes(buffer[end + 4 : total])
        del buffer[:total]
        return int(head[9:12]), body

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        if self._transport is None or self.closed:
            raise ConnectionError("not connected")
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


@dataclass(slots=True)
class _Run:
    scenario: Scenario
    settings: LoadSettings
    measure_from: int = 0
    end: int = 0
    next_index: int = 0
    completed: int = 0
    exhausted: bool = False
    errors: int = 0
    in_window_errors: int = 0
    error_sample: str | None = None
    latencies: list[int] = field(default_factory=list)

    def next_request(self) -> bytes | None:
        index = self.next_index
        requests = self.scenario.requests
        if index >= self.settings.max_requests or (
            not self.scenario.reuse and index >= len(requests)
        ):
            self.exhausted = True
            return None
        self.next_index = index + 1
        return requests[index % len(requests)]

    def failed(self, detail: str, finished: int) -> None:
        self.errors += 1
        if self.measure_from <= finished <= self.end:
            self.in_window_errors += 1
        if self.error_sample is None:
            self.error_sample = detail[:300]


async def _connect(port: int) -> _Connection:
    loop = asyncio.get_running_loop()
    _, connection = await loop.create_connection(_Connection, HOST, port)
    return connection


async def _worker(run: _Run, connection: _Connection) -> None:
    check = run.scenario.check
    clock = time.perf_counter_ns
    try:
        while True:
            started = clock()
            if started >= run.end:
                return
            request = run.next_request()
            if request is None:
                return
            try:
                if connection.closed:
                    connection = await _connect(run.scenario.port)
                status, body = await connection.send(request)
            except (OSError, ProtocolError) as error:
                connection.close()
                run.failed(f"{type(error).__name__}: {error}", clock())
                await asyncio.sleep(0.01)  # a refused reconnect must not spin
                continue
            finished = clock()
            run.completed += 1
            if not check(status, body):
                run.failed(f"HTTP {status}: {body[:300].decode('utf-8', 'replace')}", finished)
            elif run.measure_from <= finished <= run.end:
                run.latencies.append(finished - started)
    finally:
        connection.close()


def _percentile(ordered: list[int], fraction: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1] / 1e6


async def _run(scenario: Scenario, settings: LoadSettings) -> LoadResult:
    run = _Run(scenario, settings)
    connections = await asyncio.gather(
        *(_connect(scenario.port) for _ in range(settings.concurrency))
    )
    cpu_started = time.process_time()
    start = time.perf_counter_ns()
    run.measure_from = start + int(settings.warmup_seconds * 1e9)
    run.end = run.measure_from + int(settings.duration_seconds * 1e9)
    tasks = [asyncio.create_task(_worker(run, connection)) for connection in connections]
    deadline = settings.warmup_seconds + settings.duration_seconds + settings.grace_seconds
    _, pending = await asyncio.wait(tasks, timeout=deadline)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            run.failed(f"load worker failed: {task.exception()!r}", run.end)
    window = settings.duration_seconds
    elapsed = max(1e-9, (time.perf_counter_ns() - start) / 1e9)
    cpu_percent = 100 * (time.process_time() - cpu_started) / elapsed
    ordered = sorted(run.latencies)
    return LoadResult(
        name=scenario.name,
        requests=len(ordered),
        errors=run.in_window_errors,
        window_seconds=window,
        requests_per_second=len(ordered) / window,
        p50_ms=_percentile(ordered, 0.50),
        p90_ms=_percentile(ordered, 0.90),
        p99_ms=_percentile(ordered, 0.99),
        max_ms=ordered[-1] / 1e6 if ordered else math.nan,
        sent=run.next_index,
        completed=run.completed,
        exhausted=run.exhausted,
        unfinished=len(pending),
        loadgen_cpu_percent=cpu_percent,
        error_sample=run.error_sample,
        extra={"errors_total": float(run.errors)},
    )


def run_scenario(scenario: Scenario, settings: LoadSettings) -> LoadResult:
    """Load one scenario on a fresh event loop (uvloop when installed) and return its figures."""
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(_run(scenario, settings))
