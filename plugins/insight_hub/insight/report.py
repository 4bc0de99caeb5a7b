"""One manager's insight extract: the charter scoreboard, their scope's KPIs against the week before,
charts, the week's emerging themes, their customers at risk, and the detailed tables as an XLSX.

Everything is read from `marts` (never `marts_pii`): customers appear by their hub id, segment and
region, so an extract holds no customer e-mail, phone or name. The KPIs themselves are computed in dbt
(marts.manager_kpis, marts.charter_compliance); this module only selects, compares and draws them.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
import psycopg

TREND_WEEKS = 8
AT_RISK_ROWS = 10
# Open actions listed in the e-mail, soonest due first; the workbook has them all.
ACTION_ROWS = 15

# KPI, how the e-mail names it, and whether higher is better (None: neither, e.g. volume).
KPI_LABELS: dict[str, tuple[str, bool | None]] = {
    "contacts_offered": ("Contacts offered", None),
    "service_level_pct": ("Service level %", True),
    "abandonment_rate_pct": ("Abandonment %", False),
    "asa_seconds": ("Average speed of answer (s)", False),
    "aht_seconds": ("Average handle time (s)", False),
    "fcr_rate_pct": ("First-contact resolution %", True),
    "repeat_contact_rate_pct": ("Repeat contacts %", False),
    "complaints": ("Complaints", False),
    "complaint_rate_pct": ("Complaints per 100 handled", False),
    "csat_pct": ("CSAT %", True),
    "nps": ("NPS", True),
    "ces": ("Customer effort score (1-7, 7 = very easy)", True),
    "on_time_rate_pct": ("Delivered on time %", True),
}


@dataclass(frozen=True)
class Manager:
    owner_id: str
    name: str
    email: str
    role: str

    @property
    def scope(self) -> str:
        return {
            "head_of_service": "everything",
            "team_lead": "your queues",
            "relationship_owner": "your customers",
        }.get(self.role, "your scope")


@dataclass(frozen=True)
class Week:
    start: date

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    def before(self, weeks: int = 1) -> Week:
        return Week(self.start - timedelta(weeks=weeks))

    def label(self) -> str:
        return f"{self.start:%d %b} - {self.end:%d %b %Y}"


@dataclass
class ManagerReport:
    manager: Manager
    week: Week
    kpis: pd.DataFrame  # kpi, label, this week, last week, change, better
    charter: pd.DataFrame  # promise, target, then one column per week: measured value
    charter_kept: pd.DataFrame  # week_start, kept, broken
    kpi_trend: pd.DataFrame  # week_start, kpi, measured_value
    at_risk: pd.DataFrame
    emerging: pd.DataFrame  # theme, owner, mentions, baseline, z-score, masked examples
    actions: pd.DataFrame  # the manager's open actions, soonest due first
    charts: dict[str, bytes] = field(default_factory=dict)

    @property
    def promises_kept(self) -> tuple[int, int]:
        this = self.charter_kept[self.charter_kept["week_start"] == self.week.start]
        if this.empty:
            return 0, 0
        return int(this["kept"].iloc[0]), int(this["kept"].iloc[0] + this["broken"].iloc[0])


def managers(conn: psycopg.Connection) -> list[Manager]:
    """Everyone in the CRM's owners list with a role that receives an extract and an e-mail address."""
    rows = conn.execute(
        """select owner_id, owner_name, owner_email, role from marts.dim_owner
           where owner_email is not null and role in ('head_of_service', 'team_lead', 'relationship_owner')
           order by owner_id"""
    ).fetchall()
    return [Manager(*row) for row in rows]


def report_week(conn: psycopg.Connection) -> Week | None:
    """The latest full week (Monday to Sunday) the contact data covers; None when there is none."""
    latest = conn.execute("select max(contact_date) from marts.fct_contact").fetchone()[0]
    if latest is None:
        return None
    # A week is full once its Sunday is in the data.
    last_sunday = latest - timedelta(days=(latest.weekday() + 1) % 7)
    return Week(last_sunday - timedelta(days=6))


def _frame(conn: psycopg.Connection, query: str, params: dict) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query, params)
        columns = [c.name for c in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def build_report(conn: psycopg.Connection, manager: Manager, week: Week) -> ManagerReport:
    first = week.before(TREND_WEEKS - 1).start
    params = {"owner": manager.owner_id, "first": first, "this": week.start, "last": week.before().start}
    trend = _frame(
        conn,
        """select period_start as week_start, kpi, measured_value::float as measured_value
           from marts.manager_kpis
           where owner_id = %(owner)s and period_type = 'week' and period_start between %(first)s and %(this)s
           order by period_start, kpi""",
        params,
    )
    kpis = _compare(trend, week)
    charter_rows = _frame(
        conn,
        """select promise_id, promise, target::float as target, direction, period_start as week_start,
                  measured_value::float as measured_value, is_kept
           from marts.charter_compliance
           where period_type = 'week' and period_start between %(first)s and %(this)s
           order by promise_id, period_start""",
        params,
    )
    charter, kept = _charter_tables(charter_rows)
    at_risk = _at_risk(conn, manager)
    emerging = _frame(
        conn,
        """select theme_label as theme, owner_function as owner, mentions, baseline::float as baseline,
                  z_score::float as z_score, example_comments
           from marts.emerging_themes
           where week_start = %(this)s and is_emerging
           order by z_score desc, theme_id""",
        params,
    )
    actions = _frame(
        conn,
        """select action_id as action, action_type as kind,
                  coalesce(customer_id, theme_id, promise_id) as about, evidence,
                  due_at::date as due, is_overdue as overdue
           from marts.insight_action
           where owner_id = %(owner)s and status = 'open'
           order by due_at, action_id""",
        params,
    )
    report = ManagerReport(manager, week, kpis, charter, kept, trend, at_risk, emerging, actions)
    report.charts = draw_charts(report)
    return report


def _compare(trend: pd.DataFrame, week: Week) -> pd.DataFrame:
    wide = trend.pivot_table(index="kpi", columns="week_start", values="measured_value", aggfunc="first")
    rows = []
    for kpi, (label, higher_is_better) in KPI_LABELS.items():
        this = wide.at[kpi, week.start] if kpi in wide.index and week.start in wide.columns else None
        last = (
            wide.at[kpi, week.before().start]
            if kpi in wide.index and week.before().start in wide.columns
            else None
        )
        this = None if pd.isna(this) else float(this)
        last = None if pd.isna(last) else float(last)
        if this is None and last is None:
            continue
        change = round(this - last, 2) if this is not None and last is not None else None
        verdict = ""
        if change and higher_is_better is not None:
            verdict = "better" if (change > 0) == higher_is_better else "worse"
        rows.append({"kpi": kpi, "measure": label, "this_week": this, "last_week": last,
                     "change": change, "verdict": verdict})  # fmt: skip
    return pd.DataFrame(rows, columns=["kpi", "measure", "this_week", "last_week", "change", "verdict"])


def _charter_tables(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    if rows.empty:
        return (pd.DataFrame(columns=["promise", "target"]),
                pd.DataFrame(columns=["week_start", "kept", "broken"]))  # fmt: skip
    values = rows.pivot_table(
        index=["promise", "direction", "target"],
        columns="week_start",
        values="measured_value",
        aggfunc="first",
    ).reset_index()
    values.columns = [c.isoformat() if isinstance(c, date) else c for c in values.columns]
    kept = (
        rows.groupby("week_start")["is_kept"]
        .agg(kept="sum", total="count")
        .assign(broken=lambda d: d["total"] - d["kept"])
        .drop(columns="total")
        .reset_index()
    )
    return values, kept


def _at_risk(conn: psycopg.Connection, manager: Manager) -> pd.DataFrame:
    """High churn-risk customers in the manager's scope, most valuable first (hub ids, no personal data)."""
    if manager.role == "team_lead":
        scope = """customer_id in (select c.customer_id from marts.fct_contact as c
                    join ops.owner_queue as q on q.queue = c.queue where q.owner_id = %(owner)s)"""
    elif manager.role == "relationship_owner":
        scope = "owner_id = %(owner)s"
    else:
        scope = "true"
    return _frame(
        conn,
        f"""select customer_id, segment, region, value_to_date::float as value_to_date, complaints,
                   last_csat_score, last_nps_score, days_since_last_contact, health_score::float as health_score
            from marts.customer_360
            where churn_risk_band = 'high' and {scope}
            order by value_to_date desc, customer_id
            limit 500""",
        {"owner": manager.owner_id},
    )


# Fixed margins instead of tight_layout(), which measured every label of every chart and took a third of
# the time of a day's extracts; these leave room for the axis labels on both sides and the title.
MARGINS = {"left": 0.13, "right": 0.89, "top": 0.87, "bottom": 0.13}
CHART_SIZE = (6, 2.6)  # inches; 600 x 260 pixels at 100 dpi


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _figure():
    # matplotlib's object API, not pyplot: no global figure registry to keep and close.
    from matplotlib.figure import Figure

    fig = Figure(figsize=CHART_SIZE)
    fig.subplots_adjust(**MARGINS)
    return fig, fig.add_subplot()


@functools.lru_cache(maxsize=8)
def _charter_chart(weeks: tuple[str, ...], kept: tuple[int, ...], broken: tuple[int, ...]) -> bytes:
    """The charter chart is the same in every manager's e-mail of a build: drawn once, not once each."""
    fig, ax = _figure()
    ax.bar(weeks, kept, color="#2e7d32", label="kept")
    ax.bar(weeks, broken, bottom=kept, color="#c62828", label="broken")
    ax.set_title("Charter promises kept per week")
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


# The scope's charts differ between managers only in their figures and title. Setting up a figure (axes,
# ticks, labels, legend) cost as much as drawing it, so each layout (its weeks, its series) is set up once
# per process and redrawn with each manager's values; a chart depends on nothing but those values.


@dataclass
class _Chart:
    fig: object
    ax: object
    bars: object | None  # the BarContainer of the volume bars
    lines: dict[str, object]  # kpi -> Line2D

    def draw(self, title: str, bars: list[float] | None, lines: dict[str, list[float]]) -> bytes:
        if self.bars is not None and bars is not None:
            for rect, height in zip(self.bars, bars, strict=True):
                rect.set_height(height)
        for kpi, values in lines.items():
            self.lines[kpi].set_ydata(values)
        self.ax.relim()
        self.ax.autoscale_view()
        self.ax.set_title(title)
        return _png(self.fig)


@functools.lru_cache(maxsize=16)
def _contacts_layout(weeks: tuple[str, ...], with_service_level: bool) -> _Chart:
    fig, ax = _figure()
    x = list(range(len(weeks)))
    bars = ax.bar(x, [0.0] * len(x), color="#90a4ae", label="contacts offered")
    ax.set_xticks(x, weeks)
    ax.set_ylabel("contacts")
    lines = {}
    if with_service_level:
        twin = ax.twinx()
        (lines["service_level_pct"],) = twin.plot(
            x, [0.0] * len(x), color="#1565c0", marker="o", label="service level %"
        )
        twin.set_ylim(0, 100)
        twin.set_ylabel("service level %")
    return _Chart(fig, ax, bars, lines)


@functools.lru_cache(maxsize=16)
def _satisfaction_layout(weeks: tuple[str, ...], kpis: tuple[str, ...]) -> _Chart:
    fig, ax = _figure()
    x = list(range(len(weeks)))
    colours = {"csat_pct": "#2e7d32", "nps": "#6a1b9a"}
    lines = {}
    for kpi in kpis:
        (lines[kpi],) = ax.plot(x, [0.0] * len(x), marker="o", color=colours[kpi], label=KPI_LABELS[kpi][0])
    ax.set_xticks(x, weeks)
    ax.axhline(0, color="#bbbbbb", linewidth=0.8)
    ax.legend(loc="lower left", fontsize=8)
    return _Chart(fig, ax, None, lines)


def draw_charts(report: ManagerReport) -> dict[str, bytes]:
    """PNG charts for the e-mail: charter promises kept per week, contact volume with service level, and
    CSAT / NPS; each only when there is data to draw."""
    charts: dict[str, bytes] = {}
    if not report.charter_kept.empty:
        kept = report.charter_kept
        charts["charter.png"] = _charter_chart(
            tuple(d.strftime("%d %b") for d in kept["week_start"]),
            tuple(int(n) for n in kept["kept"]),
            tuple(int(n) for n in kept["broken"]),
        )

    trend = report.kpi_trend.pivot_table(index="week_start", columns="kpi", values="measured_value")
    weeks = tuple(d.strftime("%d %b") for d in trend.index)

    def series(kpi: str) -> list[float]:
        return [float(v) for v in trend[kpi]]

    if "contacts_offered" in trend:
        with_service_level = "service_level_pct" in trend
        chart = _contacts_layout(weeks, with_service_level)
        charts["contacts.png"] = chart.draw(
            f"Contacts and service level ({report.manager.scope})",
            bars=series("contacts_offered"),
            lines={"service_level_pct": series("service_level_pct")} if with_service_level else {},
        )
    satisfaction = tuple(k for k in ("csat_pct", "nps") if k in trend)
    if satisfaction:
        chart = _satisfaction_layout(weeks, satisfaction)
        charts["satisfaction.png"] = chart.draw(
            f"CSAT and NPS ({report.manager.scope})", bars=None, lines={k: series(k) for k in satisfaction}
        )
    return charts


def workbook(report: ManagerReport) -> bytes:
    """The XLSX attachment: one sheet per table of the e-mail, in full."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        report.kpis.drop(columns="kpi").to_excel(writer, sheet_name="KPIs", index=False)
        report.charter.to_excel(writer, sheet_name="Charter", index=False)
        trend = report.kpi_trend.pivot_table(index="kpi", columns="week_start", values="measured_value")
        trend.columns = [c.isoformat() for c in trend.columns]
        trend.reset_index().to_excel(writer, sheet_name="Weekly trend", index=False)
        report.at_risk.to_excel(writer, sheet_name="Customers at risk", index=False)
        report.emerging.to_excel(writer, sheet_name="Emerging themes", index=False)
        report.actions.to_excel(writer, sheet_name="Open actions", index=False)
    return buffer.getvalue()
