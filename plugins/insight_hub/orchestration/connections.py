"""Reach the warehouse through the Airflow connection, the only place tasks get credentials from."""

from __future__ import annotations

from urllib.parse import quote


def warehouse_url_from_airflow(conn_id: str) -> str:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    auth = ""
    if conn.login:
        auth = quote(conn.login, safe="")
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        auth += "@"
    return f"postgresql://{auth}{conn.host or '127.0.0.1'}:{conn.port or 5432}/{conn.schema or 'postgres'}"
