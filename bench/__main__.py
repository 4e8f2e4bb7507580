"""`python -m bench` (`make bench`): measure the GraphQL API against a hand-written endpoint.

Every setting is a flag or a `JIKUAI_BENCH_*` variable; `python -m bench --help` lists them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import api, credit, dataset, loans, performance, points, report, servers, villages
from bench.load import LoadResult, LoadSettings, Scenario, http_post, run_scenario
from jikuai.config import DEMO_PASSWORD, Settings
from jikuai.domain.shared.calendar import business_date
from jikuai.security import load_client_public_key

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/jikuai_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
HANDWRITTEN = "handwritten customer(id)"
GRAPHQL_CUSTOMER = "graphql customer(id)"
TARGET_RATIO = 0.7  # issue #7: GraphQL customer(id) at least 0.7 of the hand-written endpoint
CHECKED_CUSTOMERS = 25
CHECKED_PAGES = 3  # pages of the list checked against the hand-written endpoint


@dataclass(frozen=True, slots=True)
class Options:
    database_url: str
    redis_url: str
    duration: float
    warmup: float
    concurrency: int
    customers: int
    registrations_per_second: int
    port: int
    handwritten_port: int
    pin: bool
    keep_data: bool
    api_only: bool
    credit_only: bool
    points_only: bool
    performance_only: bool
    performance_database_url: str
    performance_redis_url: str
    reuse: bool
    explain: bool
    cold_runs: int
    warm_runs: int
    villages_only: bool
    villages_database_url: str
    villages_redis_url: str
    villages_households: int
    villages_profile: int


def _options(argv: list[str] | None) -> Options:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=env("JIKUAI_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL URL; its schema public is dropped and recreated "
        "(JIKUAI_BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=env("JIKUAI_BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        help="Redis URL (JIKUAI_BENCH_REDIS_URL)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=float(env("JIKUAI_BENCH_DURATION", "10")),
        help="measured seconds per scenario (JIKUAI_BENCH_DURATION, 10)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=float(env("JIKUAI_BENCH_WARMUP", "2")),
        help="warm-up seconds before each window (JIKUAI_BENCH_WARMUP, 2)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(env("JIKUAI_BENCH_CONCURRENCY", "32")),
        help="keep-alive connections (JIKUAI_BENCH_CONCURRENCY, 32)",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=int(env("JIKUAI_BENCH_CUSTOMERS", "2000")),
        help="customers seeded in yushu (JIKUAI_BENCH_CUSTOMERS, 2000)",
    )
    parser.add_argument(
        "--registrations-per-second",
        type=int,
        default=int(env("JIKUAI_BENCH_REGISTRATIONS_PER_SECOND", "600")),
        help="sealed registrations made per second of the scenario, the most it can measure "
        "(JIKUAI_BENCH_REGISTRATIONS_PER_SECOND, 600)",
    )
    parser.add_argument(
        "--port", type=int, default=int(env("JIKUAI_BENCH_PORT", "8791")), help="GraphQL port"
    )
    parser.add_argument(
        "--handwritten-port",
        type=int,
        default=int(env("JIKUAI_BENCH_HANDWRITTEN_PORT", "8792")),
        help="hand-written endpoint port",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        default=env("JIKUAI_BENCH_PIN", "1") == "0",
        help="do not pin the servers and the load generator to CPUs (JIKUAI_BENCH_PIN=0)",
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the temporary data folder (keys, logs)"
    )
    parser.add_argument(
        "--api-only",
        action="store_true",
        help="run only the API scenarios against the hand-written endpoints (customer(id), me, "
        "customers, the 50-customer list with loans, registerCustomer) and their ratios; no "
        "credit or points phase",
    )
    parser.add_argument(
        "--credit-only",
        action="store_true",
        help="run only the retail credit phase (submitLoanApplication, loanSchedulePreview, "
        "build_schedule); no hand-written endpoint",
    )
    parser.add_argument(
        "--points-only",
        action="store_true",
        help="run only the points redemption phase (redeemPoints by 50 merchants across 1,000 "
        "customers, then the double-spend check); no hand-written endpoint",
    )
    parser.add_argument(
        "--performance-only",
        action="store_true",
        help="run only the staff performance phase (a loan officers' scoreboard over 500 staff, "
        "200,000 customers, 300,000 loans and two years of daily facts), in its own database "
        "and Redis database",
    )
    parser.add_argument(
        "--performance-database-url",
        default=env("JIKUAI_BENCH_PERFORMANCE_DATABASE_URL", performance.DEFAULT_DATABASE_URL),
        help="PostgreSQL URL of the staff performance data; its schema public is dropped and "
        "rebuilt unless --reuse finds the data there (JIKUAI_BENCH_PERFORMANCE_DATABASE_URL)",
    )
    parser.add_argument(
        "--performance-redis-url",
        default=env("JIKUAI_BENCH_PERFORMANCE_REDIS_URL", performance.DEFAULT_REDIS_URL),
        help="Redis URL of the staff performance phase; its database is flushed before every "
        "cold run (JIKUAI_BENCH_PERFORMANCE_REDIS_URL)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --performance-only: keep the data this bench built from the migrations as they "
        "are now instead of building it again (minutes); with --villages-only: keep the roster "
        "files in a folder of their own and use them again when they were written for the same "
        "number of households",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="with --performance-only: also time the scheme's readings together and each alone, "
        "with EXPLAIN (ANALYZE, BUFFERS) of their SQL",
    )
    parser.add_argument(
        "--cold-runs", type=int, default=15, help="with --performance-only: cold runs (15)"
    )
    parser.add_argument(
        "--warm-runs", type=int, default=100, help="with --performance-only: warm runs (100)"
    )
    parser.add_argument(
        "--villages-only",
        action="store_true",
        help="run only the whole-village credit phase (a province's household rosters, one CSV "
        "file per village, imported by one process and then by two), in its own database and "
        "Redis database",
    )
    parser.add_argument(
        "--villages-database-url",
        default=env("JIKUAI_BENCH_VILLAGES_DATABASE_URL", villages.DEFAULT_DATABASE_URL),
        help="PostgreSQL URL of the whole-village credit phase; its schema public is dropped and "
        "rebuilt before each import (JIKUAI_BENCH_VILLAGES_DATABASE_URL)",
    )
    parser.add_argument(
        "--villages-redis-url",
        default=env("JIKUAI_BENCH_VILLAGES_REDIS_URL", villages.DEFAULT_REDIS_URL),
        help="Redis URL of the whole-village credit phase; its database is flushed before each "
        "import (JIKUAI_BENCH_VILLAGES_REDIS_URL)",
    )
    parser.add_argument(
        "--villages-households",
        type=int,
        default=int(env("JIKUAI_BENCH_VILLAGES_HOUSEHOLDS", str(villages.HOUSEHOLDS))),
        help="with --villages-only: households in the province; fewer make a part of it, with "
        "villages of the same size (JIKUAI_BENCH_VILLAGES_HOUSEHOLDS, 1620000)",
    )
    parser.add_argument(
        "--villages-profile",
        type=int,
        default=0,
        metavar="FILES",
        help="with --villages-only: afterwards, on a fresh database, import this many village "
        "files in this process under cProfile and print where the time went (0: no profile)",
    )
    arguments = parser.parse_args(argv)
    phases = (
        arguments.api_only,
        arguments.credit_only,
        arguments.points_only,
        arguments.performance_only,
        arguments.villages_only,
    )
    if sum(phases) > 1:
        parser.error(
            "--api-only, --credit-only, --points-only, --performance-only and --villages-only "
            "go alone"
        )
    if arguments.reuse and not (arguments.performance_only or arguments.villages_only):
        parser.error("--reuse goes with --performance-only or --villages-only")
    if arguments.explain and not arguments.performance_only:
        parser.error("--explain goes with --performance-only")
    if arguments.villages_households < 1 or arguments.villages_profile < 0:
        parser.error("at least one household, and no negative number of files to profile")
    if arguments.cold_runs < 1 or arguments.warm_runs < 1:
        parser.error("at least one cold run and one warm run")
    if arguments.duration <= 0 or arguments.warmup < 0 or arguments.concurrency < 1:
        parser.error("duration must be positive, warm-up not negative, concurrency at least 1")
    if arguments.duration + arguments.warmup > 120 or arguments.concurrency > 1024:
        parser.error("at most 120 s per scenario and 1024 connections")
    return Options(
        database_url=arguments.database_url,
        redis_url=arguments.redis_url,
        duration=arguments.duration,
        warmup=arguments.warmup,
        concurrency=arguments.concurrency,
        customers=max(1, arguments.customers),
        registrations_per_second=max(1, arguments.registrations_per_second),
        port=arguments.port,
        handwritten_port=arguments.handwritten_port,
        pin=not arguments.no_pin,
        keep_data=arguments.keep_data,
        api_only=arguments.api_only,
        credit_only=arguments.credit_only,
        points_only=arguments.points_only,
        performance_only=arguments.performance_only,
        performance_database_url=arguments.performance_database_url,
        performance_redis_url=arguments.performance_redis_url,
        reuse=arguments.reuse,
        explain=arguments.explain,
        cold_runs=arguments.cold_runs,
        warm_runs=arguments.warm_runs,
        villages_only=arguments.villages_only,
        villages_database_url=arguments.villages_database_url,
        villages_redis_url=arguments.villages_redis_url,
        villages_households=arguments.villages_households,
        villages_profile=arguments.villages_profile,
    )


def _say(message: str = "") -> None:
    print(message, flush=True)


def _clean_environment() -> dict[str, str]:
    """This environment without other `JIKUAI_*` settings, which would change what is measured."""
    ignored = sorted(
        name
        for name in os.environ
        if name.startswith("JIKUAI_") and not name.startswith("JIKUAI_BENCH_")
    )
    if ignored:
        _say(f"ignoring {', '.join(ignored)} from the environment")
    for name in ignored:
        del os.environ[name]
    return dict(os.environ)


def _run_cli(argv: list[str], env: dict[str, str]) -> None:
    _say(f"$ {servers.command_line(argv)}")
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[1:]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _same_customers(graph: api.Api, handwritten_url: str, ids: list[str]) -> int:
    """Both endpoints answer the same customer JSON for a sample of ids; the number checked."""
    step = max(1, len(ids) // CHECKED_CUSTOMERS)
    sample = ids[::step][:CHECKED_CUSTOMERS]
    headers = {"authorization": f"Bearer {graph.token}"}
    with httpx.Client(trust_env=False, timeout=30.0) as client:
        for global_id in sample:
            expected = graph.customer(global_id)
            response = client.post(handwritten_url, json={"id": global_id}, headers=headers)
            got = response.json()
            if response.status_code != 200 or got != {"data": expected}:
                raise RuntimeError(
                    "the hand-written endpoint and GraphQL disagree for "
                    f"{global_id}:\n  graphql:     {json.dumps({'data': expected})}\n"
                    f"  handwritten: {json.dumps(got)}"
                )
    return len(sample)


def _same_lists(graph: api.Api, handwritten_url: str) -> dict[str, int]:
    """Both endpoints answer the same JSON for the list with loans, its first page as the
    scenario asks for it and the pages after it; every customer of the first page has loans.
    The number of pages checked, and the first page's customers and loans."""
    headers = {"authorization": f"Bearer {graph.token}"}
    with httpx.Client(trust_env=False, timeout=30.0) as client:

        def compare(expected: dict[str, Any], body: dict[str, Any]) -> None:
            response = client.post(handwritten_url, json=body, headers=headers)
            got = response.json()
            if response.status_code != 200 or got != {"data": expected}:
                raise RuntimeError(
                    f"the hand-written endpoint and GraphQL disagree for {json.dumps(body)}:\n"
                    f"  graphql:     {json.dumps({'data': expected})}\n"
                    f"  handwritten: {json.dumps(got)}"
                )

        first = graph.call(loans.QUERY)
        compare(first, {"first": loans.PAGE})
        edges = first["customers"]["edges"]
        bare = [edge["node"]["id"] for edge in edges if not edge["node"]["loans"]]
        if len(edges) < loans.PAGE or bare:
            raise RuntimeError(
                f"the list's first page has {len(edges)} customers, {len(bare)} without loans: "
                f"expected {loans.PAGE}, each with loans"
            )
        page_info = first["customers"]["pageInfo"]
        pages = 1
        while pages < CHECKED_PAGES and page_info["hasNextPage"]:
            variables = {"first": loans.PAGE, "after": page_info["endCursor"]}
            found = graph.call(loans.PAGE_QUERY, variables)
            compare(found, variables)
            page_info = found["customers"]["pageInfo"]
            pages += 1
    return {
        "pages": pages,
        "customers": len(edges),
        "loans": sum(len(edge["node"]["loans"]) for edge in edges),
    }


def _graphql_request(
    port: int, token: str, query: str, variables: dict[str, Any] | None, operation: str | None
) -> bytes:
    document: dict[str, Any] = {"query": query}
    if variables is not None:
        document["variables"] = variables
    if operation is not None:
        document["operationName"] = operation
    body = json.dumps(document, separators=(",", ":")).encode()
    return http_post(port, "/graphql", body, {"Authorization": f"Bearer {token}"})


def _success(*patterns: bytes) -> Callable[[int, bytes], bool]:
    """A cheap check of a response: HTTP 200, no `errors`, and each pattern (JSON whitespace
    allowed between tokens) found in the body."""
    compiled = [re.compile(pattern.replace(b":", rb"\s*:\s*")) for pattern in patterns]

    def check(status: int, body: bytes) -> bool:
        return (
            status == 200
            and b'"errors"' not in body
            and all(pattern.search(body) for pattern in compiled)
        )

    return check


def _measure(scenario: Scenario, load: LoadSettings, server: servers.Server) -> LoadResult:
    gc.collect()
    before = servers.CpuSnapshot.take()
    result = run_scenario(scenario, load)
    result.extra.update(servers.CpuSnapshot.take().usage_since(before, server_pid=server.pid))
    result.extra["server_cpu_ms_per_request"] = (
        1000 * result.extra["server_cpu_seconds"] / result.completed
        if result.completed
        else math.nan
    )
    note = " (inputs ran out)" if result.exhausted else ""
    _say(
        f"  {result.name:<28} {result.requests_per_second:>9,.0f} req/s  "
        f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  "
        f"errors {result.errors}{note}"
    )
    if result.error_sample:
        _say(f"    first failure: {result.error_sample}")
    busiest = [
        f"{key.partition(':')[2]} {value:.0f}%"
        for key, value in result.extra.items()
        if key.startswith("other_cpu_percent:")
    ]
    if result.extra.get("other_cpu_percent", 0.0) >= 25:
        _say(f"    other processes took CPU meanwhile: {', '.join(busiest) or 'many small ones'}")
    return result


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    started = datetime.now(UTC)
    base_env = _clean_environment()
    pin = options.pin and servers.pinning_possible()
    _say(f"Jikuai bench, {started:%Y-%m-%d %H:%M:%S} UTC")
    if options.performance_only:
        return _bench_performance(options, started, base_env)
    if options.villages_only:
        return _bench_villages(options, started, base_env)
    one_phase = options.credit_only or options.points_only
    ports = (options.port,) if one_phase else (options.port, options.handwritten_port)
    for port in ports:
        if not servers.port_free(port):
            _say(f"bench: port {port} on 127.0.0.1 is in use (set JIKUAI_BENCH_PORT and friends)")
            return 2
    try:
        redis_version = asyncio.run(dataset.check_redis(options.redis_url))
        postgres_version = asyncio.run(dataset.reset_database(options.database_url))
    except dataset.ServiceUnavailable as error:
        _say(f"bench: {error}")
        return 2

    data_dir = Path(tempfile.mkdtemp(prefix="jikuai-bench-"))
    server_env = base_env | {
        "JIKUAI_ENV": "development",
        "JIKUAI_DATA_DIR": str(data_dir),
        "JIKUAI_DATABASE_URL": options.database_url,
        "JIKUAI_REDIS_URL": options.redis_url,
        "JIKUAI_LOG_LEVEL": "WARNING",
        "JIKUAI_ACCESS_TOKEN_MINUTES": "120",
    }
    taskset = ["taskset", "-c", str(servers.SERVER_CPU)] if pin else []
    graphql_server = servers.Server(
        "jikuai serve",
        [
            *taskset,
            servers.venv_script("jikuai"),
            "serve",
            "--host",
            servers.HOST,
            "--port",
            str(options.port),
            "--workers",
            "1",
        ],
        options.port,
        data_dir / "graphql.log",
    )
    handwritten_server = servers.Server(
        "hand-written endpoint",
        [
            *taskset,
            sys.executable,
            "-m",
            "uvicorn",
            "bench.handwritten:create_app",
            "--factory",
            "--host",
            servers.HOST,
            "--port",
            str(options.handwritten_port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        options.handwritten_port,
        data_dir / "handwritten.log",
    )
    try:
        if one_phase:
            return _bench_one_phase(
                options,
                started=started,
                env=server_env,
                pin=pin,
                graphql_server=graphql_server,
                versions={"postgresql": postgres_version, "redis": redis_version},
            )
        return _bench(
            options,
            started=started,
            env=server_env,
            data_dir=data_dir,
            pin=pin,
            graphql_server=graphql_server,
            handwritten_server=handwritten_server,
            versions={"postgresql": postgres_version, "redis": redis_version},
        )
    except RuntimeError as error:
        _say(f"\nbench failed: {error}")
        if graphql_server.process is not None:
            _say(f"graphql server log ({graphql_server.log_path}):\n{graphql_server.log_tail()}")
        return 1
    finally:
        handwritten_server.stop()
        graphql_server.stop()
        if options.keep_data:
            _say(f"data folder kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _bench(
    options: Options,
    *,
    started: datetime,
    env: dict[str, str],
    data_dir: Path,
    pin: bool,
    graphql_server: servers.Server,
    handwritten_server: servers.Server,
    versions: dict[str, str],
) -> int:
    jikuai = servers.venv_script("jikuai")
    _say("\n## Setup")
    _run_cli([jikuai, "keys", "generate"], env)
    _run_cli([jikuai, "db", "upgrade"], env)
    _run_cli([jikuai, "seed", "demo"], env)
    settings = _settings(options, data_dir)
    seconds = asyncio.run(dataset.seed_customers(settings, options.customers))
    _say(f"seeded {options.customers} customers in {dataset.INSTITUTION} in {seconds:.1f} s")
    seeded = asyncio.run(loans.prepare(settings))
    _say(
        f"lent to the first {seeded.customers} customers {dataset.OFFICER} sees: {seeded.loans} "
        f"loans of {loans.PRODUCT_CODE} in {seeded.seconds:.1f} s"
    )
    prepared = None
    if not options.api_only:
        asyncio.run(credit.prepare(settings))  # after the crowd: its applicants are the last ones
        prepared = _prepare_points(options, settings)

    for server in (graphql_server, handwritten_server):
        _say(f"$ {servers.command_line(server.argv)}")
        server.start(env, ROOT)
    for server in (graphql_server, handwritten_server):
        server.wait_healthy()
    if pin:
        servers.pin_this_process()

    graph = api.Api(options.port)
    try:
        token = graph.sign_in(dataset.OFFICER, DEMO_PASSWORD)
        ids = graph.customer_ids(limit=options.customers + 10)
        if len(ids) < options.customers:
            raise RuntimeError(f"{dataset.OFFICER} sees {len(ids)} customers, expected more")
        handwritten_url = f"http://{servers.HOST}:{options.handwritten_port}/customer"
        checked = _same_customers(graph, handwritten_url, ids)
        _say(f"correctness: both endpoints return the same customer JSON for {checked} ids")
        lists = _same_lists(
            graph, f"http://{servers.HOST}:{options.handwritten_port}/customers-with-loans"
        )
        _say(
            f"correctness: both endpoints return the same JSON for {lists['pages']} pages of "
            f"{loans.PAGE} customers with loans; the first page has {lists['customers']} "
            f"customers and {lists['loans']} loans"
        )
        kid, pem = graph.envelope_key()
    finally:
        graph.close()

    load = LoadSettings(
        concurrency=options.concurrency,
        warmup_seconds=options.warmup,
        duration_seconds=options.duration,
    )
    auth = {"Authorization": f"Bearer {token}"}
    handwritten_requests = [
        http_post(
            options.handwritten_port,
            "/customer",
            json.dumps({"id": global_id}).encode(),
            auth,
        )
        for global_id in ids
    ]
    customer_requests = [
        _graphql_request(options.port, token, api.CUSTOMER, {"id": global_id}, "Customer")
        for global_id in ids
    ]
    list_page = json.dumps({"first": loans.PAGE}).encode()
    handwritten_list = [
        http_post(options.handwritten_port, "/customers-with-loans", list_page, auth)
    ]
    graphql_list = [_graphql_request(options.port, token, loans.QUERY, None, "CustomersWithLoans")]
    list_check = _success(rb'"loans":\[\s*\{', rb'"hasNextPage":true')

    def handwritten() -> Scenario:
        return Scenario(
            HANDWRITTEN,
            options.handwritten_port,
            handwritten_requests,
            _success(rb'"customer":\{'),
        )

    plans: list[tuple[Callable[[], Scenario], servers.Server]] = [
        (handwritten, handwritten_server),
        (
            lambda: Scenario(
                GRAPHQL_CUSTOMER,
                options.port,
                customer_requests,
                _success(rb'"customer":\{\s*"id"'),
            ),
            graphql_server,
        ),
        (
            lambda: Scenario(
                "graphql me",
                options.port,
                [_graphql_request(options.port, token, api.ME, None, "Me")],
                _success(rb'"me":\{'),
            ),
            graphql_server,
        ),
        (
            lambda: Scenario(
                "graphql customers(first: 20)",
                options.port,
                [_graphql_request(options.port, token, api.CUSTOMERS, None, "Customers")],
                _success(rb'"edges":\[\s*\{'),
            ),
            graphql_server,
        ),
        (
            lambda: Scenario(
                loans.HANDWRITTEN, options.handwritten_port, handwritten_list, list_check
            ),
            handwritten_server,
        ),
        (
            lambda: Scenario(loans.GRAPHQL, options.port, graphql_list, list_check),
            graphql_server,
        ),
        (
            lambda: _registrations(options, token, kid, pem),
            graphql_server,
        ),
        (handwritten, handwritten_server),
    ]

    _print_setup(options, pin, env, graphql_server, handwritten_server, versions)
    _say("\n## Runs")
    _warn_if_busy()
    gc.freeze()
    results = []
    for make, server in plans:
        scenario = make()
        results.append(_measure(scenario, load, server))
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(f"{server.name} died:\n{server.log_tail()}")
    results[-1].name = f"{HANDWRITTEN} (again)"
    phases: dict[str, Any] = {}
    if prepared is not None:
        phases["credit"] = _credit_phase(options, load, graphql_server)
        phases["points"] = _points_phase(options, settings, graphql_server, prepared)
    server_settings = {name: value for name, value in env.items() if name.startswith("JIKUAI_")}
    return _conclude(
        options,
        started,
        pin,
        results,
        graphql_server,
        handwritten_server,
        versions,
        server_settings,
        seeded.document() | {"checked": lists},
        phases,
    )


def _bench_one_phase(
    options: Options,
    *,
    started: datetime,
    env: dict[str, str],
    pin: bool,
    graphql_server: servers.Server,
    versions: dict[str, str],
) -> int:
    """`--credit-only` or `--points-only`: a fresh database with the demo data and that phase's
    own setup, `jikuai serve`, the phase."""
    jikuai = servers.venv_script("jikuai")
    _say("\n## Setup")
    _run_cli([jikuai, "keys", "generate"], env)
    _run_cli([jikuai, "db", "upgrade"], env)
    _run_cli([jikuai, "seed", "demo"], env)
    settings = _settings(options, Path(env["JIKUAI_DATA_DIR"]))
    prepared = _prepare_points(options, settings) if options.points_only else None
    if prepared is None:
        asyncio.run(credit.prepare(settings))
    _say(f"$ {servers.command_line(graphql_server.argv)}")
    graphql_server.start(env, ROOT)
    graphql_server.wait_healthy()
    if pin:
        servers.pin_this_process()
    load = LoadSettings(
        concurrency=options.concurrency,
        warmup_seconds=options.warmup,
        duration_seconds=options.duration,
    )
    environment = report.environment(**versions)
    _say("\n## Environment")
    _say(f"cpu: {environment['cpu_model']} x {environment['cpus_online']}")
    _say(f"python {environment['python']}, kernel {environment['kernel']}")
    _say(f"postgresql {versions['postgresql']}, redis {versions['redis']}")
    _say(f"pinning: {'applied' if pin else 'NOT applied'}")
    _say(f"graphql: {servers.command_line(graphql_server.argv)}")
    concurrency = options.concurrency if prepared is None else points.MERCHANTS
    _say(
        f"load: closed loop, {concurrency} keep-alive HTTP/1.1 connections, "
        f"{options.warmup:g} s warm-up + {options.duration:g} s measured per scenario"
    )
    if prepared is not None:
        phase = "points", _points_phase(options, settings, graphql_server, prepared)
    else:
        phase = "credit", _credit_phase(options, load, graphql_server)
    document = {
        "started_at": started.isoformat(),
        "environment": report.environment(**versions, pinning=pin),
        "commands": {
            "graphql": graphql_server.argv,
            "bench": [sys.executable, "-m", "bench", *(sys.argv[1:])],
            "server_settings": {
                name: value for name, value in env.items() if name.startswith("JIKUAI_")
            },
        },
        "load": {
            "concurrency": concurrency,
            "warmup_seconds": options.warmup,
            "duration_seconds": options.duration,
            "closed_loop": True,
        },
        phase[0]: phase[1],
    }
    path = report.save(RESULTS, started, document)
    _say(f"\nresults saved to {path.relative_to(ROOT)}")
    return 0


def _bench_performance(options: Options, started: datetime, base_env: dict[str, str]) -> int:
    """`--performance-only`: the staff performance data (built, or reused with `--reuse`),
    then the loan officers' scoreboard of the last complete month and of the open one, cold and
    warm, in this process and over HTTP; with `--explain`, the readings together and alone."""
    if not servers.port_free(options.port):
        _say(f"bench: port {options.port} on 127.0.0.1 is in use (set JIKUAI_BENCH_PORT)")
        return 2
    code = _code_version()  # before the build, which takes minutes
    _say(f"code: {code}")
    _say("\n## Staff performance: data")
    try:
        redis_version = asyncio.run(dataset.check_redis(options.performance_redis_url))
        data = performance.prepare(options.performance_database_url, reuse=options.reuse, say=_say)
    except dataset.ServiceUnavailable as error:
        _say(f"bench: {error}")
        return 2
    survey = asyncio.run(performance.survey(data.database_url))
    _print_performance_data(options, data, survey, redis_version)

    _say("\n## Staff performance: scoreboard")
    series = performance.Series(
        data,
        options.performance_redis_url,
        cold_runs=options.cold_runs,
        warm_runs=options.warm_runs,
    )
    _warn_if_busy()
    timings, boards = asyncio.run(performance.measure_service(data, series))
    data_dir = Path(tempfile.mkdtemp(prefix="jikuai-bench-"))
    try:
        timings += _performance_http(options, data, series, base_env, data_dir)
    except RuntimeError as error:
        _say(f"\nbench failed: {error}")
        return 1
    finally:
        if options.keep_data:
            _say(f"data folder kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    _say("")
    _say(performance.timings_table(timings))
    _say(
        "\ncold: the institution's cache generation moved on before each run (as new facts "
        "move it), after a first run not counted (PostgreSQL's shared buffers, "
        f"{survey.settings['shared_buffers']}, and the OS page cache warm); warm: the same call "
        "again, the board cached. A scoreboard computes its month and reads the month before "
        "(for the change of rank): computed while that month is open, its snapshot once closed."
    )
    for board in boards:
        _say(
            f"\n{board.period.name}, as of {board.as_of}: {len(board.results)} loan officers "
            "scored (medians across them)"
        )
        _say(performance.indicators_table(board))
    readings = []
    if options.explain:
        _say("\n## Staff performance: the readings together and alone, slowest first")
        readings = asyncio.run(performance.explain(data))
        _say(performance.readings_table(readings))
        _say(
            "\nread ms: `SqlPerformanceRepository.read` of the month's readings together (as "
            f"`compute` reads them) or of one alone, median of {performance.EXPLAIN_REPEATS}; "
            "SQL, planning and JIT ms and buffers: from EXPLAIN (ANALYZE, BUFFERS) of each "
            "statement it ran, summed; the plans are in the results file."
        )
    document = {
        "started_at": started.isoformat(),
        "environment": report.environment(
            postgresql=survey.version, redis=redis_version, settings=survey.settings
        ),
        "commands": {"bench": [sys.executable, "-m", "bench", *(sys.argv[1:])]},
        "code": code,
        "performance": {
            "data": {
                "database_url": data.database_url,
                "last_day": data.last_day.isoformat(),
                "today": data.today.isoformat(),
                "built_at": data.built_at,
                "build_seconds": data.build_seconds,
                "build_steps_seconds": data.steps,
                "reused": data.reused,
                "tables": [
                    {"table": name, "rows": rows, "bytes": size}
                    for name, rows, size in survey.tables
                ],
            },
            "scheme": performance.scheme_document(),
            "timings": [timing.document() for timing in timings],
            "readings": [performance.reading_document(each) for each in readings],
        },
    }
    path = report.save(RESULTS, started, document)
    _say(f"\nresults saved to {path.relative_to(ROOT)}")
    return 0


def _code_version() -> str:
    """The commit measured, and whether the working tree differs from it."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def _print_performance_data(
    options: Options, data: performance.Dataset, survey: performance.Survey, redis_version: str
) -> None:
    how = "reused (--reuse)" if data.reused else "built now"
    _say(f"database: {data.database_url}, PostgreSQL {survey.version}; {how}")
    _say(
        "server settings: "
        + ", ".join(f"{name}={value}" for name, value in survey.settings.items())
    )
    _say(f"redis {redis_version}: {options.performance_redis_url}")
    _say(
        f"facts up to {data.last_day}; scoreboards asked for on {data.today}: "
        f"{data.complete_month} (complete) and {data.open_month} (open)"
    )
    _say("")
    _say(survey.table())
    _say(f"\nbuilt {data.built_at} in {data.build_seconds:.0f} s:\n")
    _say("| step | seconds |\n| --- | ---: |")
    for name, seconds in data.steps.items():
        _say(f"| {name} | {seconds:.1f} |")


def _performance_http(
    options: Options,
    data: performance.Dataset,
    series: performance.Series,
    base_env: dict[str, str],
    data_dir: Path,
) -> list[performance.Timing]:
    """`performanceScoreboard` through `jikuai serve` (one worker, not pinned) on the same
    data and Redis database."""
    env = base_env | {
        "JIKUAI_ENV": "development",
        "JIKUAI_DATA_DIR": str(data_dir),
        "JIKUAI_DATABASE_URL": data.database_url,
        "JIKUAI_REDIS_URL": options.performance_redis_url,
        "JIKUAI_LOG_LEVEL": "WARNING",
        "JIKUAI_ACCESS_TOKEN_MINUTES": "120",
    }
    jikuai = servers.venv_script("jikuai")
    _run_cli([jikuai, "keys", "generate"], env)
    server = servers.Server(
        "jikuai serve",
        [jikuai, "serve", "--host", servers.HOST, "--port", str(options.port), "--workers", "1"],
        options.port,
        data_dir / "graphql.log",
    )
    _say(f"$ {servers.command_line(server.argv)}")
    try:
        server.start(env, ROOT)
        server.wait_healthy()
        if business_date(datetime.now(UTC)) != data.today:
            _say(
                f"  note: the server's today is {business_date(datetime.now(UTC))}, the data's "
                f"{data.today}: over HTTP the open month is read as of the server's today"
            )
        return performance.measure_http(data, series, options.port, server.pid)
    except (RuntimeError, api.SetupError) as error:
        raise RuntimeError(f"{error}\n{server.log_tail()}") from error
    finally:
        server.stop()


def _bench_villages(options: Options, started: datetime, base_env: dict[str, str]) -> int:
    """`--villages-only`: the province's roster files (written, or reused with `--reuse`), then
    on a fresh database each time their import by one process and by two, each checked against
    the files, then a sample imported again, which must change nothing."""
    code = _code_version()
    sources = villages.source_digest()
    _say(f"code: {code}, sources {sources}")
    plan = villages.province(options.villages_households)
    _say("\n## Whole-village credit: the province")
    _say(
        f"{len(plan.members)} institutions, {plan.branches} branches, {len(plan.villages):,} "
        f"villages, {plan.households:,} households (seed {plan.seed!r})"
    )
    try:
        redis_version = asyncio.run(dataset.check_redis(options.villages_redis_url))
        postgres_version = asyncio.run(dataset.reset_database(options.villages_database_url))
    except dataset.ServiceUnavailable as error:
        _say(f"bench: {error}")
        return 2
    server = asyncio.run(villages.server_settings(options.villages_database_url))
    _say(
        f"PostgreSQL {postgres_version}: "
        + ", ".join(f"{name}={value}" for name, value in server.items())
        + f"; Redis {redis_version}"
    )
    folder = (
        villages.kept_folder(plan)
        if options.reuse
        else Path(tempfile.mkdtemp(prefix="jikuai-bench-villages-"))
    )
    data_dir = Path(tempfile.mkdtemp(prefix="jikuai-bench-"))
    try:
        rosters = villages.rosters(
            plan, folder, reuse=options.reuse, today=business_date(datetime.now(UTC)), say=_say
        )
        _print_rosters(rosters)
        measured = _villages_runs(options, plan, rosters, base_env, data_dir)
    except RuntimeError as error:
        _say(f"\nbench failed: {error}")
        return 1
    finally:
        for kept, path in (
            (options.keep_data, data_dir),
            (options.keep_data or options.reuse, folder),
        ):
            if kept:
                _say(f"folder kept: {path}")
            else:
                shutil.rmtree(path, ignore_errors=True)
    sources_after = villages.source_digest()
    if sources_after != sources:
        _say(
            f"\nwarning: the project's sources changed during the run ({sources} then "
            f"{sources_after}): each import ran the code of the moment it started"
        )
    document = {
        "started_at": started.isoformat(),
        "environment": report.environment(
            postgresql=postgres_version, redis=redis_version, settings=server
        ),
        "commands": {"bench": [sys.executable, "-m", "bench", *(sys.argv[1:])]},
        "code": code,
        "sources": {"before": sources, "after": sources_after},
        "villages": {
            "database_url": options.villages_database_url,
            "redis_url": options.villages_redis_url,
            "province": {
                "seed": plan.seed,
                "institutions": len(plan.members),
                "branches": plan.branches,
                "villages": len(plan.villages),
                "households": plan.households,
            },
            "files": {
                "count": len(rosters.files),
                "rows": rosters.rows,
                "bad_rows": rosters.bad,
                "bytes": rosters.bytes,
                "write_seconds": rosters.seconds,
                "written_on": rosters.made_on.isoformat(),
                "reused": rosters.reused,
            },
            **measured,
        },
    }
    path = report.save(RESULTS, started, document)
    _say(f"\nresults saved to {path.relative_to(ROOT)}")
    return 0


def _print_rosters(rosters: villages.Rosters) -> None:
    how = (
        f"reused (--reuse), written on {rosters.made_on} in {rosters.seconds:.1f} s"
        if rosters.reused
        else f"written in {rosters.seconds:.1f} s (untimed)"
    )
    _say(
        f"files: {len(rosters.files):,} CSV files, {rosters.rows:,} rows, {rosters.bad:,} of them "
        f"bad on purpose ({', '.join(villages.FAULTS)}: one fault a row), "
        f"{rosters.bytes / 2**20:,.1f} MiB in {rosters.directory}; {how}"
    )


def _villages_runs(
    options: Options,
    plan: villages.Province,
    rosters: villages.Rosters,
    base_env: dict[str, str],
    data_dir: Path,
) -> dict[str, Any]:
    """The timed imports, each on a fresh database, their checks, the import again of a
    sample, and with `--villages-profile` a profile; what the results file keeps of them."""
    env = base_env | {
        "JIKUAI_ENV": "development",
        "JIKUAI_DATA_DIR": str(data_dir),
        "JIKUAI_DATABASE_URL": options.villages_database_url,
        "JIKUAI_REDIS_URL": options.villages_redis_url,
        "JIKUAI_LOG_LEVEL": "WARNING",
    }
    settings = Settings(
        data_dir=data_dir,
        database_url=options.villages_database_url,
        redis_url=options.villages_redis_url,
        log_level="WARNING",
    )
    _run_cli([servers.venv_script("jikuai"), "keys", "generate"], env)
    runs: list[villages.Run] = []
    checks: list[villages.Held] = []
    for processes in (1, 2):
        name = f"{processes} process{'es' if processes > 1 else ''}"
        _say(f"\n## Whole-village credit: every file, {name}")
        _fresh_villages_database(options, plan, env, settings)
        _warn_if_busy()
        run = villages.import_files(
            settings, rosters.files, name=name, processes=processes, say=_say
        )
        _print_run(run)
        held = asyncio.run(villages.held(options.villages_database_url, rosters.files, run))
        _print_held(held)
        runs.append(run)
        checks.append(held)

    _say("\n## Whole-village credit: a sample of the files again")
    again_files = villages.sample(rosters.files)
    codes = [each.village_code for each in again_files]
    before = asyncio.run(villages.fingerprint(options.villages_database_url, codes))
    again = villages.import_files(settings, again_files, name="again", processes=1, say=_say)
    after = asyncio.run(villages.fingerprint(options.villages_database_url, codes))
    _print_run(again)
    valid = sum(each.valid for each in again_files)
    bad = sum(each.bad for each in again_files)
    nothing_changed = (
        again.total("unchanged") == valid
        and again.total("inserted") == again.total("updated") == 0
        and again.total("refused") == bad
        and before == after
    )
    _say(
        f"{len(again_files)} files, {again.total('rows'):,} rows: {again.total('unchanged'):,} "
        f"unchanged (valid rows {valid:,}), {again.total('inserted')} inserted, "
        f"{again.total('updated')} updated, {again.total('refused')} refused (bad rows {bad}); "
        f"the sample's households, screenings and whitelist entries "
        f"{'the same' if before['sample_digest'] == after['sample_digest'] else 'CHANGED'} "
        f"({after['sample_households']:,} households), row counts "
        f"{'the same' if before == after else f'{before} then {after}'}: "
        f"{'PASS' if nothing_changed else 'FAIL'}"
    )

    profiled = ""
    if options.villages_profile:
        _say(f"\n## Whole-village credit: profile of {options.villages_profile} files, in-process")
        _fresh_villages_database(options, plan, env, settings)
        profiled = villages.profile(settings, rosters.files[: options.villages_profile])
        _say(profiled)

    _say("\n## Whole-village credit: results\n")
    _say(villages.runs_table([*runs, again]))
    fastest = max(runs, key=lambda run: run.rows_per_second)
    fast = fastest.rows_per_second >= villages.TARGET_ROWS_PER_SECOND
    sound = all(held.passed for held in checks) and nothing_changed
    _say(
        f"\n{rosters.rows:,} rows: "
        + ", ".join(f"{run.rows_per_second:,.0f} rows/s with {run.name}" for run in runs)
        + f"; target >= {villages.TARGET_ROWS_PER_SECOND:,} rows/s "
        f"(the province in under {villages.TARGET_SECONDS} s): {'PASS' if fast else 'FAIL'}; "
        f"checks against the files and the second import: {'PASS' if sound else 'FAIL'}"
    )
    return {
        "runs": [run.document() for run in runs],
        "checks": [held.document() for held in checks],
        "again": {
            "files": codes,
            **again.document(),
            "before": before,
            "after": after,
            "nothing_changed": nothing_changed,
        },
        "profile": profiled,
        "target_rows_per_second": villages.TARGET_ROWS_PER_SECOND,
        "rows_per_second_pass": fast,
        "checks_pass": sound,
    }


def _fresh_villages_database(
    options: Options, plan: villages.Province, env: dict[str, str], settings: Settings
) -> None:
    """The phase's database emptied and migrated, its Redis database flushed, the province's
    institutions, villages, staff and products seeded."""
    asyncio.run(dataset.reset_database(options.villages_database_url))
    _run_cli([servers.venv_script("jikuai"), "db", "upgrade"], env)
    asyncio.run(villages.flush_redis(options.villages_redis_url))
    seconds = asyncio.run(villages.seed(settings, plan))
    _say(
        f"seeded {len(plan.members)} institutions with {plan.branches} branches, "
        f"{len(plan.villages):,} villages, their staff and {villages.PRODUCT_CODE} in "
        f"{seconds:.1f} s (untimed)"
    )


def _print_run(run: villages.Run) -> None:
    for share in run.shares:
        peaks = ", ".join(
            f"{kib / 1024:,.0f} after {files:,} files" for files, kib in share.rss_peaks_kib
        )
        _say(
            f"  process {share.pid}: {share.files:,} files, {share.rows:,} rows in "
            f"{share.finished - share.started:.1f} s, CPU {share.cpu_seconds:.1f} s; peak RSS "
            f"MiB: {share.rss_before_kib / 1024:,.0f} before the first file, {peaks}"
        )
    _say(
        f"{run.name}: {run.total('rows'):,} rows in {run.wall_seconds:.1f} s, "
        f"{run.rows_per_second:,.0f} rows/s; importers' CPU {run.importer_cpu_seconds:.1f} s, "
        f"PostgreSQL's {run.postgres_cpu_seconds:.1f} s; CPUs {run.busy_percent:.0f}% busy; "
        f"peak RSS {run.peak_rss_kib / 1024:,.0f} MiB"
    )
    if run.others_cpu_percent >= 25:
        names = [key.partition(":")[2] for key in run.usage if key.startswith("other_cpu_percent:")]
        _say(
            f"  warning: other processes ({', '.join(names)}) took {run.others_cpu_percent:.0f}% "
            "of a CPU meanwhile; the figures are low"
        )


def _print_held(held: villages.Held) -> None:
    for check in held.checks:
        found = f"{check.found:,}" if isinstance(check.found, int) else str(check.found)
        _say(f"  {'PASS' if check.passed else 'FAIL'} {check.what}: {found}")
    for outcome, count, score, limits in held.outcomes:
        mean = f", mean score {score:.0f}" if score is not None else ""
        line = f", lines of {limits:,.0f} CNY, {limits / count:,.0f} on average" if limits else ""
        _say(f"  {outcome}: {count:,} households{mean}{line}")
    _say("  pre-approved by grade: " + ", ".join(f"{g} {n:,}" for g, n in held.grades))
    _say("  declined, the commonest reasons: " + "; ".join(f"{r} {n:,}" for r, n in held.reasons))
    tables = ", ".join(f"{name} {size / 2**20:,.0f} MiB" for name, _, size in held.tables)
    _say(f"  database {held.database_bytes / 2**20:,.0f} MiB; largest tables: {tables}")


def _credit_phase(
    options: Options, load: LoadSettings, graphql_server: servers.Server
) -> dict[str, Any]:
    """Retail credit: automatic `submitLoanApplication`, `loanSchedulePreview` of 360 months
    over HTTP, and `build_schedule` of 360 months in-process. Needs `jikuai seed demo`."""
    _say("\n## Retail credit")
    try:
        found = credit.fixture(options.port, DEMO_PASSWORD)
    except api.SetupError as error:
        raise RuntimeError(f"credit setup: {error}") from error
    _say(f"{len(found.customer_ids)} applicants, product {credit.PRODUCT_CODE} {found.product_id}")
    _warn_if_busy()
    submit_requests = [
        _graphql_request(
            options.port, found.token, credit.SUBMIT_QUERY, found.submit_variables(each), "Submit"
        )
        for each in found.customer_ids
    ]
    preview = Scenario(
        credit.PREVIEW,
        options.port,
        [_graphql_request(options.port, found.token, credit.PREVIEW_QUERY, None, "Preview")],
        _success(rb'"totalInterest":"'),
    )
    results = []
    for concurrency in credit.sweep(load.concurrency):
        submit_scenario = Scenario(
            f"{credit.SUBMIT} x{concurrency}",
            options.port,
            submit_requests,
            _success(rb'"state":"APPROVED"', rb'"userErrors":\[\s*\]'),
        )
        results.append(
            _measure(submit_scenario, replace(load, concurrency=concurrency), graphql_server)
        )
        _check_alive(graphql_server)
    results.append(_measure(preview, load, graphql_server))
    _check_alive(graphql_server)
    schedule = credit.time_schedule()
    _say(
        f"  build_schedule, 360 months (in-process, timeit): {schedule['median_us']:,.0f} µs "
        f"median of {schedule['repeats']:.0f} repeats (best {schedule['best_us']:,.0f} µs)"
    )
    _say("")
    _say(report.table(results))
    submits = results[:-1]
    within = [
        concurrency
        for concurrency, result in zip(credit.sweep(load.concurrency), submits, strict=True)
        if result.errors == 0 and result.p99_ms < credit.TARGET_P99_MS
    ]
    submit = submits[credit.sweep(load.concurrency).index(credit.DESIGN_CONCURRENCY)]
    passed = submit.errors == 0 and submit.p99_ms < credit.TARGET_P99_MS
    _say(
        f"\nsubmitLoanApplication (automatic) at {credit.DESIGN_CONCURRENCY} concurrent requests: "
        f"p99 {submit.p99_ms:.2f} ms, target < {credit.TARGET_P99_MS:g} ms: "
        f"{'PASS' if passed else 'FAIL'}; p99 under target up to "
        f"{max(within, default=0)} concurrent requests on one worker"
    )
    return {
        "applicants": len(found.customer_ids),
        "product_code": credit.PRODUCT_CODE,
        "product_id": found.product_id,
        "submit_variables": found.submit_variables(found.customer_ids[0]),
        "results": [report.result_document(result) for result in results],
        "build_schedule_360_months": schedule,
        "target_submit_p99_ms": credit.TARGET_P99_MS,
        "design_concurrency": credit.DESIGN_CONCURRENCY,
        "submit_p99_ms": submit.p99_ms,
        "submit_p99_pass": passed,
        "submit_p99_under_target_up_to_concurrency": max(within, default=0),
    }


def _prepare_points(options: Options, settings: Settings) -> points.Prepared:
    """The points phase's programme, merchants, cashiers, customers and their points."""
    try:
        prepared = asyncio.run(points.prepare(settings, seconds=options.warmup + options.duration))
    except api.SetupError as error:
        raise RuntimeError(f"points setup: {error}") from error
    covered = prepared.covered
    _say(
        f"points: {len(prepared.cashiers)} merchants with a cashier each, "
        f"{len(prepared.customer_ids)} customers whose points cover {min(covered)} to "
        f"{max(covered)} redemptions of {points.POINTS} ({sum(covered):,} in all), in "
        f"{dataset.INSTITUTION} in {prepared.seconds:.1f} s"
    )
    return prepared


def _points_phase(
    options: Options,
    settings: Settings,
    graphql_server: servers.Server,
    prepared: points.Prepared,
) -> dict[str, Any]:
    """Points redemption: 50 merchants' tills redeem across 1,000 customers at once, then the
    double-spend check over the same run. Needs `points.prepare`."""
    _say("\n## Points redemption")
    try:
        tokens = points.sign_in_cashiers(options.port, prepared.cashiers)
    except api.SetupError as error:
        raise RuntimeError(f"points setup: {error}") from error
    load = LoadSettings(
        concurrency=points.MERCHANTS,
        warmup_seconds=options.warmup,
        duration_seconds=options.duration,
    )
    longest = load.warmup_seconds + load.duration_seconds + load.grace_seconds
    if longest + 5 > points.CODE_LIFETIME_SECONDS:
        _say(
            f"  warning: codes live {points.CODE_LIFETIME_SECONDS:g} s and the scenario may "
            f"last {longest:g} s: late requests will find their codes expired"
        )
    order = points.code_order(prepared.blocks)
    _warn_if_busy()
    began = time.perf_counter()
    codes = asyncio.run(points.issue_codes(settings, prepared, order))
    requests = points.Redemptions(options.port, tokens, codes, order)
    _say(
        f"  (made {len(codes):,} codes with create_code in {time.perf_counter() - began:.1f} s, "
        f"{points.BLOCK} in a row per customer; {len(tokens)} cashiers signed in; untimed)"
    )
    scenario = Scenario(points.SCENARIO, options.port, requests, requests.check, reuse=False)
    result = _measure(scenario, load, graphql_server)
    _check_alive(graphql_server)
    window = requests.window_counts(load.warmup_seconds, load.duration_seconds)
    seconds = load.duration_seconds
    redeemed = window[points.REDEEMED] / seconds
    refused = window[points.REFUSED] / seconds
    attempts = redeemed + refused
    errors = window[points.FAILED]
    cpu_seconds = result.extra.get("server_cpu_seconds", math.nan)
    total_redeemed = sum(requests.redeemed)
    cpu_ms_per_redemption = 1000 * cpu_seconds / total_redeemed if total_redeemed else math.nan
    ledger = asyncio.run(
        points.check_ledger(
            settings, prepared, requests, sent=result.sent, unfinished=result.unfinished
        )
    )
    _say("")
    _say(report.table([result]))
    fast = redeemed >= points.TARGET_REDEMPTIONS_PER_SECOND and errors == 0
    sound = ledger["double_spend_total"] == 0
    _say(
        f"\nredemptions: {redeemed:,.0f}/s; refusals for want of points: {refused:,.0f}/s; "
        f"attempts: {attempts:,.0f}/s; errors: {errors} (in the {seconds:g} s window)"
    )
    if requests.error_kinds:
        kinds = ", ".join(f"{kind} x{count}" for kind, count in requests.error_kinds.most_common())
        _say(f"  errors by kind, whole run: {kinds}; first: {requests.error_sample}")
    _say(
        f"server CPU: {result.extra.get('server_cpu_ms_per_request', math.nan):.2f} ms per "
        f"attempt, {cpu_ms_per_redemption:.2f} ms per redemption"
    )
    _say(
        f"whole run: {result.sent:,} of {len(codes):,} codes sent, "
        f"{ledger['redeemed_answers']:,} redeemed and {ledger['refused_answers']:,} refused; "
        f"{requests.overlapping:,} requests went out while another of the same customer's was "
        f"in flight (up to {requests.most_at_once} at once); "
        f"{ledger['customers_exhausted']} customers spent every point"
    )
    _say(f"double-spend check (from the database after the run): {ledger['double_spend_total']}")
    for name, found in ledger["double_spends"].items():
        _say(f"  {name}: {found}")
    _say(
        f"  customers whose answers differ from the database: "
        f"{ledger['customers_whose_answers_differ_from_the_database']} "
        f"(unfinished requests: {result.unfinished}); customers refused while points remained: "
        f"{ledger['customers_refused_while_points_remained']}"
    )
    _say(
        f"\nredeemPoints with {points.MERCHANTS} merchants across "
        f"{len(prepared.customer_ids):,} customers: {redeemed:,.0f} redemptions/s, target >= "
        f"{points.TARGET_REDEMPTIONS_PER_SECOND:g}/s: {'PASS' if fast else 'FAIL'}; "
        f"zero double spends: {'PASS' if sound else 'FAIL'}"
    )
    return {
        "merchants": len(tokens),
        "customers": len(prepared.customer_ids),
        "points_per_redemption": points.POINTS,
        "codes_per_block": points.BLOCK,
        "codes": len(codes),
        "redemptions_covered": sum(prepared.covered),
        "setup_seconds": prepared.seconds,
        "results": [report.result_document(result)],
        "window_counts": dict(window),
        "redemptions_per_second": redeemed,
        "refusals_per_second": refused,
        "attempts_per_second": attempts,
        "errors_in_window": errors,
        "errors_by_kind": dict(requests.error_kinds),
        "server_cpu_ms_per_attempt": result.extra.get("server_cpu_ms_per_request", math.nan),
        "server_cpu_ms_per_redemption": cpu_ms_per_redemption,
        "target_redemptions_per_second": points.TARGET_REDEMPTIONS_PER_SECOND,
        "redemptions_per_second_pass": fast,
        "zero_double_spends_pass": sound,
        "ledger": ledger,
    }


def _settings(options: Options, data_dir: Path) -> Settings:
    """The server's settings, for setup done in this process."""
    return Settings(
        data_dir=data_dir,
        database_url=options.database_url,
        redis_url=options.redis_url,
        log_level="WARNING",
    )


def _check_alive(server: servers.Server) -> None:
    if server.process is not None and server.process.poll() is not None:
        raise RuntimeError(f"{server.name} died:\n{server.log_tail()}")


def _registrations(options: Options, token: str, kid: str, pem: str) -> Scenario:
    count = int(options.registrations_per_second * (options.warmup + options.duration))
    began = time.perf_counter()
    bodies = dataset.sealed_registrations(
        count, public_key=load_client_public_key(pem), kid=kid, seed="registrations"
    )
    _say(f"  (sealed {count} registrations in {time.perf_counter() - began:.1f} s, untimed)")
    auth = {"Authorization": f"Bearer {token}"}
    return Scenario(
        "graphql registerCustomer",
        options.port,
        [http_post(options.port, "/graphql", body, auth) for body in bodies],
        _success(rb'"customer":\{', rb'"userErrors":\[\s*\]'),
        reuse=False,
    )


def _print_setup(
    options: Options,
    pin: bool,
    env: dict[str, str],
    graphql_server: servers.Server,
    handwritten_server: servers.Server,
    versions: dict[str, str],
) -> None:
    environment = report.environment(**versions)
    _say("\n## Environment")
    _say(f"cpu: {environment['cpu_model']} x {environment['cpus_online']}")
    _say(f"python {environment['python']}, kernel {environment['kernel']}")
    packages = environment["packages"]
    _say(", ".join(f"{name} {version}" for name, version in packages.items()))
    _say(f"postgresql {versions['postgresql']}, redis {versions['redis']}")
    if pin:
        _say(
            f"pinning: applied; servers on CPU {servers.SERVER_CPU} (taskset), load generator on "
            f"CPU {servers.LOADGEN_CPU} (sched_setaffinity); PostgreSQL and Redis not pinned"
        )
    else:
        _say("pinning: NOT applied (fewer than 2 CPUs, no taskset, or JIKUAI_BENCH_PIN=0)")
    _say(f"graphql:     {servers.command_line(graphql_server.argv)}")
    _say(f"handwritten: {servers.command_line(handwritten_server.argv)}")
    _say(
        f"load: python -m bench, closed loop, {options.concurrency} keep-alive HTTP/1.1 "
        f"connections, {options.warmup:g} s warm-up + {options.duration:g} s measured per "
        f"scenario, {options.customers} customers round robin"
    )
    settings = " ".join(
        f"{name}={value}" for name, value in env.items() if name.startswith("JIKUAI_")
    )
    _say(f"server environment: {settings} (other settings at their defaults)")


def _warn_if_busy(seconds: float = 1.0) -> None:
    """Say so when other processes keep the machine busy before the runs start."""
    before = servers.CpuSnapshot.take()
    time.sleep(seconds)
    usage = servers.CpuSnapshot.take().usage_since(before, server_pid=-1)
    if usage["other_cpu_percent"] >= 25:
        names = [key.partition(":")[2] for key in usage if key.startswith("other_cpu_percent:")]
        _say(
            f"  warning: other processes ({', '.join(names) or 'several'}) use "
            f"{usage['other_cpu_percent']:.0f}% of a CPU; the figures will be low and noisy"
        )


def _compare(
    results: list[LoadResult], *, handwritten: str, graphql: str, target: float
) -> dict[str, Any]:
    """GraphQL against the hand-written endpoint for one query: throughput and server CPU per
    request of each (the mean of the hand-written runs), their ratios, and the verdicts."""
    baseline = [result for result in results if result.name.startswith(handwritten)]
    measured = next(result for result in results if result.name == graphql)
    handwritten_rps = statistics.fmean(result.requests_per_second for result in baseline)
    handwritten_ms = statistics.fmean(
        result.extra.get("server_cpu_ms_per_request", math.nan) for result in baseline
    )
    graphql_ms = measured.extra.get("server_cpu_ms_per_request", math.nan)
    ratio = measured.requests_per_second / handwritten_rps if handwritten_rps else math.nan
    cpu_ratio = handwritten_ms / graphql_ms if graphql_ms else math.nan
    return {
        "graphql_scenario": measured.name,
        "handwritten_scenarios": [result.name for result in baseline],
        "handwritten_rps": handwritten_rps,
        "graphql_rps": measured.requests_per_second,
        "handwritten_cpu_ms_per_request": handwritten_ms,
        "graphql_cpu_ms_per_request": graphql_ms,
        "ratio": ratio,
        "ratio_by_server_cpu": cpu_ratio,
        "target": target,
        "pass": ratio >= target and measured.errors == 0,
        "pass_by_server_cpu": cpu_ratio >= target and measured.errors == 0,
    }


def _verdict(label: str, compared: dict[str, Any]) -> str:
    runs = len(compared["handwritten_scenarios"])
    mean = "mean of both runs, " if runs > 1 else ""
    return (
        f"{label}: {compared['graphql_rps']:,.0f} against {compared['handwritten_rps']:,.0f} "
        f"req/s ({mean}hand-written) = {compared['ratio']:.3f}; by server CPU per request "
        f"{compared['handwritten_cpu_ms_per_request']:.3f} / "
        f"{compared['graphql_cpu_ms_per_request']:.3f} ms = "
        f"{compared['ratio_by_server_cpu']:.3f}; target >= {compared['target']:g}: "
        f"{'PASS' if compared['pass'] else 'FAIL'} "
        f"(by server CPU: {'PASS' if compared['pass_by_server_cpu'] else 'FAIL'})"
    )


def _conclude(
    options: Options,
    started: datetime,
    pin: bool,
    results: list[LoadResult],
    graphql_server: servers.Server,
    handwritten_server: servers.Server,
    versions: dict[str, str],
    server_settings: dict[str, str],
    customers_with_loans: dict[str, Any],
    phases: dict[str, Any],
) -> int:
    customer = _compare(
        results, handwritten=HANDWRITTEN, graphql=GRAPHQL_CUSTOMER, target=TARGET_RATIO
    )
    listing = _compare(
        results, handwritten=loans.HANDWRITTEN, graphql=loans.GRAPHQL, target=loans.TARGET_RATIO
    )
    _say("\n## Results\n")
    _say(report.table(results))
    _say("\nGraphQL throughput over the hand-written endpoint's, one worker each:")
    _say(_verdict("(a) customer(id)", customer))
    _say(_verdict(f"(b) customers(first: {loans.PAGE}) with loans", listing))
    failures = sum(result.errors for result in results)
    if failures:
        _say(f"failures in the measured windows: {failures} (see 'first failure' above)")
    document = {
        "started_at": started.isoformat(),
        "code": _code_version(),
        "environment": report.environment(**versions, pinning=pin),
        "commands": {
            "graphql": graphql_server.argv,
            "handwritten": handwritten_server.argv,
            "bench": [sys.executable, "-m", "bench", *(sys.argv[1:])],
            "server_settings": server_settings,
        },
        "load": {
            "concurrency": options.concurrency,
            "warmup_seconds": options.warmup,
            "duration_seconds": options.duration,
            "customers": options.customers,
            "closed_loop": True,
        },
        "results": [report.result_document(result) for result in results],
        "ratio_graphql_to_handwritten_customer": customer["ratio"],
        "ratio_by_server_cpu_per_response": customer["ratio_by_server_cpu"],
        "handwritten_customer_mean_rps": customer["handwritten_rps"],
        "target_ratio": TARGET_RATIO,
        "targets": {"customer": customer, "customers_with_loans": listing},
        "customers_with_loans": customers_with_loans,
        **phases,
    }
    path = report.save(RESULTS, started, document)
    _say(f"\nresults saved to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
