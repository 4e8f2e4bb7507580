"""Fixtures for end-to-end tests that drive the `jikuai` command, as an operator would."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import Stack


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures process-wide logging; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    httpx_level = logging.getLogger("httpx").level
    access_disabled = logging.getLogger("uvicorn.access").disabled
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(httpx_level)
    logging.getLogger("uvicorn.access").disabled = access_disabled


@pytest.fixture
def cli_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What an operator's shell holds: the settings of the stack under `tmp_path`."""
    for name in ("JIKUAI_ENV", "JIKUAI_KEYS_DIR", "JIKUAI_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JIKUAI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JIKUAI_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'jikuai.db'}")


@pytest.fixture
def stack_environment(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the operator's shell holds on the test stack's servers: its database, cache and
    data folder."""
    for name in ("JIKUAI_ENV", "JIKUAI_KEYS_DIR", "JIKUAI_REDIS_URL", "JIKUAI_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JIKUAI_DATA_DIR", str(stack.settings.data_dir))
    monkeypatch.setenv("JIKUAI_DATABASE_URL", stack.settings.primary_database_url)
    if stack.settings.redis_url:
        monkeypatch.setenv("JIKUAI_REDIS_URL", stack.settings.redis_url)
