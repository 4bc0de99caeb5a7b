"""HTTP API source: a JSON REST endpoint with cursor or page pagination, retried with backoff."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from tenacity import RetryCallState, retry, retry_if_exception, stop_after_attempt, wait_exponential

from insight_hub.sources.connections import ConnInfo
from insight_hub.sources.registry import ApiFeed

RETRY_STATUSES = {429, 500, 502, 503, 504}


class ApiSourceError(RuntimeError):
    """The API answered with an error that retrying did not cure; the message names the endpoint."""


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in RETRY_STATUSES
    return isinstance(exc, httpx.TransportError)


def _wait(feed: ApiFeed):
    base = wait_exponential(multiplier=0.5, min=0.5, max=30)

    def wait(state: RetryCallState) -> float:
        # Honour Retry-After on 429/503 when the server says how long.
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, httpx.HTTPStatusError):
            after = exc.response.headers.get("Retry-After")
            if after and after.isdigit():
                return min(float(after), 60.0)
        return base(state)

    return wait


def api_records(feed: ApiFeed, conn: ConnInfo, since: str | None) -> Iterator[dict]:
    """Every item of every page, in order; `since` goes in the updated-since parameter."""
    headers = {"Accept": "application/json"}
    if conn.password:
        headers[feed.auth_header] = f"{feed.auth_scheme} {conn.password}".strip()
    params: dict[str, str | int] = {}
    if since is not None and feed.updated_since_param:
        params[feed.updated_since_param] = since
    pages = feed.pagination

    @retry(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(feed.max_retries + 1),
        wait=_wait(feed),
        reraise=True,
    )
    def fetch(client: httpx.Client, query: dict) -> dict:
        response = client.get(feed.path, params=query)
        response.raise_for_status()
        return response.json()

    with httpx.Client(base_url=conn.base_url(), headers=headers, timeout=feed.timeout_seconds) as client:
        page = 1
        cursor: str | None = None
        while True:
            query = dict(params)
            if pages.type == "cursor":
                if cursor:
                    query[pages.cursor_param] = cursor
            else:
                query[pages.page_param] = page
                query[pages.page_size_param] = pages.page_size
            try:
                body = fetch(client, query)
            except httpx.HTTPStatusError as exc:
                raise ApiSourceError(
                    f"{conn.base_url()}{feed.path} answered {exc.response.status_code} (after retries)"
                ) from exc
            except httpx.TransportError as exc:
                raise ApiSourceError(f"cannot reach {conn.base_url()}{feed.path}: {exc}") from exc
            items = body.get(pages.items_field) or []
            yield from items
            if pages.type == "cursor":
                cursor = body.get(pages.next_cursor_field)
                if not cursor:
                    return
            else:
                if len(items) < pages.page_size:
                    return
                page += 1
