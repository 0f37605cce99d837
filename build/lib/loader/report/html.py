"""A self-contained HTML report over the marts: inline SVG charts, no scripts, no network.

Reads the published warehouse read-only with a few small aggregate queries: the campaign funnel
by ``contact_status``, delivery outcomes by direction over time and speed to lead.
"""

from __future__ import annotations

import html
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from loader.report.parquet import mart_names, open_published

log = logging.getLogger(__name__)

TITLE = "Hatch messaging report"
CHART_TITLES = {
    "funnel": "Campaign funnel by contact status",
    "delivery": "Delivery outcomes by direction over time",
    "speed": "Speed to lead: time to first touch",
}
OUTCOMES = (  # column of fct_message_delivery, legend label, colour
    ("delivered_messages", "delivered", "#2e7d32"),
    ("received_messages", "received", "#1565c0"),
    ("pending_messages", "pending", "#f9a825"),
    ("failed_messages", "failed", "#c62828"),
    ("unknown_status_messages", "unknown", "#9e9e9e"),
)
SPEED_BUCKETS = (  # upper bound in seconds (exclusive), label
    (60, "< 1 min"),
    (300, "1-5 min"),
    (900, "5-15 min"),
    (3600, "15-60 min"),
    (4 * 3600, "1-4 h"),
    (24 * 3600, "4-24 h"),
    (math.inf, "> 1 day"),
)
NO_TOUCH = "no touch yet"


@dataclass
class Section:
    """One chart section: a title, the SVG (or a notice) and an optional table."""

    key: str
    title: str
    body: str
    note: str = ""


@dataclass
class ReportData:
    """Everything the report shows, already aggregated."""

    warehouse: str
    generated_at: str
    kpis: list[tuple[str, str]] = field(default_factory=list)
    funnel: list[tuple[str, int, int, int]] = field(default_factory=list)
    delivery: dict[str, list[tuple[date, dict[str, int]]]] = field(default_factory=dict)
    delivery_grain: str = "day"
    speed_buckets: list[tuple[str, int]] = field(default_factory=list)
    speed_by_source: list[tuple[str, int, int, float | None]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _fmt_int(value: float) -> str:
    return f"{round(value):,}"


def fmt_duration(seconds: float | None) -> str:
    """Seconds as a short human duration (``45 s``, ``3.5 min``, ``2.1 h``, ``1.5 d``)."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _pct(num: float | None, den: float | None) -> str:
    return "n/a" if not den or num is None else f"{100.0 * num / den:.1f}%"


def _funnel(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    data.funnel = [
        (str(s), int(c), int(o or 0), int(w or 0))
        for s, c, o, w in con.execute(
            "select coalesce(contact_status, '(none)'), sum(contacts), sum(opted_out_contacts),"
            " sum(contacts_with_sales) from marts.fct_campaign_performance group by 1"
            " order by min(contact_status_sort_order) nulls last, 2 desc, 1"
        ).fetchall()
    ]
    total = sum(c for _, c, _, _ in data.funnel)
    data.kpis.append(("Campaign contacts", _fmt_int(total)))
    data.kpis.append(("Opt-out rate", _pct(sum(o for _, _, o, _ in data.funnel), total)))


def _delivery(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    (days,) = con.execute(
        "select coalesce(max(message_date) - min(message_date), 0) from marts.fct_message_delivery"
    ).fetchone() or (0,)
    data.delivery_grain = "week" if int(days) > 62 else "day"
    period = (
        "date_trunc('week', message_date)::date"
        if data.delivery_grain == "week"
        else ("message_date")
    )
    outcomes = [c for c, _, _ in OUTCOMES]
    sums = ", ".join(f"coalesce(sum({c}), 0)" for c in outcomes)
    rows = con.execute(
        f"select coalesce(direction, '(none)'), {period}, {sums}"
        " from marts.fct_message_delivery group by 1, 2 order by 1, 2"
    ).fetchall()
    for direction, day, *values in rows:
        counts = dict(zip(outcomes, (int(v) for v in values), strict=True))
        data.delivery.setdefault(str(direction), []).append((day, counts))
    (messages, rate) = con.execute(
        "select coalesce(sum(messages), 0), sum(delivery_rate * outbound_final_messages)"
        " / nullif(sum(outbound_final_messages), 0) from marts.fct_message_delivery"
    ).fetchone() or (0, None)
    data.kpis.append(("Messages", _fmt_int(messages)))
    data.kpis.append(("Delivery rate", "n/a" if rate is None else f"{100 * rate:.1f}%"))


def _speed(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    cases = " ".join(
        f"when seconds_to_first_touch < {int(bound)} then '{label}'"
        for bound, label in SPEED_BUCKETS[:-1]
    )
    counts = dict(
        con.execute(
            f"select case when seconds_to_first_touch is null then '{NO_TOUCH}' {cases}"
            f" else '{SPEED_BUCKETS[-1][1]}' end, count(*) from marts.fct_speed_to_lead group by 1"
        ).fetchall()
    )
    labels = [label for _, label in SPEED_BUCKETS] + [NO_TOUCH]
    data.speed_buckets = [(label, int(counts.get(label, 0))) for label in labels]
    (median,) = con.execute(
        "select median(seconds_to_first_touch) from marts.fct_speed_to_lead"
    ).fetchone() or (None,)
    data.kpis.append(("Median time to first touch", fmt_duration(median)))
    data.speed_by_source = [
        (str(s), int(n), int(t), None if m is None else float(m))
        for s, n, t, m in con.execute(
            "select coalesce(lead_source, '(unknown)'), count(*), count(seconds_to_first_touch),"
            " median(seconds_to_first_touch) from marts.fct_speed_to_lead"
            " group by 1 order by 2 desc, 1"
        ).fetchall()
    ]


SECTIONS = (  # mart each section needs, and the function collecting its data
    ("fct_campaign_performance", _funnel),
    ("fct_message_delivery", _delivery),
    ("fct_speed_to_lead", _speed),
)


def collect(con: duckdb.DuckDBPyConnection, warehouse_path: Path) -> ReportData:
    """Run the report's aggregate queries on one read-only connection."""
    marts = set(mart_names(con))
    data = ReportData(
        warehouse=str(warehouse_path.resolve()),
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    for mart, collect_section in SECTIONS:
        if mart in marts:
            collect_section(con, data)
        else:
            data.missing.append(mart)
    return data


# --- SVG ------------------------------------------------------------------------------------------

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def count_axis(value: float, ticks: int = 4) -> float:
    """The top of a count axis >= value with ``ticks`` whole-number steps of a round size
    (1, 2, 2.5, 5 x 10^n; never a fraction: counts are whole)."""
    if value <= 0:
        return float(ticks)
    want = value / ticks
    exp = 10 ** max(0, math.floor(math.log10(want)))
    steps = (m * exp for m in (1, 2, 2.5, 5, 10) if (m * exp) % 1 == 0)
    return ticks * next(step for step in steps if step >= want)


def date_labels(periods: Sequence[Any]) -> list[str]:
    """Axis labels of dates: month-day, with the year when the range crosses one."""
    days = [d for d in periods if isinstance(d, date)]
    years = {d.year for d in days}
    fmt = "%Y-%m-%d" if len(years) > 1 else "%m-%d"
    return [d.strftime(fmt) if isinstance(d, date) else str(d) for d in periods]


def svg_hbar(
    rows: Sequence[tuple[str, float, str]], *, title: str, width: int = 960, color: str = "#3949ab"
) -> str:
    """Horizontal bars: (label, value, text shown after the bar)."""
    bar_h, gap, left, right, top = 26, 10, 190, 220, 8
    height = top + len(rows) * (bar_h + gap) + 4
    vmax = max((v for _, v, _ in rows), default=0) or 1
    scale = (width - left - right) / vmax
    parts = [
        f'<svg class="chart" role="img" aria-label="{_esc(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" style="{FONT};font-size:13px">'
    ]
    for i, (label, value, text) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = max(value * scale, 1.0 if value else 0.0)
        ty = y + bar_h / 2 + 4
        parts.append(
            f'<text x="{left - 8}" y="{ty:.1f}" text-anchor="end">{_esc(label)}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}" rx="3">'
            f"<title>{_esc(label)}: {_esc(text)}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{ty:.1f}" fill="#333">{_esc(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_columns(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    title: str,
    width: int = 1120,
    height: int = 240,
) -> str:
    """Stacked columns: one column per label, one stacked segment per (name, colour, values)."""
    left, right, top, bottom = 56, 12, 30, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)
    totals = [sum(s[2][i] for s in series) for i in range(len(labels))]
    vmax = count_axis(max(totals, default=0))
    step = plot_w / n
    col_w = max(step * 0.8, 1.0)
    parts = [
        f'<svg class="chart" role="img" aria-label="{_esc(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" style="{FONT};font-size:11px">'
    ]
    for k in range(5):  # grid lines and y labels
        v = vmax * k / 4
        tick = f"{v:,.0f}"
        y = top + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{tick}</text>"
        )
    for i, label in enumerate(labels):
        x = left + i * step + (step - col_w) / 2
        y = top + plot_h
        for name, color, values in series:
            value = values[i]
            if not value:
                continue
            h = plot_h * value / vmax
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w:.1f}" height="{h:.1f}" '
                f'fill="{color}"><title>{_esc(label)} {_esc(name)}: {_fmt_int(value)}</title>'
                "</rect>"
            )
    every = max(1, math.ceil(n / 12))
    for i in range(0, len(labels), every):
        x = left + i * step + step / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="#555">'
            f"{_esc(labels[i])}</text>"
        )
    x = left
    for name, color, _ in series:  # legend
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 16}" y="16">{_esc(name)}</text>'
        )
        x += 24 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


# --- HTML -----------------------------------------------------------------------------------------

CSS = """
body{margin:0;background:#f5f6f8;color:#1f2430;font-family:system-ui,-apple-system,'Segoe UI',
Roboto,sans-serif}
header{background:#1f2a44;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;color:#c5cbe0;font-size:13px}
main{padding:20px 32px;max-width:1180px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:20px}
.kpi{background:#fff;border-radius:8px;padding:12px 16px;min-width:150px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.kpi b{display:block;font-size:22px}.kpi span{color:#5b6275;font-size:12px}
section{background:#fff;border-radius:8px;padding:16px 20px;margin-bottom:20px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
section h2{margin:0 0 10px;font-size:18px}
section h3{margin:12px 0 4px;font-size:14px;color:#3c4355}
.note{color:#5b6275;font-size:12px;margin:6px 0 0}
table{border-collapse:collapse;font-size:13px;margin-top:10px}
th,td{padding:4px 12px;border-bottom:1px solid #e6e8ee;text-align:right}
th:first-child,td:first-child{text-align:left}
.missing{color:#b23b3b}
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _funnel_section(data: ReportData) -> Section:
    title = CHART_TITLES["funnel"]
    if not data.funnel:
        return Section("funnel", title, '<p class="missing">No campaign data.</p>')
    total = sum(c for _, c, _, _ in data.funnel) or 1
    bars = [(s, float(c), f"{_fmt_int(c)} ({100 * c / total:.1f}%)") for s, c, _, _ in data.funnel]
    table = _table(
        ["contact status", "contacts", "share", "opted out", "with sales"],
        [
            (s, _fmt_int(c), f"{100 * c / total:.1f}%", _fmt_int(o), _fmt_int(w))
            for s, c, o, w in data.funnel
        ],
    )
    return Section(
        "funnel",
        title,
        svg_hbar(bars, title=title) + table,
        "Contacts across all campaigns, by their current status in the campaign.",
    )


def _delivery_section(data: ReportData) -> Section:
    title = CHART_TITLES["delivery"]
    if not data.delivery:
        return Section("delivery", title, '<p class="missing">No message data.</p>')
    body = []
    periods = sorted({d for points in data.delivery.values() for d, _ in points})
    labels = date_labels(periods)
    for direction, points in sorted(data.delivery.items()):
        by_period = dict(points)  # the same x axis for every direction
        counts = [by_period.get(d, {}) for d in periods]
        series = [
            (name, color, [float(c.get(col, 0)) for c in counts])
            for col, name, color in OUTCOMES
            if any(c.get(col) for c in counts)
        ]
        body.append(f"<h3>{_esc(direction)}</h3>")
        body.append(svg_columns(labels, series, title=f"{title}: {direction}"))
    return Section(
        "delivery",
        title,
        "".join(body),
        f"Messages per {data.delivery_grain} (UTC) by delivery outcome, one chart per direction.",
    )


def _speed_section(data: ReportData) -> Section:
    title = CHART_TITLES["speed"]
    if not data.speed_buckets:
        return Section("speed", title, '<p class="missing">No speed-to-lead data.</p>')
    total = sum(n for _, n in data.speed_buckets) or 1
    bars = [(b, float(n), f"{_fmt_int(n)} ({100 * n / total:.1f}%)") for b, n in data.speed_buckets]
    body = svg_hbar(bars, title=title, color="#00897b")
    if data.speed_by_source:
        body += _table(
            ["lead source", "leads", "touched", "median time to first touch"],
            [(s, _fmt_int(n), _fmt_int(t), fmt_duration(m)) for s, n, t, m in data.speed_by_source],
        )
    return Section("speed", title, body, "Leads by time from lead creation to the first touch.")


def render(data: ReportData) -> str:
    """The report as one HTML document (inline CSS and SVG only)."""
    sections = [_funnel_section(data), _delivery_section(data), _speed_section(data)]
    kpis = "".join(
        f'<div class="kpi"><b>{_esc(v)}</b><span>{_esc(k)}</span></div>' for k, v in data.kpis
    )
    missing = (
        f'<p class="missing">Missing marts: {_esc(", ".join(data.missing))}</p>'
        if data.missing
        else ""
    )
    body = "".join(
        f'<section id="{s.key}"><h2>{_esc(s.title)}</h2>{s.body}'
        + (f'<p class="note">{_esc(s.note)}</p>' if s.note else "")
        + "</section>"
        for s in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(TITLE)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_esc(TITLE)}</h1><p>Generated {_esc(data.generated_at)} from "
        f"{_esc(data.warehouse)}</p></header>"
        f'<main><div class="kpis">{kpis}</div>{missing}{body}</main></body></html>\n'
    )


def write_report(warehouse_path: Path, out: Path) -> Path:
    """Query the published warehouse read-only and write the HTML report atomically."""
    with open_published(warehouse_path) as con:
        data = collect(con, warehouse_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(render(data), encoding="utf-8")
    os.replace(tmp, out)
    log.info("report written to %s", out)
    return out
