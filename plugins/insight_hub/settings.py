"""Every environment variable the product reads, in one place.

Values come from the environment (or a `.env` file in the working directory);
nothing else in the package reads `os.environ` for configuration.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# plugins/insight_hub/settings.py -> project root is two levels above the package.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    warehouse_url: str | None = Field(
        default=None,
        validation_alias="WAREHOUSE_URL",
        description="PostgreSQL URL of the warehouse. Unset: the embedded server under INSIGHT_HUB_HOME is used.",
    )
    home: Path = Field(
        default=PROJECT_ROOT / ".local",
        validation_alias="INSIGHT_HUB_HOME",
        description="Folder for local state: embedded PostgreSQL data, Airflow home, demo landing files, outputs.",
    )
    landing_dir_override: Path | None = Field(
        default=None,
        validation_alias="INSIGHT_HUB_LANDING_DIR",
        description="Folder the file sources are read from. Default: <home>/landing.",
    )
    sources_file: Path = Field(
        default=PROJECT_ROOT / "examples" / "demo" / "sources.yaml",
        validation_alias="INSIGHT_HUB_SOURCES",
        description="YAML file naming each source entity's landing pattern and mapping.",
    )
    pii_key: SecretStr | None = Field(
        default=None,
        validation_alias="INSIGHT_HUB_PII_KEY",
        description="Secret key of the keyed hashes (HMAC-SHA256) of customers' e-mail and phone in marts; "
        "generated once under the home folder when unset.",
    )
    charter_file: Path = Field(
        default=PROJECT_ROOT / "examples" / "demo" / "charter.yaml",
        validation_alias="INSIGHT_HUB_CHARTER",
        description="YAML file of the customer charter's promises (measured in marts.charter_compliance).",
    )
    themes_file: Path = Field(
        default=PROJECT_ROOT / "examples" / "demo" / "themes.yaml",
        validation_alias="INSIGHT_HUB_THEMES",
        description="YAML file of the voice-of-customer themes: keywords per language, owner, touchpoint.",
    )
    actions_file: Path = Field(
        default=PROJECT_ROOT / "examples" / "demo" / "actions.yaml",
        validation_alias="INSIGHT_HUB_ACTIONS",
        description="YAML file of the insight-action rules: which signals raise an action, and who owns it.",
    )
    extracts_file: Path = Field(
        default=PROJECT_ROOT / "examples" / "demo" / "extracts.yaml",
        validation_alias="INSIGHT_HUB_EXTRACTS",
        description="YAML file of who sees what in the manager extracts (the team leads' queues).",
    )
    send_extracts: bool = Field(
        default=False,
        validation_alias="INSIGHT_HUB_SEND_EXTRACTS",
        description="E-mail the manager extracts through the Airflow connection smtp_default. Off: they are "
        "only written, as .eml files, to <home>/outbox/.",
    )
    extract_workers: int = Field(
        default_factory=lambda: min(4, os.cpu_count() or 1),
        ge=1,
        validation_alias="INSIGHT_HUB_EXTRACT_WORKERS",
        description="Processes that build the manager extracts side by side (default: the CPUs, at most 4).",
    )
    expectations_dir: Path = Field(
        default=PROJECT_ROOT / "expectations",
        validation_alias="INSIGHT_HUB_EXPECTATIONS_DIR",
        description="Folder of Great Expectations suites, one JSON file per entity.",
    )
    airflow_metadata_url: str | None = Field(
        default=None,
        validation_alias="AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        description="Airflow's own metadata database. Unset: the embedded server, or SQLite when WAREHOUSE_URL is set.",
    )
    embedded_port: int = Field(
        default=55432,
        validation_alias="INSIGHT_HUB_PG_PORT",
        description="TCP port (on 127.0.0.1) of the embedded PostgreSQL.",
    )
    warehouse_conn_id: str = Field(
        default="warehouse",
        validation_alias="INSIGHT_HUB_WAREHOUSE_CONN_ID",
        description="Airflow connection id the DAGs use to reach the warehouse.",
    )
    max_reject_share: float = Field(
        default=0.10,
        validation_alias="INSIGHT_HUB_MAX_REJECT_SHARE",
        description="Share of quarantined rows above which a whole batch is rejected.",
    )
    freshness_hours: float = Field(
        default=48.0,
        gt=0,
        validation_alias="INSIGHT_HUB_FRESHNESS_HOURS",
        description="A batch whose newest event is older than this (hours before validation) is reported stale.",
    )
    data_docs: bool = Field(
        default=True,
        validation_alias="INSIGHT_HUB_DATA_DOCS",
        description="Add every validation to the Great Expectations Data Docs site under the home folder.",
    )
    volume_band: float = Field(
        default=3.0,
        gt=1,
        validation_alias="INSIGHT_HUB_VOLUME_BAND",
        description="A batch with fewer than median/band or more than median*band rows of the entity's recent "
        "batches is reported.",
    )

    alert_emails: str = Field(
        default="",
        validation_alias="INSIGHT_HUB_ALERT_EMAILS",
        description="Comma-separated addresses of the pipeline's owners, e-mailed (through the Airflow "
        "connection smtp_default) when a task fails or a batch is rejected. Empty: no alert e-mails.",
    )
    alert_from: str = Field(
        default="insight-hub@localhost",
        validation_alias="INSIGHT_HUB_ALERT_FROM",
        description="Sender address of the alert e-mails.",
    )

    deadline_alerts: bool = Field(
        default=True,
        validation_alias="INSIGHT_HUB_DEADLINE_ALERTS",
        description="Give each DAG its Airflow Deadline Alert. `insight-hub run` turns them off: it runs each "
        "DAG to its end with `airflow dags test`, where no scheduler watches a deadline, and Airflow 3.3's "
        "`dags test` fails after a successful run of a DAG that has one (apache/airflow#73428).",
    )
    fail_on_stale_source: bool = Field(
        default=True,
        validation_alias="INSIGHT_HUB_FAIL_ON_STALE_SOURCE",
        description="A source DAG's check_freshness task fails (alerting the owners) when a table of the "
        "source was last loaded longer ago than its dbt source freshness error_after; false: it logs a "
        "warning instead. `insight-hub run` turns it off unless it is set.",
    )

    source_finish_within: timedelta = Field(
        default=timedelta(hours=2),
        gt=timedelta(0),
        validation_alias="INSIGHT_HUB_SOURCE_FINISH_WITHIN",
        description="A source DAG run not finished this long after it was queued sends a deadline alert "
        "(ISO 8601 duration such as PT2H, or HH:MM:SS); a source's `finish_within` in the sources file "
        "overrides it.",
    )
    transform_finish_within: timedelta = Field(
        default=timedelta(hours=2),
        gt=timedelta(0),
        validation_alias="INSIGHT_HUB_TRANSFORM_FINISH_WITHIN",
        description="A transform DAG run not finished this long after it was queued sends a deadline alert.",
    )

    @property
    def alert_recipients(self) -> list[str]:
        return [address.strip() for address in self.alert_emails.split(",") if address.strip()]

    def as_env(self) -> dict[str, str]:
        """These settings as the environment variables that would produce them (for child processes)."""
        env = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value is not None and isinstance(field.validation_alias, str):
                env[field.validation_alias] = str(value)
        return env

    @property
    def landing_dir(self) -> Path:
        return self.landing_dir_override or self.home / "landing"

    @property
    def pgdata(self) -> Path:
        return self.home / "pg"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    def pii_key_bytes(self) -> bytes:
        from insight_hub.warehouse.access import pii_key

        return pii_key(self.pii_key.get_secret_value() if self.pii_key else None, self.home)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
