"""The sources file: for each source, its schedule and, per entity, where files land and how they map."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from insight_hub.contracts import Contract, ContractError, load_contract, load_yaml_model


class ColumnMap(BaseModel):
    """How one contract column is read from the export."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    lower: bool = False
    values: dict[str, str] | None = None


class Mapping(BaseModel):
    """A user's export mapped onto a contract, without code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entity: str
    format: Literal["csv", "jsonl"] = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"
    timezone: str = "UTC"
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


class EntitySource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str
    mapping: Path

    @field_validator("pattern")
    @classmethod
    def _inside_landing(cls, value: str) -> str:
        path = PurePosixPath(value)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError("must be a relative pattern inside the landing folder (no leading / and no ..)")
        return value


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule: str = "@daily"
    entities: dict[str, EntitySource]


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

    def entity(self, entity: str) -> tuple[EntitySource, Mapping]:
        for cfg in self.sources.values():
            if entity in cfg.entities:
                spec = cfg.entities[entity]
                mapping_path = (self.path.parent / spec.mapping).resolve()
                mapping = load_yaml_model(mapping_path, Mapping)
                assert isinstance(mapping, Mapping)
                if mapping.entity != entity:
                    raise ContractError(f"{mapping_path}: maps {mapping.entity!r}, expected {entity!r}")
                return spec, mapping
        raise ContractError(f"{self.path}: no source lists entity {entity!r}")

    def entities(self, source: str) -> list[str]:
        if source not in self.sources:
            raise ContractError(f"{self.path}: no source named {source!r} (known: {', '.join(self.sources)})")
        return list(self.sources[source].entities)
