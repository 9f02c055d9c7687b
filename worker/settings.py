"""Settings, each one also an environment variable prefixed ``TOCSIN_``. Secrets are
``SecretStr`` (never printed nor logged) and may also come from a file, as
Kubernetes and Compose mount them: ``TOCSIN_PAYLOAD_KEY_FILE`` names the file of
``TOCSIN_PAYLOAD_KEY``, and ``TOCSIN_SECRETS_DIR`` a folder where a file named after
a variable (``TOCSIN_LINK_SECRET``) holds its value."""

import os
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

from definitions.contact_points import sender_domain


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


SECRETS_DIR_VARIABLE = "TOCSIN_SECRETS_DIR"
LINK_SECRETS_SEPARATOR = "\n"
"""Between the current link secret and the earlier ones it hands on (see
``answer_link_secret``)."""


class SharedSecretsMissingError(ValueError):
    """Several instances on PostgreSQL must share their secrets: none is generated."""


def _listed(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _variable(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    return alias if isinstance(alias, str) else f"TOCSIN_{name.upper()}"


class _SecretFiles(PydanticBaseSettingsSource):
    """``<VARIABLE>_FILE``: the secret read from that file, its last newline dropped."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(_variable(field_name, field) + "_FILE")
        if field.annotation is not SecretStr or not path:
            return None, field_name, False
        return Path(path).read_text(encoding="utf-8").rstrip("\n"), field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, name)
            if value is not None:
                found[name] = value
        return found


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOCSIN_", extra="ignore", populate_by_name=True)

    state_dir: Path = Field(default=Path(".tocsin"), description="local state folder")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite in state_dir")
    temporal_address: str = Field(default="", description="host:port of Temporal's frontend")
    temporal_namespace: str = "default"
    temporal_tls: bool = Field(default=False, description="TLS to Temporal's frontend")
    temporal_tls_ca: FilePath | None = Field(
        default=None, description="CA certificate (PEM) of Temporal's frontend; system's if empty"
    )
    temporal_tls_cert: FilePath | None = Field(
        default=None, description="client certificate (PEM) for mutual TLS; implies TLS"
    )
    temporal_tls_key: FilePath | None = Field(
        default=None, description="the client certificate's private key (PEM)"
    )
    temporal_tls_server_name: str = Field(
        default="", description="name in the frontend's certificate, if not the address's host"
    )
    temporal_api_key: SecretStr = Field(
        default=SecretStr(""), description="API key (Temporal Cloud); implies TLS"
    )
    temporal_port: int = Field(default=7233, ge=1, le=65535)
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)
    task_queue: str = "tocsin"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    temporal_ui_origins: str = Field(
        default="",
        description="origins of the Temporal UI (https://temporal.example.org, "
        "comma-separated) allowed to call the codec server /codec",
    )
    trusted_proxies: str = Field(
        default="",
        description="reverse proxies (addresses or CIDR, comma-separated) whose "
        "X-Forwarded-For names the client; none if empty",
    )
    definitions_dir: Path | None = Field(
        default=None, description="folder overriding the shipped protocols and templates"
    )
    public_url: str = Field(default="", description="gateway URL as Twilio reaches it")
    twilio_account_sid: str = Field(default="", validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr = Field(
        default=SecretStr(""), validation_alias="TWILIO_AUTH_TOKEN"
    )
    twilio_messaging_service_sid: str = ""
    twilio_from: str = ""
    twilio_base_url: str = Field(default="", description="Twilio-compatible server (staging)")
    sms_per_second: float = Field(default=10.0, gt=0)
    twilio_voice_from: str = Field(
        default="", description="voice-capable number calls come from (TOCSIN_TWILIO_FROM if empty)"
    )
    calls_per_second: float = Field(default=1.0, gt=0)
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_tls: SmtpTls = SmtpTls.NONE
    mail_from: str = "UNCCAS Tocsin <tocsin@example.org>"
    payload_key: SecretStr = Field(
        default=SecretStr(""), description="base64 AES-256 key for Temporal payloads"
    )
    payload_keys_previous: SecretStr = Field(
        default=SecretStr(""),
        description="earlier payload keys, comma-separated: read, never written",
    )
    link_secret: SecretStr = Field(
        default=SecretStr(""),
        description="signs answer links; one per state folder when empty (dev)",
    )
    link_secrets_previous: SecretStr = Field(
        default=SecretStr(""),
        description="earlier link secrets, comma-separated: links they signed still open",
    )
    metrics_address: str = Field(
        default="", description="host:port where Prometheus scrapes this process; none if empty"
    )
    log_format: LogFormat = LogFormat.CONSOLE
    log_level: str = "INFO"

    @field_validator("mail_from")
    @classmethod
    def _sender_with_domain(cls, mail_from: str) -> str:
        """Message-IDs are written in the sender's domain."""
        sender_domain(mail_from)
        return mail_from

    @field_validator("temporal_ui_origins")
    @classmethod
    def _explicit_origins(cls, origins: str) -> str:
        """The codec answers with credentials: a wildcard would let any page read
        decrypted payloads with a staff member's cookie."""
        for origin in _listed(origins):
            if not origin.startswith(("https://", "http://")) or "*" in origin:
                raise ValueError(f"origine invalide « {origin} » : https://hôte attendu, sans *")
        return origins

    @model_validator(mode="after")
    def _client_certificate_whole(self) -> "Settings":
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError(
                "TOCSIN_TEMPORAL_TLS_CERT et TOCSIN_TEMPORAL_TLS_KEY vont ensemble (TLS mutuel)"
            )
        return self

    @model_validator(mode="after")
    def _derive_defaults(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.state_dir / 'tocsin.db'}"
        if not self.temporal_address:
            self.temporal_address = f"127.0.0.1:{self.temporal_port}"
        if not self.public_url:
            self.public_url = self.gateway_url
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then ``*_FILE``, then the secrets folder."""
        sources = [init_settings, env_settings, _SecretFiles(settings_cls)]
        if folder := os.environ.get(SECRETS_DIR_VARIABLE):
            sources.append(SecretsSettingsSource(settings_cls, secrets_dir=folder))
        return tuple(sources)

    @classmethod
    def environment_names(cls) -> dict[str, str]:
        """Each setting's environment variable, by field name."""
        return {name: _variable(name, field) for name, field in cls.model_fields.items()}

    @property
    def shared_database(self) -> bool:
        """PostgreSQL: several instances, which must share their secrets."""
        return make_url(self.database_url).get_backend_name() == "postgresql"

    def missing_shared_secrets(self) -> list[str]:
        """The secrets every instance must be given when they share a database."""
        if not self.shared_database:
            return []
        wanted = {"TOCSIN_PAYLOAD_KEY": self.payload_key, "TOCSIN_LINK_SECRET": self.link_secret}
        return [name for name, value in wanted.items() if not value.get_secret_value()]

    def answer_link_secret(self) -> str:
        """The configured secret, followed by the earlier ones (one per line: links
        are signed with the first and opened with any); without one, a secret kept
        in the state folder so that the workers and the gateway of one machine share
        it, never with PostgreSQL (SharedSecretsMissingError)."""
        current = self.link_secret.get_secret_value()
        if not current:
            if self.shared_database:
                raise SharedSecretsMissingError("TOCSIN_LINK_SECRET")
            path = self.state_dir / "link-secret"
            if not path.exists():
                self.state_dir.mkdir(parents=True, exist_ok=True)
                path.touch(mode=0o600)
                path.write_text(secrets.token_urlsafe(32))
            current = path.read_text().strip()
        earlier = _listed(self.link_secrets_previous.get_secret_value())
        return LINK_SECRETS_SEPARATOR.join([current, *earlier])

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _listed(self.trusted_proxies)

    @property
    def temporal_ui_origin_list(self) -> list[str]:
        return _listed(self.temporal_ui_origins)

    @property
    def gateway_url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def temporal_ui_url(self) -> str:
        return f"http://127.0.0.1:{self.temporal_ui_port}"
