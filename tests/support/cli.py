"""The `jikuai` command, run in-process by tests."""

from __future__ import annotations

import asyncio

from jikuai import cli


async def run_cli(*argv: str) -> int:
    """The `jikuai` command in-process; a worker thread, since it runs its own event loop."""
    return await asyncio.to_thread(cli.main, list(argv))
