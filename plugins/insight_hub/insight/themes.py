"""The voice-of-customer theme taxonomy: themes, their keywords per language, owner and touchpoint.

A YAML file the business edits (INSIGHT_HUB_THEMES); published to ops.theme_keyword before every
transform, where int_comment_themes matches every survey comment and contact note against it. A
malformed file fails with the file and field named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import psycopg
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from insight_hub.contracts import ContractError, load_yaml_model

Touchpoint = Literal["order", "delivery", "contact", "billing", "account", "product"]


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    owner: str = Field(min_length=1)
    touchpoint: Touchpoint
    keywords: dict[str, tuple[str, ...]] = Field(min_length=1)

    @field_validator("keywords")
    @classmethod
    def _keywords_usable(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for language, words in value.items():
            if not words:
                raise ValueError(f"{language}: lists no keyword")
            if any(not w.strip() for w in words):
                raise ValueError(f"{language}: a keyword is empty")
        return {lang: tuple(w.strip().lower() for w in words) for lang, words in value.items()}


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    themes: tuple[Theme, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_unique(self) -> Taxonomy:
        ids = [t.id for t in self.themes]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"theme ids repeat: {', '.join(repeated)}")
        return self

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        return sorted(
            {
                (t.id, t.label, t.owner, t.touchpoint, language, word)
                for t in self.themes
                for language, words in t.keywords.items()
                for word in words
            }
        )


def load_taxonomy(path: Path) -> Taxonomy:
    taxonomy = load_yaml_model(path, Taxonomy)
    assert isinstance(taxonomy, Taxonomy)
    return taxonomy


def publish_taxonomy(conn: psycopg.Connection, path: Path) -> int:
    """Replace ops.theme_keyword with the taxonomy at `path` in one transaction; returns the keyword count."""
    try:
        rows = load_taxonomy(path).rows()
    except ContractError as exc:
        raise ContractError(f"themes: {exc}") from exc
    with conn.transaction():
        conn.execute("delete from ops.theme_keyword")
        with conn.cursor() as cur:
            cur.executemany(
                """insert into ops.theme_keyword (theme_id, label, owner_function, touchpoint, language, keyword)
                   values (%s, %s, %s, %s, %s, %s)""",
                rows,
            )
    return len(rows)
