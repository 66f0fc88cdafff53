"""Settings read once from the environment into one msgspec Struct.

Every field is an environment variable (see ``ENV``); ``docs/configuration.md`` documents each
one and a test keeps the two in step.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Literal

import msgspec

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None = None
    # The schema's owner, for migrations; unset: DATABASE_URL's role migrates (and owns).
    migration_database_url: str | None = None
    data_dir: str = ".data"
    # Where attachments live (okno.platform.storage): a folder, or an S3-compatible bucket.
    storage: Literal["local", "s3"] = "local"
    storage_path: str = ""  # a folder every host mounts; empty: the data folder's attachments/
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    # The destructions' journal (okno.platform.erasure.journal); empty: in the data folder.
    destruction_journal: str = ""
    # The folder of pg_dump and pg_restore for `okno backup` and `okno restore`; empty: the
    # embedded server's own, or the PATH's for a DATABASE_URL.
    pg_bin: str = ""
    host: str = "127.0.0.1"
    port: Port = 8000
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    public_url: str | None = None
    secret_key: Annotated[str, msgspec.Meta(min_length=32)] | None = None
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    session_ttl_minutes: Annotated[int, msgspec.Meta(ge=5, le=7 * 24 * 60)] = 480
    login_max_failures: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    login_lockout_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 15
    login_ip_max_failures: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 30
    session_idle_minutes: Annotated[int, msgspec.Meta(ge=5, le=7 * 24 * 60)] = 60
    # OWASP's minimum for argon2id is 19 MiB, t=2, p=1; weaker profiles are refused.
    argon2_memory_kib: Annotated[int, msgspec.Meta(ge=19456, le=4 * 1024 * 1024)] = 19456
    argon2_time_cost: Annotated[int, msgspec.Meta(ge=2, le=20)] = 2
    argon2_parallelism: Annotated[int, msgspec.Meta(ge=1, le=16)] = 1
    operator_name: Annotated[str, msgspec.Meta(min_length=2, max_length=300)] = (
        "ООО «Ваша компания»"
    )
    operator_address: Annotated[str, msgspec.Meta(min_length=2, max_length=500)] = (
        "укажите адрес в OKNO_OPERATOR_ADDRESS"
    )
    # A processor acting on the operator's behalf (name and address), for destruction acts.
    processor: Annotated[str, msgspec.Meta(max_length=500)] = ""
    # How often the server's retention job runs; 0 turns it off (then run `okno retention run`).
    retention_interval_minutes: Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 60)] = 60
    admin_password: Annotated[str, msgspec.Meta(min_length=10)] | None = None
    smtp_host: str | None = None
    smtp_port: Port = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "okno@localhost"
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    portal_session_minutes: Annotated[int, msgspec.Meta(ge=5, le=7 * 24 * 60)] = 120
    portal_code_minutes: Annotated[int, msgspec.Meta(ge=1, le=60)] = 10
    portal_code_attempts: Annotated[int, msgspec.Meta(ge=1, le=20)] = 5
    portal_codes_per_address_hour: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5
    portal_codes_per_ip_hour: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 30
    portal_export_hours: Annotated[int, msgspec.Meta(ge=1, le=7 * 24)] = 24
    db_pool_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    max_request_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1024 * 1024
    header_timeout_seconds: Annotated[int, msgspec.Meta(ge=1, le=300)] = 10
    max_upload_bytes: Annotated[int, msgspec.Meta(ge=1024, le=1024**3)] = 10 * 1024 * 1024
    edit_window_seconds: Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 3600)] = 15 * 60
    ws_backlog: Annotated[int, msgspec.Meta(ge=8, le=100_000)] = 256
    ws_rate: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 20
    # Per client IP and per worker process (docs/configuration.md: the proxy's part).
    ws_per_ip: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 30
    conversations_per_ip_hour: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 30
    # Both override what an admin sets in «Чат и виджет» (okno.platform.chatsettings) when set.
    widget_origins: str = ""
    prechat_form: bool | None = None
    mailing_rate: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20
    # Webhooks: the first retry's delay (it doubles, up to an hour, for a day), the receiver's
    # time to answer, consecutive failures before an endpoint is paused, who is told by e-mail.
    webhook_retry_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 30
    webhook_timeout_seconds: Annotated[int, msgspec.Meta(ge=1, le=60)] = 10
    webhook_pause_after_failures: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 50
    webhook_alert_email: str | None = None
    # Calls per API token per minute, counted in the database (so across workers).
    api_rate_per_minute: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 600
    presence_timeout_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 45
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # "json": one JSON object a line (okno.platform.logs), for a log collector.
    log_format: Literal["text", "json"] = "text"
    # Addresses or networks whose X-Forwarded-For is believed (the reverse proxy); "*": any.
    trusted_proxies: str = "127.0.0.1,::1"
    # GET /metrics: off while both are unset (docs/deploy.md, «Метрики»).
    metrics_token: Annotated[str, msgspec.Meta(min_length=16)] | None = None
    metrics_allow: str = ""
    # How long a stopping server waits for open requests and jobs before it closes them.
    shutdown_timeout_seconds: Annotated[int, msgspec.Meta(ge=1, le=600)] = 10
    # Test-only: a file holding the moment okno takes for "now" (okno.platform.clock).
    test_clock_file: str = ""

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).resolve()

    @property
    def metrics_networks(self) -> tuple[Network, ...]:
        return networks(self.metrics_allow)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(text: str) -> tuple[Network, ...]:
    """Comma- or space-separated addresses and networks (``10.0.0.0/8``); ValueError if not."""
    return tuple(
        ipaddress.ip_network(part, strict=False) for part in text.replace(",", " ").split()
    )


ENV: dict[str, str] = {
    name: name.upper() if name == "database_url" else f"OKNO_{name.upper()}"
    for name in Settings.__struct_fields__
}


class SettingsError(Exception):
    """A setting has a value that is not allowed; the message names the variable."""


def load_settings(environ: dict[str, str] | os._Environ[str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    raw = {field: environ[var] for field, var in ENV.items() if environ.get(var, "") != ""}
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise SettingsError(_explain(str(error))) from None
    if settings.test_clock_file and (settings.public_url or "").startswith("https://"):
        # A deployment's public HTTPS address means production: its clock must be the real one.
        raise SettingsError(
            "OKNO_TEST_CLOCK_FILE: только для тестов; не задаётся вместе с https OKNO_PUBLIC_URL"
        )
    if settings.storage == "s3" and not (settings.s3_endpoint and settings.s3_bucket):
        raise SettingsError("OKNO_STORAGE=s3: задайте OKNO_S3_ENDPOINT и OKNO_S3_BUCKET")
    for field in ("trusted_proxies", "metrics_allow"):
        value = getattr(settings, field)
        if field == "trusted_proxies" and value.strip() == "*":
            continue
        try:
            networks(value)
        except ValueError:
            raise SettingsError(
                f"{ENV[field]}: не адрес и не сеть: {value!r} (пример: 127.0.0.1, 10.0.0.0/8)"
            ) from None
    return settings


def _explain(message: str) -> str:
    match = re.search(r"at `\$\.(\w+)`", message)
    if not match:
        return f"invalid settings: {message}"
    field = match.group(1)
    what = message[: match.start()].strip().rstrip("-").strip()
    return f"{ENV[field]}: {what}"


@functools.cache
def get_settings() -> Settings:
    return load_settings()
