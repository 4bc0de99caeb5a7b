"""Generate demo exports for all four sources, plus the ground truth the hub should recover.

The files look like what the source systems export (a telephony platform's
call CSV, CRM tables, a survey tool's JSON Lines, an e-commerce order export),
so they load through mapping files like any user's data. Deterministic for a
seed. Noise is injected at the rates in `DemoConfig`:

- duplicate rows: an exact copy of a row in the same file;
- invalid rows: a value that breaks the contract (bad timestamp, text in a
  number, a channel or status outside the allowed set, a negative duration,
  a score out of range, a missing key); each is counted in the ground truth;
- the same person written differently: e-mail case and padding, phone in
  national or international format with spaces or dashes, typos in names,
  CRM id missing from contact-centre records and guest orders;
- late-arriving records: a contact that happened on day D is exported in
  the file of day D+1.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

FIRST_NAMES = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Grace",
    "Sophia",
    "Freya",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Muhammad",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Aisha",
    "Priya",
    "Chen",
    "Mateo",
    "Zofia",
    "Kwame",
    "Ines",
    "Tomasz",
    "Yusuf",
    "Sakura",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Nowak",
    "Okafor",
    "Garcia",
    "Khan",
    "Murphy",
    "Kelly",
    "Singh",
    "Ali",
    "Martin",
    "Clarke",
]
REGIONS = ["north", "south", "east", "west", "scotland", "wales"]
SEGMENTS = ["consumer", "consumer", "consumer", "smb", "enterprise"]
REASONS = {
    "billing": ["I was charged twice for my order", "The invoice amount is wrong", "Refund has not arrived"],
    "delivery": ["My parcel is late", "The courier left the parcel in the rain", "Delivery never arrived"],
    "product": ["The item arrived damaged", "The size guide was wrong", "Product stopped working"],
    "account": ["I cannot log in to my account", "Please update my address", "Close my account"],
}
QUEUES = {"billing": "billing", "delivery": "orders", "product": "orders", "account": "general"}
DELIVERY_PARTNERS = ["ParcelCo", "SwiftShip", "RoyalPost"]
CHANNELS = [("phone", 0.55), ("chat", 0.25), ("email", 0.15), ("social", 0.05)]
SURVEY_COMMENTS = {
    "high": ["Quick and helpful, thank you", "Great service from the agent", "Sorted first time"],
    "mid": ["Took a while but fixed", "OK in the end", "Average experience"],
    "low": [
        "Waited far too long on hold",
        "Nobody fixed my problem",
        "Courier was late again",
        "Charged twice",
    ],
}


@dataclass
class DemoConfig:
    customers: int = 500
    days: int = 14
    seed: int = 42
    start: date = date(2026, 1, 1)
    contacts_per_customer_day: float = 0.06
    orders_per_customer_day: float = 0.04
    survey_rate: float = 0.35
    abandon_rate: float = 0.08
    short_abandon_share: float = 0.25
    duplicate_rate: float = 0.01
    invalid_rate: float = 0.005
    late_rate: float = 0.02
    crm_id_missing_rate: float = 0.4
    guest_order_rate: float = 0.15
    # Identity's hard cases: people who never became CRM customers (guests: their records carry only an
    # e-mail or phone), and people who share a household e-mail with another CRM customer.
    not_in_crm_rate: float = 0.04
    shared_email_rate: float = 0.02
    name_typo_rate: float = 0.05


@dataclass
class _Person:
    number: int
    first: str
    last: str
    email: str
    phone_national: str  # e.g. 07700900123
    postcode: str
    in_crm: bool = True
    account_id: str = field(init=False)
    contact_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.account_id = f"A{self.number:06d}"
        self.contact_id = f"C{self.number:06d}"

    @property
    def phone_e164(self) -> str:
        return "+44" + self.phone_national[1:]


class _Writer:
    """Collects rows per file, injects duplicates and invalid rows, and writes them."""

    def __init__(self, root: Path, rng: random.Random, cfg: DemoConfig) -> None:
        self.root, self.rng, self.cfg = root, rng, cfg
        self.stats: dict[str, dict[str, int]] = {}
        self.broken_ids: set[str] = set()

    def write(self, relpath: str, rows: list[dict], breakers: list | None = None, id_field: str = "") -> None:
        rows = [dict(r) for r in rows]
        invalid = duplicates = 0
        broken: set[int] = set()
        if breakers:
            for i, row in enumerate(rows):
                if self.rng.random() < self.cfg.invalid_rate:
                    self.broken_ids.add(str(row[id_field]))
                    self.rng.choice(breakers)(row)
                    broken.add(i)
        out: list[dict] = []
        for i, row in enumerate(rows):
            copies = 2 if self.rng.random() < self.cfg.duplicate_rate else 1
            out.extend(dict(row) for _ in range(copies))
            duplicates += copies - 1
            invalid += copies if i in broken else 0
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".jsonl":
            with path.open("w", encoding="utf-8") as fh:
                for row in out:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0].keys()) if rows else [])
                writer.writeheader()
                writer.writerows(out)
        self.stats[relpath] = {"rows": len(out), "invalid": invalid, "duplicates": duplicates}


def _weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method is fine for the small daily rates used here; normal approximation above 30.
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam**0.5)))
    limit, k, p = 2.718281828459045 ** (-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _noisy_email(rng: random.Random, email: str) -> str:
    roll = rng.random()
    if roll < 0.2:
        return email.upper()
    if roll < 0.35:
        return email.capitalize()
    if roll < 0.45:
        return f" {email} "
    return email


def _noisy_phone(rng: random.Random, national: str) -> str:
    n = national
    return rng.choice(
        [
            n,
            f"+44 {n[1:5]} {n[5:]}",
            f"+44{n[1:]}",
            f"{n[:5]} {n[5:]}",
            f"({n[:5]}) {n[5:8]}-{n[8:]}",
            f"0044{n[1:]}",
        ]
    )


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def _ts(value: datetime) -> str:
    # Telephony and e-commerce exports write local wall-clock time without a zone.
    return value.strftime("%Y-%m-%d %H:%M:%S")


def generate(landing: Path, cfg: DemoConfig | None = None) -> dict:
    """Write the demo exports under `landing` and the ground truth under `landing/_ground_truth`."""
    cfg = cfg or DemoConfig()
    rng = random.Random(cfg.seed)
    landing = Path(landing)
    landing.mkdir(parents=True, exist_ok=True)
    w = _Writer(landing, rng, cfg)

    people = []
    phones: set[str] = set()
    for n in range(1, cfg.customers + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        while True:
            phone = f"07{rng.randrange(100000000, 999999999)}"
            if phone not in phones:
                phones.add(phone)
                break
        email = f"{first.lower()}.{last.lower()}{n}@example.com"
        postcode = f"{rng.choice('ABCDEGHLMNS')}{rng.randrange(1, 30)} {rng.randrange(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTUWXYZ')}"
        people.append(_Person(n, first, last, email, phone, postcode))
    _identity_noise(people, cfg)

    # ---- CRM --------------------------------------------------------------
    owners = [
        {
            "owner_id": "U0001",
            "name": "Hana Service",
            "email": "head.of.service@hub.example",
            "role": "head_of_service",
            "manager_id": "",
        }
    ]
    for i, queue in enumerate(sorted(set(QUEUES.values())), start=2):
        owners.append(
            {
                "owner_id": f"U{i:04d}",
                "name": f"{queue.title()} Lead",
                "email": f"lead.{queue}@hub.example",
                "role": "team_lead",
                "manager_id": "U0001",
            }
        )
    n_rel = max(3, cfg.customers // 100)
    rel_owner_ids = []
    for i in range(n_rel):
        oid = f"U{100 + i:04d}"
        rel_owner_ids.append(oid)
        owners.append(
            {
                "owner_id": oid,
                "name": f"Account Manager {i + 1}",
                "email": f"am{i + 1}@hub.example",
                "role": "relationship_owner",
                "manager_id": "U0001",
            }
        )
    w.write("crm/owners.csv", owners)

    accounts, contacts = [], []
    for p in people:
        crm_accounts = accounts if p.in_crm else []
        crm_contacts = contacts if p.in_crm else []
        crm_accounts.append(
            {
                "AccountId": p.account_id,
                "AccountName": f"{p.first} {p.last}",
                "Segment": rng.choice(SEGMENTS),
                "Region": rng.choice(REGIONS),
                "OwnerId": rng.choice(rel_owner_ids),
                "CreatedDate": _ts(datetime(2024, 1, 1) + timedelta(days=rng.randrange(0, 700))),
            }
        )
        crm_contacts.append(
            {
                "ContactId": p.contact_id,
                "AccountId": p.account_id,
                "FirstName": p.first,
                "LastName": p.last,
                "Email": p.email,
                "Phone": p.phone_national,
                "MailingPostalCode": p.postcode,
                "HasOptedInToEmail": rng.choice(["true", "false"]),
            }
        )
    w.write("crm/accounts.csv", accounts)
    w.write("crm/contacts.csv", contacts)

    # ---- contact centre -----------------------------------------------------
    agents = []
    for i in range(max(6, cfg.customers // 40)):
        agents.append(
            {
                "agent_id": f"AG{i + 1:03d}",
                "name": f"Agent {i + 1}",
                "team": rng.choice(["alpha", "beta"]),
                "site": rng.choice(["leeds", "glasgow"]),
                "cost_per_hour": f"{rng.uniform(18, 26):.2f}",
            }
        )
    w.write("contact_centre/agents.csv", agents)

    identity: list[dict] = []  # record -> true customer
    truth_contacts: list[dict] = []  # valid contacts as they really happened, for expected KPIs
    calls_by_file: dict[str, list[dict]] = {}
    responses_by_file: dict[str, list[dict]] = {}
    seq = 0
    for d in range(cfg.days):
        day = cfg.start + timedelta(days=d)
        for _ in range(_poisson(rng, cfg.customers * cfg.contacts_per_customer_day)):
            seq += 1
            p = rng.choice(people)
            reason = rng.choice(list(REASONS))
            channel = _weighted(rng, CHANNELS)
            queued = datetime.combine(day, datetime.min.time()) + timedelta(
                seconds=rng.randrange(8 * 3600, 20 * 3600)
            )
            abandoned = rng.random() < cfg.abandon_rate
            if abandoned:
                wait = (
                    rng.randrange(1, 5) if rng.random() < cfg.short_abandon_share else rng.randrange(5, 600)
                )
                answered, ended, agent = None, queued + timedelta(seconds=wait), ""
                talk = hold = wrap = 0
                outcome, transferred = "unresolved", False
            else:
                wait = int(rng.expovariate(1 / 35))
                answered = queued + timedelta(seconds=wait)
                talk, hold = int(rng.gauss(360, 120)) if channel == "phone" else int(rng.gauss(600, 200)), 0
                talk = max(30, talk)
                hold = int(rng.expovariate(1 / 40)) if rng.random() < 0.3 else 0
                wrap = rng.randrange(20, 120)
                ended = answered + timedelta(seconds=talk + hold)
                agent = rng.choice(agents)["agent_id"]
                outcome = _weighted(rng, [("resolved", 0.72), ("unresolved", 0.2), ("escalated", 0.08)])
                transferred = rng.random() < 0.1
            complaint = (not abandoned) and rng.random() < 0.1
            iid = f"INT{seq:08d}"
            keys = {
                "crm": "" if rng.random() < cfg.crm_id_missing_rate or not p.in_crm else p.account_id,
                "phone": _noisy_phone(rng, p.phone_national)
                if channel == "phone" or rng.random() < 0.3
                else "",
                "email": _noisy_email(rng, p.email)
                if channel in ("email", "chat") or rng.random() < 0.2
                else "",
            }
            if not any(keys.values()):
                keys["phone"] = _noisy_phone(rng, p.phone_national)
            row = {
                "Call ID": iid,
                "Media Type": channel.title(),
                "Queue Name": QUEUES[reason],
                "Agent": agent,
                "Customer Account": keys["crm"],
                "ANI": keys["phone"],
                "Email Address": keys["email"],
                "Queue Start": _ts(queued),
                "Answer Time": _ts(answered) if answered else "",
                "End Time": _ts(ended),
                "Talk Time": talk,
                "Hold Time": hold,
                "ACW Time": wrap,
                "Transferred": "Y" if transferred else "N",
                "Disposition": reason,
                "Outcome": outcome,
                "Complaint": "Y" if complaint else "N",
                "Notes": rng.choice(REASONS[reason]) + ("; customer is unhappy" if complaint else ""),
            }
            file_day = day + timedelta(days=1) if rng.random() < cfg.late_rate and d < cfg.days - 1 else day
            calls_by_file.setdefault(f"contact_centre/calls_{file_day.isoformat()}.csv", []).append(row)
            identity.append({"record_type": "interaction", "record_id": iid, "customer": p.account_id})
            truth_contacts.append(
                {
                    "id": iid,
                    "day": day.isoformat(),
                    "abandoned": abandoned,
                    "wait": wait,
                    "short": abandoned and wait < 5,
                    "channel": channel,
                    "handle": talk + hold + wrap,
                    "transferred": transferred,
                }
            )

            if not abandoned and rng.random() < cfg.survey_rate:
                stype = _weighted(rng, [("csat", 0.6), ("nps", 0.3), ("ces", 0.1)])
                top = {"csat": 5, "nps": 10, "ces": 7}[stype]
                bottom = {"csat": 1, "nps": 0, "ces": 1}[stype]
                good = outcome == "resolved" and not complaint
                score = (
                    rng.randint(max(bottom, top - 2), top)
                    if good
                    else rng.randint(bottom, max(bottom, top - 3))
                )
                band = "high" if good else ("low" if rng.random() < 0.7 else "mid")
                rid = f"R{seq:08d}"
                submitted = ended + timedelta(hours=rng.randrange(1, 30))
                name = f"{p.first} {p.last}"
                if rng.random() < cfg.name_typo_rate:
                    name = f"{_typo(rng, p.first)} {p.last}"
                responses_by_file.setdefault(
                    f"survey/responses_{submitted.date().isoformat()}.jsonl", []
                ).append(
                    {
                        "responseId": rid,
                        "surveyType": stype.upper(),
                        "score": score,
                        "comment": rng.choice(SURVEY_COMMENTS[band]),
                        "submittedAt": submitted.replace(tzinfo=UTC).isoformat(),
                        "contactRef": iid,
                        "respondent": {"email": _noisy_email(rng, p.email), "name": name},
                    }
                )
                identity.append({"record_type": "response", "record_id": rid, "customer": p.account_id})

    call_breakers = [
        lambda r: r.update({"Queue Start": "2026-13-45 25:61:00"}),
        lambda r: r.update({"Talk Time": "abc"}),
        lambda r: r.update({"Media Type": "Fax"}),
        lambda r: r.update({"Hold Time": -30}),
        lambda r: r.update({"Call ID": ""}),
    ]
    for relpath in sorted(calls_by_file):
        w.write(relpath, calls_by_file[relpath], call_breakers, "Call ID")
    response_breakers = [
        lambda r: r.update({"score": 11}),
        lambda r: r.update({"surveyType": "poll"}),
        lambda r: r.update({"submittedAt": "yesterday"}),
    ]
    for relpath in sorted(responses_by_file):
        w.write(relpath, responses_by_file[relpath], response_breakers, "responseId")

    # ---- sales --------------------------------------------------------------
    oseq = 0
    for d in range(cfg.days):
        day = cfg.start + timedelta(days=d)
        orders, lines = [], []
        for _ in range(_poisson(rng, cfg.customers * cfg.orders_per_customer_day)):
            oseq += 1
            p = rng.choice(people)
            oid = f"SO{oseq:07d}"
            ordered = datetime.combine(day, datetime.min.time()) + timedelta(seconds=rng.randrange(0, 86400))
            promised = ordered.date() + timedelta(days=rng.choice([2, 3, 5]))
            status = _weighted(
                rng, [("completed", 0.8), ("shipped", 0.1), ("cancelled", 0.05), ("returned", 0.05)]
            )
            delivered = (
                promised + timedelta(days=rng.choice([-1, 0, 0, 0, 1, 2]))
                if status in ("completed", "returned")
                else None
            )
            total = 0.0
            for ln in range(1, rng.randint(1, 3) + 1):
                qty, price = rng.randint(1, 3), round(rng.uniform(5, 120), 2)
                total += qty * price
                lines.append(
                    {
                        "order_id": oid,
                        "line_no": ln,
                        "sku": f"SKU{rng.randrange(1, 200):04d}",
                        "qty": qty,
                        "unit_price": f"{price:.2f}",
                    }
                )
            guest = rng.random() < cfg.guest_order_rate
            orders.append(
                {
                    "order_id": oid,
                    "customer_number": "" if guest or not p.in_crm else p.account_id,
                    "customer_email": _noisy_email(rng, p.email),
                    "order_date": _ts(ordered),
                    "order_status": status,
                    "order_total": f"{total:.2f}",
                    "currency": "GBP",
                    "carrier": rng.choice(DELIVERY_PARTNERS),
                    "promised_delivery_date": promised.isoformat(),
                    "delivered_date": delivered.isoformat() if delivered else "",
                }
            )
            identity.append({"record_type": "order", "record_id": oid, "customer": p.account_id})
        order_breakers = [
            lambda r: r.update({"order_total": "12,3x"}),
            lambda r: r.update({"order_status": "lost"}),
            lambda r: r.update({"order_date": "31/02/2026"}),
        ]
        if orders:
            w.write(f"sales/orders_{day.isoformat()}.csv", orders, order_breakers, "order_id")
            w.write(f"sales/order_lines_{day.isoformat()}.csv", lines)

    # ---- ground truth -----------------------------------------------------
    truth_dir = landing / "_ground_truth"
    truth_dir.mkdir(exist_ok=True)
    with (truth_dir / "identity.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["record_type", "record_id", "customer"])
        writer.writeheader()
        writer.writerows(identity)
        for p in people:
            if p.in_crm:
                writer.writerow(
                    {"record_type": "account", "record_id": p.account_id, "customer": p.account_id}
                )

    with (truth_dir / "expected_kpis.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["day", "kpi", "value"])
        for day_key, kpis in sorted(_expected_daily_kpis(truth_contacts, w.broken_ids).items()):
            for kpi, value in kpis.items():
                writer.writerow([day_key, kpi, value])

    summary = {
        "config": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(cfg).items()},
        "customers": cfg.customers,
        "files": w.stats,
    }
    (truth_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


# The KPI definitions of KPIS.md with the hub's defaults: short abandons (under 5 s) leave both
# offered and abandoned; the service-level threshold is per channel.
SHORT_ABANDON_SECONDS = 5
SERVICE_LEVEL_SECONDS = {"phone": 20, "chat": 20, "email": 14400, "social": 3600}


def _expected_daily_kpis(contacts: list[dict], broken: set[str]) -> dict[str, dict[str, object]]:
    """Contact-centre KPIs per day, worked out from the contacts as they really happened."""
    by_day: dict[str, list[dict]] = {}
    for c in contacts:
        if c["id"] not in broken and not (c["abandoned"] and c["wait"] < SHORT_ABANDON_SECONDS):
            by_day.setdefault(c["day"], []).append(c)
    out = {}
    for day_key, offered in by_day.items():
        handled = [c for c in offered if not c["abandoned"]]
        in_sla = [c for c in handled if c["wait"] <= SERVICE_LEVEL_SECONDS[c["channel"]]]
        out[day_key] = {
            "contacts_offered": len(offered),
            "contacts_handled": len(handled),
            "contacts_abandoned": len(offered) - len(handled),
            "abandonment_rate_pct": round(100 * (len(offered) - len(handled)) / len(offered), 2),
            "service_level_pct": round(100 * len(in_sla) / len(offered), 2),
            "asa_seconds": round(sum(c["wait"] for c in handled) / len(handled), 2) if handled else None,
            "aht_seconds": round(sum(c["handle"] for c in handled) / len(handled), 2) if handled else None,
            "transfer_rate_pct": round(100 * sum(c["transferred"] for c in handled) / len(handled), 2)
            if handled
            else None,
        }
    return out


def _identity_noise(people: list[_Person], cfg: DemoConfig) -> None:
    """Mark guests and give some CRM customers a household e-mail they share with another.

    A separate random stream, so turning these rates up or down leaves every other draw as it was.
    """
    rng = random.Random(cfg.seed * 7919 + 1)
    for p in people:
        p.in_crm = rng.random() >= cfg.not_in_crm_rate
    crm = [p for p in people if p.in_crm]
    for p in crm:
        if rng.random() < cfg.shared_email_rate:
            other = rng.choice(crm)
            if other is not p:
                p.email = other.email
