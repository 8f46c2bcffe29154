"""Deployment settings and secrets (database, SMTP, web bind address, data directory) from
environment variables prefixed ``BHXH_`` or a ``.env`` file. What to monitor lives in feeds.yaml."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BHXH_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the SQLite database and models live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/bhxh-monitor.db."
    )
    feeds: Path = Field(REPO_ROOT / "feeds.yaml", description="Path of feeds.yaml.")
    allow_private_addresses: bool = Field(
        False, description="Allow feed URLs that resolve to private/loopback addresses."
    )
    web_host: str = Field("127.0.0.1", description="Address the web page listens on.")
    web_port: int = Field(8080, description="Port the web page listens on.")
    base_url: str = Field("http://127.0.0.1:8080", description="Public URL used in email links.")
    secret_key: str | None = Field(
        None, description="Signs session cookies; generated into data_dir when unset."
    )
    secure_cookies: bool = Field(False, description="Mark cookies Secure (set when behind HTTPS).")
    smtp_host: str = Field("127.0.0.1", description="SMTP server host.")
    smtp_port: int = Field(25, description="SMTP server port.")
    smtp_security: str = Field("none", description="none | starttls | ssl.")
    smtp_username: str | None = Field(None, description="SMTP login, if the server needs one.")
    smtp_password: str | None = Field(None, description="SMTP password.")
    smtp_timeout_s: float = Field(20.0, description="SMTP connection timeout in seconds.")
    mail_from: str = Field("bhxh-monitor <bhxh-monitor@localhost>", description="From: address.")
    model_path: Path | None = Field(
        None, description="Classifier artifact; default the newest in data_dir/models, else the shipped one."
    )
    pipeline_interval_s: float = Field(60.0, description="How often the pipeline job runs (it also runs right after new items).")
    outbox_interval_s: float = Field(20.0, description="How often queued email is delivered.")
    log_format: str = Field("text", description="text | json.")
    log_level: str = Field("INFO", description="Logging level.")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'bhxh-monitor.db').resolve()}"


def load_settings(**overrides) -> Settings:
    """Settings from the environment, with CLI options (non-None values) taking precedence."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
