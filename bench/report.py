"""What a run prints and keeps: the environment, the table, the JSON file."""

from __future__ import annotations

import json
import math
import platform
import sys
from dataclasses import asdict
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.load import LoadResult

PACKAGES = (
    "strawberry-graphql",
    "graphql-core",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "sqlalchemy",
    "asyncpg",
    "redis",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment(**more: object) -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {
        "cpu_model": cpu_model(),
        "cpus_online": len(_online_cpus()),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "packages": versions,
        **more,
    }


def _online_cpus() -> list[str]:
    try:
        return [
            line
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("processor")
        ]
    except OSError:
        return []


def _number(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def table(results: list[LoadResult]) -> str:
    """The results as Markdown. CPU figures cover the whole scenario (warm-up included): server
    CPU time per response, and percent of one CPU per process group."""
    lines = [
        "| scenario | requests/s | p50 ms | p99 ms | errors | requests | server CPU ms/req "
        "| server CPU % | PostgreSQL CPU % | load generator CPU % | other processes CPU % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        usage = result.extra
        lines.append(
            f"| {result.name} | {_number(result.requests_per_second, 0)} "
            f"| {_number(result.p50_ms, 2)} | {_number(result.p99_ms, 2)} "
            f"| {result.errors} | {result.requests:,} "
            f"| {_number(usage.get('server_cpu_ms_per_request', math.nan), 3)} "
            f"| {_number(usage.get('server_cpu_percent', math.nan), 0)} "
            f"| {_number(usage.get('postgres_cpu_percent', math.nan), 0)} "
            f"| {_number(result.loadgen_cpu_percent, 0)} "
            f"| {_number(usage.get('other_cpu_percent', math.nan), 0)} |"
        )
    return "\n".join(lines)


def save(directory: Path, started: datetime, document: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{started:%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=_plain) + "\n")
    return path


def result_document(result: LoadResult) -> dict[str, Any]:
    document = asdict(result)
    return {
        key: (None if isinstance(value, float) and math.isnan(value) else value)
        for key, value in document.items()
    }


def _plain(value: object) -> object:
    return str(value)
