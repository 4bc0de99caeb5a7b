"""The theme taxonomy is validated on load, with the file and field named."""

import pytest
import yaml

from insight_hub.contracts import ContractError
from insight_hub.insight.themes import load_taxonomy
from insight_hub.settings import Settings


def test_the_demo_taxonomy_loads_with_an_owner_and_touchpoint_per_theme():
    taxonomy = load_taxonomy(Settings().themes_file)
    assert [t.id for t in taxonomy.themes] == [
        "billing", "delivery", "product_quality", "account_access", "waiting", "unresolved"
    ]  # fmt: skip
    assert {t.owner for t in taxonomy.themes} == {
        "finance",
        "logistics",
        "product",
        "digital",
        "contact_centre",
    }
    assert (
        "delivery",
        "Late, lost or mishandled deliveries",
        "logistics",
        "delivery",
        "pt",
        "não chegou",
    ) in (taxonomy.rows())


@pytest.mark.parametrize(
    ("theme", "message"),
    [
        ({"touchpoint": "warehouse"}, "themes.0.touchpoint: Input should be 'order', 'delivery'"),
        ({"keywords": {"en": []}}, "themes.0.keywords: Value error, en: lists no keyword"),
        ({"keywords": {"en": ["late", " "]}}, "themes.0.keywords: Value error, en: a keyword is empty"),
        ({"colour": "red"}, "themes.0.colour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_theme_is_named_with_its_file_and_field(tmp_path, theme, message):
    good = {"id": "late", "label": "Late", "owner": "logistics", "touchpoint": "delivery",
            "keywords": {"en": ["late"]}}  # fmt: skip
    path = tmp_path / "themes.yaml"
    path.write_text(yaml.safe_dump({"themes": [good | theme]}))
    with pytest.raises(ContractError) as error:
        load_taxonomy(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_repeated_theme_ids_are_refused(tmp_path):
    path = tmp_path / "themes.yaml"
    path.write_text(
        "themes:\n" + "  - {id: late, label: L, owner: o, touchpoint: delivery, keywords: {en: [late]}}\n" * 2
    )
    with pytest.raises(ContractError, match="theme ids repeat: late"):
        load_taxonomy(path)
