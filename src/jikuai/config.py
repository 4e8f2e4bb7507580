"""Settings, read once from `JIKUAI_*` environment variables.

Every setting has a default that runs the embedded stack (SQLite in the data folder, the in-process
cache, the local WeChat stand-in) so that `make run` needs no server.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


DEMO_PASSWORD = "jikuai-demo"  # noqa: S105 - the documented password of the demo logins
# Credentials the WeChat stand-in accepts in development, when no real ones are configured.
DEVELOPMENT_WECHAT_APP = ("wx0000000000000000", "development-only")


class Settings(BaseSettings):
    """The service's configuration; see the README for the table of every setting."""

    model_config = SettingsConfigDict(env_prefix="JIKUAI_", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path(".jikuai")
    database_url: str | None = None
    database_replica_url: str | None = None
    database_pool_size: int = Field(default=10, ge=1)
    redis_url: str | None = None
    keys_dir: Path | None = None
    transport_key_retirement_hours: int = Field(default=24, ge=0)

    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=30, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    registration_attempts_per_hour: int = Field(default=10, ge=1)

    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_api_base: str | None = None

    demo_password: str = DEMO_PASSWORD

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_query_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2_000, ge=100)
    compiled_plans: bool = True
    cors_origins: list[str] = Field(default_factory=list)
    operations_allow_list: bool = False
    persisted_query_days: int = Field(default=7, ge=1)
    persisted_query_documents: int = Field(default=2_000, ge=1)
    log_level: str = "INFO"
    alert_webhook_url: str | None = None

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def primary_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'jikuai.db').resolve()}"

    @property
    def key_directory(self) -> Path:
        return self.keys_dir if self.keys_dir is not None else self.data_dir / "keys"

    @property
    def access_token_lifetime(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    @property
    def refresh_token_lifetime(self) -> timedelta:
        return timedelta(days=self.refresh_token_days)

    @property
    def login_lockout(self) -> timedelta:
        return timedelta(minutes=self.login_lockout_minutes)

    @property
    def persisted_query_lifetime(self) -> timedelta:
        """How long a document sent by automatic persisted queries stays in the cache."""
        return timedelta(days=self.persisted_query_days)

    @property
    def transport_key_retirement(self) -> timedelta:
        return timedelta(hours=self.transport_key_retirement_hours)

    @model_validator(mode="after")
    def _production_needs_wechat(self) -> Settings:
        if self.is_production and not (self.wechat_app_id and self.wechat_app_secret):
            raise ValueError("production needs JIKUAI_WECHAT_APP_ID and JIKUAI_WECHAT_APP_SECRET")
        return self

    @property
    def wechat_app(self) -> tuple[str, str]:
        """(app id, secret): the configured ones, or in development the stand-in's."""
        if self.wechat_app_id and self.wechat_app_secret:
            return self.wechat_app_id, self.wechat_app_secret
        return DEVELOPMENT_WECHAT_APP

    @property
    def uses_wechat_standin(self) -> bool:
        """In development, with no WeChat base configured, logins go to the mounted stand-in."""
        return not self.is_production and self.wechat_api_base is None
