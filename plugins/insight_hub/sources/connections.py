"""Source credentials, always through Airflow connections (AIRFLOW_CONN_<ID> or Airflow's secrets backend)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote


@dataclass(frozen=True)
class ConnInfo:
    conn_type: str
    host: str | None
    port: int | None
    login: str | None
    password: str | None = field(repr=False)
    schema: str | None
    extra: dict

    def postgres_url(self) -> str:
        auth = ""
        if self.login:
            auth = (
                quote(self.login, safe="")
                + (":" + quote(self.password, safe="") if self.password else "")
                + "@"
            )
        return (
            f"postgresql://{auth}{self.host or '127.0.0.1'}:{self.port or 5432}/{self.schema or 'postgres'}"
        )

    def base_url(self) -> str:
        scheme = "https" if self.conn_type == "https" or self.extra.get("https") else "http"
        port = f":{self.port}" if self.port else ""
        return f"{scheme}://{self.host}{port}"


def get_connection(conn_id: str) -> ConnInfo:
    """Resolve an Airflow connection by id; works inside tasks and in plain processes alike."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    return ConnInfo(
        conn_type=conn.conn_type or "",
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=conn.extra_dejson or {},
    )
