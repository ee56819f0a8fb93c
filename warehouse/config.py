"""One declared table of settings, read from ``SHOPLAKE_*`` environment variables.

Every layer takes a :class:`Settings` object instead of reading the environment itself, so tests
build variants with :func:`load_settings(overrides)` and the README's settings table is checked
against :data:`SETTINGS` by a test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SECRET = "dev-insecure-secret-change-me-in-production"
DEFAULT_PAYMENTS_KEY = "dev-insecure-payments-key-change-me-in-production"


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name (without the prefix), type, default and help text."""

    name: str
    type: Callable[[str], Any]
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        return f"SHOPLAKE_{self.name.upper()}"


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "env",
        str,
        "development",
        "`development`, `test` or `production`; production refuses default secrets.",
    ),
    Setting(
        "var_dir", Path, Path("var"), "Root of all local state: control DB, lake, warehouse, logs."
    ),
    Setting(
        "secret_key",
        str,
        DEFAULT_SECRET,
        "Signs sessions, JWTs and cursors. Must be changed in production.",
    ),
    Setting(
        "database_url",
        str,
        "",
        "Control DB URL; empty means SQLite (WAL) at `<var_dir>/control.db`. PostgreSQL: `postgresql+psycopg://...`.",
    ),
    Setting("lake_dir", Path, None, "Raw zone root; defaults to `<var_dir>/lake`."),
    Setting("host", str, "127.0.0.1", "Address `shoplake serve` binds to."),
    Setting("port", int, 8000, "Port `shoplake serve` binds to."),
    Setting("workers", int, 2, "Gunicorn worker processes for `shoplake serve`."),
    Setting(
        "base_domain",
        str,
        "localhost",
        "Parent domain for tenant subdomains (`<slug>.<base_domain>`).",
    ),
    Setting("access_token_minutes", int, 15, "Lifetime of JWT access tokens."),
    Setting("refresh_token_days", int, 14, "Lifetime of JWT refresh tokens (each use rotates it)."),
    Setting("session_hours", int, 12, "Lifetime of browser cookie sessions."),
    Setting(
        "auth_cache_seconds",
        float,
        5.0,
        "How long an API worker trusts an API key it verified; a key revoked or a tenant suspended elsewhere is refused within this time (at once on the worker that made the change; 0: check the control DB on every request).",
    ),
    Setting(
        "password_hash_memory_kib", int, 65536, "Argon2id memory cost; tests lower it for speed."
    ),
    Setting(
        "ratelimit_storage_url",
        str,
        "memory://",
        "Rate-limit counters: `memory://` or `redis://host:port/db`.",
    ),
    Setting(
        "ratelimit_tenant_default",
        str,
        "1200/minute",
        "Per-tenant request limit unless the tenant's settings override it.",
    ),
    Setting(
        "ratelimit_principal_default",
        str,
        "600/minute",
        "Per-principal (user or key) limit unless the tenant's settings override it.",
    ),
    Setting(
        "ratelimit_anonymous",
        str,
        "60/minute",
        "Limit per client address for unauthenticated requests.",
    ),
    Setting(
        "ratelimit_signed_media",
        str,
        "3000/minute",
        "Signed image URL downloads per client address (they carry no credentials).",
    ),
    Setting(
        "ratelimit_login",
        str,
        "10/minute;100/hour",
        "Password sign-in attempts per client address (`POST /api/v1/auth/login` and `/auth/session` together).",
    ),
    Setting(
        "ratelimit_auth_failures",
        str,
        "20/minute;200/hour",
        "Failed authentications (wrong API key, invalid or expired token) per client address; past it, requests from that address carrying credentials get 429 before they are checked.",
    ),
    Setting(
        "ratelimit_key_prefix",
        str,
        "shoplake",
        "Namespace of this deployment's counters in shared rate-limit storage; every process of one deployment must use the same value.",
    ),
    Setting(
        "max_body_bytes",
        int,
        10 * 1024 * 1024,
        "Largest accepted request body for ordinary JSON endpoints.",
    ),
    Setting(
        "max_ingest_bytes",
        int,
        1024**3,
        "Largest ingest body, on the wire and after gzip; ingest streams, so memory stays bounded.",
    ),
    Setting(
        "ingest_chunk_rows",
        int,
        50_000,
        "Rows per landed batch; each chunk is validated, written and fsynced before the next is read.",
    ),
    Setting(
        "ingest_max_in_flight",
        int,
        4,
        "Ingest requests processed at once across all workers; more get 429 with Retry-After.",
    ),
    Setting(
        "upload_session_hours",
        int,
        24,
        "How long a resumable upload session lives before it expires and is cleaned up.",
    ),
    Setting(
        "cors_origins",
        _csv,
        (),
        "Comma-separated origins allowed for every tenant, on top of each tenant's own list.",
    ),
    Setting("log_level", str, "INFO", "Root log level; logs are JSON lines on stderr."),
    Setting(
        "trust_proxy",
        _bool,
        False,
        "Honour X-Forwarded-* headers (only behind a trusted load balancer).",
    ),
    Setting(
        "warehouse_path",
        Path,
        None,
        "Build DuckDB file dbt writes (nothing serves from it); defaults to `<var_dir>/warehouse/build.duckdb`.",
    ),
    Setting("snapshots_keep", int, 3, "Published mart snapshots kept on disk (the newest ones)."),
    Setting(
        "mart_cache_entries",
        int,
        1024,
        "Mart-backed answers cached per API worker, keyed by tenant, snapshot and query, and the "
        "most answers per tenant and snapshot the node's workers share on disk under "
        "`var/marts/answers/` (0: both off).",
    ),
    Setting(
        "snapshot_grace_seconds",
        int,
        600,
        "A replaced mart snapshot stays readable this long, so queries that started on it finish.",
    ),
    Setting(
        "build_min_interval_seconds",
        int,
        300,
        "The new-data sensor starts a warehouse build at most this often.",
    ),
    Setting(
        "build_schedule",
        str,
        "0 * * * *",
        "Cron (UTC) of the floor schedule: a warehouse build runs at least this often.",
    ),
    Setting(
        "build_lock_wait_seconds",
        int,
        900,
        "How long a warehouse build waits for a running one to finish before giving up.",
    ),
    Setting(
        "snapshot_max_age_minutes",
        int,
        180,
        "The freshness check fails when the published mart snapshot is older than this.",
    ),
    Setting(
        "payments_encryption_key",
        str,
        DEFAULT_PAYMENTS_KEY,
        "Encrypts tenants' payment provider secrets at rest (AES-GCM); comma-separated to rotate: the first encrypts, all decrypt. Must be changed in production.",
    ),
    Setting(
        "stripe_api_base",
        str,
        "",
        "Base URL of the Stripe API; empty means the library's default (`https://api.stripe.com`). Tests point it at a local stand-in.",
    ),
    Setting(
        "stripe_timeout_seconds",
        int,
        30,
        "How long one Stripe API call may take before it counts as failed.",
    ),
    Setting(
        "stripe_max_network_retries",
        int,
        2,
        "Retries of a Stripe call after a network error (safe: every write carries an idempotency key).",
    ),
    Setting(
        "stripe_webhook_tolerance_seconds",
        int,
        300,
        "Stripe webhook signatures older than this are refused as stale.",
    ),
    Setting(
        "ratelimit_webhooks",
        str,
        "1200/minute",
        "Webhook deliveries accepted per tenant (`POST /api/v1/webhooks/stripe/<tenant_slug>/`).",
    ),
    Setting(
        "stock_bulk_max_changes",
        int,
        5000,
        "Most changes one `PUT /api/v1/stock/bulk_update/` may carry.",
    ),
    Setting(
        "stock_event_redeliver_seconds",
        int,
        300,
        "Stock changes committed this long ago whose stock events never landed (a crash between commit and landing) are landed by the tenant's next stock update.",
    ),
    Setting(
        "ratelimit_price_event_product",
        str,
        "120/minute",
        "Price events accepted per product of a tenant (`POST /api/v1/products/<id>/price-event/`).",
    ),
    Setting(
        "ratelimit_price_event_tenant",
        str,
        "6000/minute",
        "Price events accepted per tenant, over all its products.",
    ),
    Setting(
        "media_storage_url",
        str,
        "",
        "Where product images are stored: empty means `file://<var_dir>/media`; `file:///abs/dir` or `s3://bucket/prefix` (keys are tenant-prefixed).",
    ),
    Setting(
        "media_s3_endpoint_url",
        str,
        "",
        "S3 endpoint for `s3://` media storage (empty: AWS); e.g. `http://127.0.0.1:8333` for SeaweedFS.",
    ),
    Setting("media_s3_region", str, "us-east-1", "Region of the media bucket."),
    Setting(
        "media_s3_access_key_id",
        str,
        "",
        "Access key for the media bucket; empty uses boto3's default credential chain.",
    ),
    Setting(
        "media_s3_secret_access_key",
        str,
        "",
        "Secret key for the media bucket (with `SHOPLAKE_MEDIA_S3_ACCESS_KEY_ID`).",
    ),
    Setting("media_max_file_bytes", int, 20 * 1024 * 1024, "Largest accepted image file."),
    Setting(
        "media_max_request_bytes",
        int,
        256 * 1024 * 1024,
        "Largest image upload request (all files of one multipart body together).",
    ),
    Setting(
        "media_max_pixels",
        int,
        40_000_000,
        "Largest accepted image, in pixels (width x height x frames; at most 100000000); guards against decompression bombs.",
    ),
    Setting(
        "media_max_files",
        int,
        200,
        "Most image files accepted in one upload request.",
    ),
    Setting(
        "media_sync_max_files",
        int,
        10,
        "Uploads of up to this many files are processed in the request; larger ones answer 202 with a job to poll.",
    ),
    Setting(
        "media_signed_url_seconds",
        int,
        3600,
        "Lifetime of signed image URLs (rounded up to 5 minutes, so browsers can cache them).",
    ),
    Setting(
        "jobs_runner",
        str,
        "thread",
        "`thread`: background jobs run in a thread pool inside each API process; `external`: only `shoplake jobs run` workers run them.",
    ),
    Setting(
        "jobs_threads", int, 2, "Background job threads per API process (`jobs_runner=thread`)."
    ),
    Setting(
        "jobs_stale_seconds",
        int,
        300,
        "A running job whose worker has not reported for this long is taken over by another worker.",
    ),
    Setting(
        "export_retention_hours",
        int,
        72,
        "Finished report exports (`/api/v1/reports/export/`) are removed this long after they finished.",
    ),
    Setting(
        "export_chunk_rows",
        int,
        65_536,
        "Rows per report export chunk: each is written, fsynced and checkpointed before the next, and an interrupted export resumes from the last one. A multiple of 16384 keeps Parquet row groups whole.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings; attribute names match :data:`SETTINGS`."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def control_db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'control.db').resolve()}"

    @property
    def lake_root(self) -> Path:
        return self.lake_dir or self.var_dir / "lake"

    @property
    def warehouse_file(self) -> Path:
        return self.warehouse_path or self.var_dir / "warehouse" / "build.duckdb"

    def replace(self, **overrides: Any) -> Settings:
        """Return a copy with some values changed (used by tests and the CLI)."""
        return load_settings(overrides, environ={}, base=self)


class SettingsError(ValueError):
    """A setting could not be parsed, or is unsafe for the chosen environment."""


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    base: Settings | None = None,
) -> Settings:
    """Resolve settings from defaults, then the environment, then explicit overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = dict(base.values) if base else {s.name: s.default for s in SETTINGS}
    for setting in SETTINGS:
        raw = environ.get(setting.env_var)
        if raw is not None:
            try:
                values[setting.name] = setting.type(raw)
            except ValueError as exc:
                raise SettingsError(f"{setting.env_var}: {exc}") from exc
    for name, value in (overrides or {}).items():
        if name not in _BY_NAME:
            raise SettingsError(f"unknown setting {name!r}")
        values[name] = value
    for name in ("var_dir", "lake_dir", "warehouse_path"):
        if values[name] is not None:
            values[name] = Path(values[name])
    settings = Settings(values)
    check_safe(settings)
    return settings


def check_safe(settings: Settings) -> None:
    """Refuse production mode with a default or short secret."""
    if settings.env not in {"development", "test", "production"}:
        raise SettingsError(f"SHOPLAKE_ENV: unknown environment {settings.env!r}")
    if settings.is_production and (
        settings.secret_key == DEFAULT_SECRET or len(settings.secret_key) < 32
    ):
        raise SettingsError(
            "SHOPLAKE_SECRET_KEY must be set to a random value of at least 32 characters "
            "in production"
        )
    if settings.is_production and any(
        key.strip() == DEFAULT_PAYMENTS_KEY or len(key.strip()) < 32
        for key in settings.payments_encryption_key.split(",")
    ):
        raise SettingsError(
            "SHOPLAKE_PAYMENTS_ENCRYPTION_KEY must be set to random values of at least 32 "
            "characters in production"
        )


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return ",".join(value) if isinstance(value, tuple) else str(value)


def settings_markdown() -> str:
    """Render the settings table the README carries (a test keeps them equal)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.env_var}` | `{_shown(s.default)}` | {s.help} |" for s in SETTINGS]
    return "\n".join(rows)


def env_example() -> str:
    """Render `.env.example`: every setting with its help and default."""
    return "".join(f"# {s.help}\n{s.env_var}={_shown(s.default)}\n" for s in SETTINGS)


if __name__ == "__main__":  # python -m warehouse.config > .env.example
    print(env_example(), end="")
