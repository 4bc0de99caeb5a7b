import csv
import hashlib
import json

from insight_hub.demo import DemoConfig, generate


def _digest(folder):
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_same_seed_same_files(tmp_path):
    cfg = DemoConfig(customers=80, days=3, seed=7)
    generate(tmp_path / "a", cfg)
    generate(tmp_path / "b", cfg)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    generate(tmp_path / "c", DemoConfig(customers=80, days=3, seed=8))
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_all_four_sources_and_ground_truth(tmp_path):
    summary = generate(tmp_path, DemoConfig(customers=200, days=4, seed=1))
    folders = {name.split("/")[0] for name in summary["files"]}
    assert folders == {"contact_centre", "crm", "survey", "sales"}
    truth = list(csv.DictReader((tmp_path / "_ground_truth" / "identity.csv").open()))
    accounts = [r for r in truth if r["record_type"] == "account"]
    # About 4 % of demo people are guests who never became CRM customers.
    assert 180 <= len(accounts) < 200
    # Every generated interaction, response and order has a true customer.
    calls = sum(
        1 for f in (tmp_path / "contact_centre").glob("calls_*.csv") for _ in csv.DictReader(f.open())
    )
    dup = sum(v["duplicates"] for k, v in summary["files"].items() if "calls_" in k)
    assert sum(r["record_type"] == "interaction" for r in truth) == calls - dup


def test_noise_is_injected_at_the_configured_rates(tmp_path):
    cfg = DemoConfig(customers=2000, days=5, seed=3, invalid_rate=0.02, duplicate_rate=0.02)
    summary = generate(tmp_path, cfg)
    calls = {k: v for k, v in summary["files"].items() if "calls_" in k}
    rows = sum(v["rows"] for v in calls.values())
    invalid = sum(v["invalid"] for v in calls.values())
    duplicates = sum(v["duplicates"] for v in calls.values())
    assert 0.01 < invalid / rows < 0.03
    assert 0.01 < duplicates / rows < 0.03
    # Identities are written differently across sources: upper-case e-mails and international phones appear.
    text = "".join(f.read_text() for f in (tmp_path / "contact_centre").glob("calls_*.csv"))
    assert "@EXAMPLE.COM" in text and "+44 " in text
    # Some contacts arrive a day late: they are exported in the next day's file.
    late = 0
    for path in (tmp_path / "contact_centre").glob("calls_*.csv"):
        day = path.stem.split("_")[1]
        late += sum(
            1
            for r in csv.DictReader(path.open())
            if not r["Queue Start"].startswith(day) and not r["Queue Start"].startswith("2026-13")
        )
    assert late > 0
    kpis = list(csv.DictReader((tmp_path / "_ground_truth" / "expected_kpis.csv").open()))
    assert {r["kpi"] for r in kpis} == {
        "contacts_offered", "contacts_handled", "contacts_abandoned", "abandonment_rate_pct",
        "service_level_pct", "asa_seconds", "aht_seconds", "transfer_rate_pct",
    }  # fmt: skip
    by = {(r["day"], r["kpi"]): float(r["value"]) for r in kpis if r["value"]}
    for day in {r["day"] for r in kpis}:
        offered, handled = by[(day, "contacts_offered")], by[(day, "contacts_handled")]
        assert offered == handled + by[(day, "contacts_abandoned")]
        assert by[(day, "abandonment_rate_pct")] == round(100 * (offered - handled) / offered, 2)
    json.loads((tmp_path / "_ground_truth" / "summary.json").read_text())


def test_identity_hard_cases_guests_and_household_emails(tmp_path):
    generate(
        tmp_path, DemoConfig(customers=1000, days=5, seed=3, not_in_crm_rate=0.05, shared_email_rate=0.03)
    )
    truth = list(csv.DictReader((tmp_path / "_ground_truth" / "identity.csv").open()))
    crm_accounts = {r["AccountId"] for r in csv.DictReader((tmp_path / "crm" / "accounts.csv").open())}
    customers = {r["customer"] for r in truth}
    guests = customers - crm_accounts
    # About 5 % of 1,000 people are guests; in 5 days some of them contact or order. None is in the CRM,
    # and their orders carry no customer number.
    assert 5 <= len(guests) <= 50
    assert {r["record_id"] for r in truth if r["record_type"] == "account"} == crm_accounts
    orders = {
        r["order_id"]: r for f in (tmp_path / "sales").glob("orders_*.csv") for r in csv.DictReader(f.open())
    }
    guest_orders = [r["record_id"] for r in truth if r["record_type"] == "order" and r["customer"] in guests]
    assert guest_orders and all(orders[o]["customer_number"] == "" for o in guest_orders if o in orders)
    # Household e-mails: some e-mail appears on two CRM contacts of different accounts.
    emails = [r["Email"] for r in csv.DictReader((tmp_path / "crm" / "contacts.csv").open())]
    shared = {e for e in emails if emails.count(e) > 1}
    assert 10 <= len(shared) <= 50
