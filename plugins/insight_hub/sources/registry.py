"""The sources file: for each source, its schedule and, per entity, where files land and how they map."""

from __future__ import annotations

import string
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from insight_hub.contracts import Contract, ContractError, load_contract, load_yaml_model


class OnlyIf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    equals: str


class ColumnMap(BaseModel):
    """How one contract column is read from the export: exactly one of `from`, `value` or `template`.

    - `from`: the export column; `value`: a constant; `template`: columns joined, e.g. "{Date} {Time}"
      (null when any of them is blank).
    - `lower`: lower-case the text; `values`: map export values to contract values.
    - `format`: a PostgreSQL to_timestamp/to_date pattern for dates written another way, e.g. "DD/MM/YYYY HH24:MI".
    - `duration`: the value is a duration ("00:02:23", "143", "2 min") turned into whole seconds.
    - `decimal_comma`: numbers written "1.234,56".
    - `plus_seconds`: an export column of seconds added to this timestamp (e.g. wait time -> answered at).
    - `only_if`: keep the value only when another export column equals a value; null otherwise.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str | None = Field(default=None, alias="from")
    value: str | None = None
    template: str | None = None
    lower: bool = False
    values: dict[str, str] | None = None
    format: str | None = None
    duration: bool = False
    decimal_comma: bool = False
    plus_seconds: str | None = None
    only_if: OnlyIf | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnMap:
        given = [k for k in ("source", "value", "template") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'from', 'value' or 'template'")
        if self.template is not None and not self.template_columns():
            raise ValueError("a template names at least one {column}")
        return self

    def template_columns(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.template or "") if name]

    def export_columns(self) -> list[str]:
        """Every export column this column reads."""
        cols = [self.source] if self.source else self.template_columns()
        if self.plus_seconds:
            cols.append(self.plus_seconds)
        if self.only_if:
            cols.append(self.only_if.column)
        return cols


class Mapping(BaseModel):
    """A user's export mapped onto a contract, without code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entity: str
    format: Literal["csv", "jsonl", "parquet"] = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"
    # Line of the header in CSV exports that start with a title or report lines (1 = first line).
    header_row: int = Field(default=1, ge=1)
    timezone: str = "UTC"
    # A record with a field longer than this (in bytes, as read) is quarantined rather than loaded: an
    # export that puts a document or a runaway quoted field in one cell should not reach the marts.
    max_field_bytes: int = Field(default=1 << 20, ge=1)
    columns: dict[str, str | ColumnMap]

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("must be a single character")
        return value

    @model_validator(mode="after")
    def _fits_contract(self) -> Mapping:
        contract = load_contract(self.entity)
        unknown = sorted(set(self.columns) - set(contract.column_names))
        if unknown:
            raise ValueError(f"columns {unknown} are not in the {self.entity} contract")
        missing = [c.name for c in contract.columns if c.required and c.name not in self.columns]
        if missing:
            raise ValueError(f"required contract columns {missing} are not mapped")
        return self

    @property
    def contract(self) -> Contract:
        return load_contract(self.entity)

    def column_maps(self) -> dict[str, ColumnMap]:
        """Contract column -> how to read it, in contract order."""
        out: dict[str, ColumnMap] = {}
        for name in self.contract.column_names:
            spec = self.columns.get(name)
            if spec is not None:
                out[name] = spec if isinstance(spec, ColumnMap) else ColumnMap(source=spec)
        return out


class FileFeed(BaseModel):
    """Files dropped in the landing folder, matched by a glob pattern."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connector: Literal["file"] = "file"
    pattern: str
    mapping: Path

    @field_validator("pattern")
    @classmethod
    def _inside_landing(cls, value: str) -> str:
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError("must be a relative pattern inside the landing folder (no leading / and no ..)")
        return value

    @property
    def feed_id(self) -> str:
        return f"file:{self.pattern}"


class SqlFeed(BaseModel):
    """A table or view in another PostgreSQL, read incrementally by a watermark column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connector: Literal["sql"]
    conn_id: str
    table: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
    watermark: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    mapping: Path
    batch_rows: int = Field(default=50_000, ge=1)

    @property
    def feed_id(self) -> str:
        return f"sql:{self.conn_id}:{self.table}"


class Pagination(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["cursor", "page"]
    items_field: str = "data"
    cursor_param: str = "cursor"
    next_cursor_field: str = "next_cursor"
    page_param: str = "page"
    page_size_param: str = "page_size"
    page_size: int = Field(default=100, ge=1)


class ApiFeed(BaseModel):
    """A JSON REST endpoint with pagination, read incrementally by an updated-since parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connector: Literal["api"]
    conn_id: str
    path: str
    mapping: Path
    pagination: Pagination
    updated_since_param: str | None = None
    watermark_field: str | None = None
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    max_retries: int = Field(default=5, ge=0)
    timeout_seconds: float = Field(default=30, gt=0)

    @property
    def feed_id(self) -> str:
        return f"api:{self.conn_id}:{self.path}"


def _connector(value: object) -> str:
    if isinstance(value, dict):
        return value.get("connector", "file")
    return getattr(value, "connector", "file")


# `connector` picks the feed's kind; without it a feed is a file pattern.
Feed = Annotated[
    Annotated[FileFeed, Tag("file")] | Annotated[SqlFeed, Tag("sql")] | Annotated[ApiFeed, Tag("api")],
    Discriminator(_connector),
]


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A cron expression or preset ("@daily", "0 6 * * 1-5"), or an interval as an ISO 8601 duration ("PT6H"),
    # which becomes a timedelta: both are what Airflow takes as a schedule.
    schedule: Annotated[timedelta | str, Field(union_mode="left_to_right")] = "@daily"
    # A run not finished this long after it was queued sends a deadline alert (default: settings).
    finish_within: timedelta | None = Field(default=None, gt=timedelta(0))
    # An entity may be fed by several exports (two CRMs, say): give a list of feeds.
    entities: dict[str, Feed | list[Feed]]

    @field_validator("schedule")
    @classmethod
    def _cron_is_valid(cls, value: timedelta | str) -> timedelta | str:
        if isinstance(value, str) and not croniter.is_valid(value):
            raise ValueError(f"{value!r} is neither a cron expression nor an ISO 8601 interval such as PT6H")
        return value

    def feeds(self, entity: str) -> list[FileFeed | SqlFeed | ApiFeed]:
        spec = self.entities[entity]
        return spec if isinstance(spec, list) else [spec]


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceConfig]


class Registry:
    """The loaded sources file, with mappings resolved relative to it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        parsed = load_yaml_model(self.path, SourcesFile)
        assert isinstance(parsed, SourcesFile)
        self.sources = parsed.sources
        for source, cfg in self.sources.items():
            for entity in cfg.entities:
                contract = load_contract(entity)
                if contract.source != source:
                    raise ContractError(
                        f"{self.path}: entity {entity!r} is listed under {source!r} "
                        f"but its contract belongs to {contract.source!r}"
                    )

    def feeds(self, entity: str) -> list[tuple[FileFeed | SqlFeed | ApiFeed, Mapping]]:
        """Every (landing pattern, mapping) that feeds `entity`; empty when the sources file does not list it."""
        out = []
        for cfg in self.sources.values():
            if entity in cfg.entities:
                for spec in cfg.feeds(entity):
                    out.append((spec, self.mapping(spec.mapping, entity)))
        return out

    def entity(self, entity: str) -> tuple[FileFeed | SqlFeed | ApiFeed, Mapping]:
        """The single feed of `entity` (the common case)."""
        feeds = self.feeds(entity)
        if not feeds:
            raise ContractError(f"{self.path}: no source lists entity {entity!r}")
        return feeds[0]

    def mapping(self, relative: Path, entity: str | None = None) -> Mapping:
        mapping_path = (self.path.parent / relative).resolve()
        mapping = load_mapping(mapping_path)
        if entity is not None and mapping.entity != entity:
            raise ContractError(f"{mapping_path}: maps {mapping.entity!r}, expected {entity!r}")
        return mapping


def load_mapping(path: Path) -> Mapping:
    mapping = load_yaml_model(Path(path), Mapping)
    assert isinstance(mapping, Mapping)
    return mapping
