"""Where the warehouse is and how to reach it.

With `WAREHOUSE_URL` set, that server is used and nothing embedded starts.
Otherwise the embedded server under `<home>/pg` is started on demand.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from insight_hub.settings import Settings, get_settings
from insight_hub.warehouse.embedded import EmbeddedPostgres, EmbeddedPostgresError

WAREHOUSE_DB = "insight_hub"
AIRFLOW_DB = "airflow"

__all__ = [
    "AIRFLOW_DB",
    "WAREHOUSE_DB",
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
    "WarehouseUnreachable",
    "embedded_server",
    "dbt_env",
    "ensure_warehouse",
    "mask_url",
    "sqlalchemy_url",
    "warehouse_url",
]


class WarehouseUnreachable(RuntimeError):
    """The warehouse could not be connected to."""


def embedded_server(settings: Settings | None = None) -> EmbeddedPostgres:
    settings = settings or get_settings()
    return EmbeddedPostgres(settings.pgdata, settings.embedded_port)


def warehouse_url(settings: Settings | None = None) -> str:
    """URL of the warehouse database, starting the embedded server when no URL is configured."""
    settings = settings or get_settings()
    if settings.warehouse_url:
        return settings.warehouse_url
    server = embedded_server(settings)
    server.start()
    server.ensure_database(WAREHOUSE_DB)
    return server.url(WAREHOUSE_DB)


def ensure_warehouse(url: str) -> None:
    """Fail with one clear line when the warehouse cannot be reached."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseUnreachable(f"cannot reach the warehouse at {mask_url(url)}: {first_line}") from exc


def mask_url(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def sqlalchemy_url(url: str) -> str:
    """The same URL for SQLAlchemy users (Airflow metadata, Great Expectations), on psycopg 3."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def dbt_env(url: str) -> dict[str, str]:
    """Environment for the dbt CLI's profile (dbt_project/profiles.yml) pointing at `url`."""
    import os
    from urllib.parse import unquote

    parts = urlsplit(url)
    env = dict(os.environ)
    env.update(
        {
            "WAREHOUSE_HOST": parts.hostname or "127.0.0.1",
            "WAREHOUSE_PORT": str(parts.port or 5432),
            "WAREHOUSE_USER": unquote(parts.username or "postgres"),
            "WAREHOUSE_PASSWORD": unquote(parts.password or ""),
            "WAREHOUSE_DB": parts.path.lstrip("/") or "postgres",
        }
    )
    return env
