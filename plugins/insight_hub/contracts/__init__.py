"""Source contracts: the canonical shape of every source entity, kept as YAML beside this module."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

CONTRACT_DIR = Path(__file__).parent

ColumnType = Literal["text", "integer", "numeric", "boolean", "timestamptz", "date"]


class ContractError(ValueError):
    """A contract or mapping file is malformed; the message names the file and field."""


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: ColumnType
    required: bool = False
    pii: bool = False
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    description: str | None = None


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    entity: str
    source: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @model_validator(mode="after")
    def _key_columns_exist(self) -> Contract:
        names = {c.name for c in self.columns}
        missing = [k for k in self.key if k not in names]
        if missing:
            raise ValueError(f"key column(s) {missing} are not among the columns")
        return self

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def load_yaml_model(path: Path, model: type[BaseModel]) -> BaseModel:
    """Parse a YAML file into `model`, turning any problem into one ContractError naming file and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContractError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ContractError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<top>'}: {err['msg']}" for err in exc.errors()
        )
        raise ContractError(f"{path}: {problems}") from exc


@cache
def load_contract(entity: str) -> Contract:
    path = CONTRACT_DIR / f"{entity}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in CONTRACT_DIR.glob("*.yaml")))
        raise ContractError(f"no contract for entity {entity!r} (known: {known})")
    contract = load_yaml_model(path, Contract)
    assert isinstance(contract, Contract)
    return contract


def all_contracts() -> list[Contract]:
    return [load_contract(p.stem) for p in sorted(CONTRACT_DIR.glob("*.yaml"))]
