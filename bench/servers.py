"""The servers under test, as subprocesses: command lines, environment, health, CPU time."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

HOST = "127.0.0.1"
SERVER_CPU = 0
LOADGEN_CPU = 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def pinning_possible() -> bool:
    """Two CPUs to pin to, `taskset` to pin the servers, and affinity for this process."""
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return False
    return {SERVER_CPU, LOADGEN_CPU} <= allowed and shutil.which("taskset") is not None


def pin_this_process() -> None:
    """Run the load generator (this process) on its own CPU."""
    os.sched_setaffinity(0, {LOADGEN_CPU})


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def venv_script(name: str) -> str:
    """A console script installed next to this interpreter (the project's virtualenv)."""
    candidate = Path(sys.executable).parent / name
    if not candidate.exists():
        raise FileNotFoundError(f"{candidate} missing: run `make install`")
    return str(candidate)


def _process_cpu() -> dict[int, tuple[str, float]]:
    """Every process's name and user plus system CPU seconds so far, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        found[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS)
    return found


def _cpu_ticks() -> dict[int, tuple[int, int]]:
    """Per CPU: (busy ticks, total ticks) from /proc/stat."""
    ticks = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            counts = [int(value) for value in values]
            idle = counts[3] + counts[4]  # idle + iowait
            ticks[int(name[3:])] = (sum(counts) - idle, sum(counts))
    return ticks


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """Where CPU time went, taken before and after a scenario."""

    at: float
    processes: dict[int, tuple[str, float]]
    cpus: dict[int, tuple[int, int]]

    @classmethod
    def take(cls) -> CpuSnapshot:
        return cls(time.monotonic(), _process_cpu(), _cpu_ticks())

    def usage_since(self, before: CpuSnapshot, *, server_pid: int) -> dict[str, float]:
        """Percent of one CPU used by the server, this process (the load generator), PostgreSQL,
        Redis and everything else (other work on the machine); and how busy each CPU was."""
        wall = max(1e-9, self.at - before.at)
        groups = dict.fromkeys(("server", "bench", "postgres", "redis", "other"), 0.0)
        others: dict[str, float] = {}
        me = os.getpid()
        for pid, (name, seconds) in self.processes.items():
            spent = seconds - before.processes.get(pid, (name, 0.0))[1]
            if pid == server_pid:
                groups["server"] += spent
            elif pid == me:
                groups["bench"] += spent
            elif name.startswith("postgres"):
                groups["postgres"] += spent
            elif name.startswith("redis"):
                groups["redis"] += spent
            else:
                groups["other"] += spent
                others[name] = others.get(name, 0.0) + spent
        usage = {f"{group}_cpu_percent": 100 * spent / wall for group, spent in groups.items()}
        usage["server_cpu_seconds"] = groups["server"]
        for name, spent in sorted(others.items(), key=lambda item: -item[1])[:3]:
            if spent / wall >= 0.05:
                usage[f"other_cpu_percent:{name}"] = 100 * spent / wall
        for cpu, (busy, total) in sorted(self.cpus.items()):
            start_busy, start_total = before.cpus.get(cpu, (busy, total))
            span = total - start_total
            usage[f"cpu{cpu}_busy_percent"] = (
                100 * (busy - start_busy) / span if span else float("nan")
            )
        return usage


@dataclass
class Server:
    """One server subprocess; its output goes to a log file shown if it fails."""

    name: str
    argv: list[str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self, env: dict[str, str], cwd: Path) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.argv, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} not started")
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_healthy(self, *, timeout_seconds: float = 30.0) -> None:
        """Poll /healthz until it answers 200; fail with the log if the process dies."""
        deadline = time.monotonic() + timeout_seconds
        url = f"http://{HOST}:{self.port}/healthz"
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                    )
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(
            f"{self.name} not healthy after {timeout_seconds:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


def command_line(argv: list[str]) -> str:
    return " ".join(_quoted(part) for part in argv)


def _quoted(part: str) -> str:
    safe = part and all(char.isalnum() or char in "-_./:=,+@" for char in part)
    return part if safe else "'" + part.replace("'", "'\\''") + "'"
