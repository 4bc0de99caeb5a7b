from pathlib import Path

import pytest

from insight_hub.contracts import Contract, ContractError, all_contracts, load_contract, load_yaml_model
from insight_hub.sources.registry import Mapping, Registry

ROOT = Path(__file__).resolve().parents[3]


def test_every_design_entity_has_a_contract():
    entities = {c.entity for c in all_contracts()}
    assert entities == {
        "interaction",
        "agent",
        "account",
        "contact",
        "owner",
        "response",
        "order",
        "order_line",
        "payment",
    }


def test_contract_keys_and_pii_flags():
    interaction = load_contract("interaction")
    assert interaction.key == ("interaction_id",)
    assert {c.name for c in interaction.columns if c.pii} == {"customer_phone", "customer_email", "notes"}
    assert interaction.column("channel").allowed == ("phone", "chat", "email", "social")


def test_malformed_contract_names_file_and_field(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text(
        "entity: x\nsource: s\ndescription: d\nkey: [id]\ncolumns:\n  - {name: id, type: varchar}\n"
    )
    with pytest.raises(ContractError) as err:
        load_yaml_model(bad, Contract)
    assert str(bad) in str(err.value)
    assert "columns.0.type" in str(err.value)


def test_invalid_yaml_names_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("entity: x\ncolumns: [\n  a: b\n")
    with pytest.raises(ContractError, match=r"bad\.yaml:\d+: not valid YAML"):
        load_yaml_model(bad, Contract)


def test_mapping_must_map_required_columns(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("entity: interaction\ncolumns:\n  interaction_id: Call ID\n")
    with pytest.raises(ContractError, match=r"required contract columns \['channel', 'queue', 'queued_at'\]"):
        load_yaml_model(path, Mapping)


def test_mapping_rejects_columns_outside_the_contract(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("entity: agent\ncolumns:\n  agent_id: id\n  shoe_size: shoes\n")
    with pytest.raises(ContractError, match="shoe_size"):
        load_yaml_model(path, Mapping)


def test_demo_registry_loads_every_entity():
    registry = Registry(ROOT / "examples" / "demo" / "sources.yaml")
    for source, cfg in registry.sources.items():
        for entity in cfg.entities:
            spec, mapping = registry.entity(entity)
            assert mapping.contract.source == source
            assert spec.pattern


def test_landing_pattern_cannot_leave_the_landing_folder(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  crm:\n    entities:\n      owner: {pattern: '../../etc/*', mapping: m.yaml}\n"
    )
    with pytest.raises(ContractError, match="inside the landing folder"):
        Registry(sources)
