"""The Assets that chain the DAGs: one per raw entity, one for the marts."""

from __future__ import annotations

from airflow.sdk import Asset

# Source -> entities, in load order. This is the product's table of sources;
# the contracts under insight_hub/contracts/ define each entity.
SOURCES: dict[str, list[str]] = {
    "contact_centre": ["agent", "interaction"],
    "crm": ["owner", "account", "contact"],
    "survey": ["response"],
    "sales": ["order", "order_line", "payment"],
}


def raw_asset(entity: str) -> Asset:
    return Asset(name=f"raw.{entity}", uri=f"insighthub://warehouse/raw/{entity}", group="raw")


MARTS_ASSET = Asset(name="marts", uri="insighthub://warehouse/marts", group="marts")


def all_raw_assets() -> list[Asset]:
    return [raw_asset(e) for entities in SOURCES.values() for e in entities]
