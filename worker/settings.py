"""Settings, each one also an environment variable prefixed ``TOCSIN_``."""

from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOCSIN_", extra="ignore")

    state_dir: Path = Field(default=Path(".tocsin"), description="local state folder")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite in state_dir")
    temporal_address: str = Field(default="", description="host:port of Temporal's frontend")
    temporal_namespace: str = "default"
    temporal_port: int = Field(default=7233, ge=1, le=65535)
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)
    task_queue: str = "tocsin"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    definitions_dir: Path | None = Field(
        default=None, description="folder overriding the shipped protocols and templates"
    )
    log_format: LogFormat = LogFormat.CONSOLE
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _derive_defaults(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.state_dir / 'tocsin.db'}"
        if not self.temporal_address:
            self.temporal_address = f"127.0.0.1:{self.temporal_port}"
        return self

    @property
    def gateway_url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def temporal_ui_url(self) -> str:
        return f"http://127.0.0.1:{self.temporal_ui_port}"
