"""Semantic models and metrics: ``mf query`` answers on DuckDB and agrees with the marts."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import duckdb
import pytest
from bi_support import run

METRICS = ("delivery_rate", "reply_rate", "opt_out_rate", "median_seconds_to_first_touch")

# the same numbers computed directly on the marts, per UTC day
DIRECT_SQL = {
    "delivery_rate": """
        select cast(message_at as date) as day,
            sum(case when direction = 'outbound' and is_final_status
                and delivery_outcome = 'delivered' then 1 else 0 end)::double
            / nullif(sum(case when direction = 'outbound' and is_final_status
                then 1 else 0 end), 0)
        from marts.fct_messages group by 1""",
    "reply_rate": """
        select cast(lead_created_at as date), sum(case when has_reply then 1 else 0 end)::double
            / nullif(sum(case when is_touched then 1 else 0 end), 0)
        from marts.fct_speed_to_lead group by 1""",
    "opt_out_rate": """
        select cast(updated_at as date), avg(case when is_opted_out then 1.0 else 0.0 end)
        from marts.fct_contact_campaigns group by 1""",
    "median_seconds_to_first_touch": """
        select cast(lead_created_at as date), median(seconds_to_first_touch)
        from marts.fct_speed_to_lead group by 1""",
}


def mf(env: dict[str, str], project: Path, *args: str) -> None:
    """Run ``mf`` from the virtualenv in the sandbox project."""
    run([str(Path(sys.executable).with_name("mf")), *args], env, cwd=project, timeout=300)


def _number(value: str) -> float | None:
    return None if value in ("", "None", "nan") else float(value)


@pytest.fixture(scope="module")
def mf_by_day(
    dbt_sandbox: tuple[Path, dict[str, str]],
    docs_target: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, dict[str, float | None]]:
    """``mf query --metrics <all four> --group-by metric_time__day`` as {metric: {day: value}}."""
    project, env = dbt_sandbox
    out = tmp_path_factory.mktemp("mf") / "by_day.csv"
    mf(
        env,
        project,
        "query",
        "--metrics",
        ",".join(METRICS),
        "--group-by",
        "metric_time__day",
        "--csv",
        str(out),
        "--quiet",
    )
    result: dict[str, dict[str, float | None]] = {m: {} for m in METRICS}
    with out.open(newline="") as f:
        for row in csv.DictReader(f):
            day = row["metric_time__day"][:10]
            for metric in METRICS:
                result[metric][day] = _number(row[metric])
    return result


def test_mf_validates_the_semantic_layer(
    dbt_sandbox: tuple[Path, dict[str, str]], docs_target: Path
) -> None:
    project, env = dbt_sandbox
    mf(env, project, "validate-configs", "--skip-dw")


@pytest.mark.parametrize("metric", METRICS)
def test_mf_metric_by_day_matches_the_marts(
    metric: str,
    mf_by_day: dict[str, dict[str, float | None]],
    dbt_sandbox: tuple[Path, dict[str, str]],
) -> None:
    project, _ = dbt_sandbox
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        expected = {
            str(day): None if value is None else float(value)
            for day, value in con.execute(DIRECT_SQL[metric]).fetchall()
            if day is not None
        }
    got = {day: v for day, v in mf_by_day[metric].items() if v is not None}
    assert got, f"mf returned no {metric} values"
    assert got.keys() == {day for day, v in expected.items() if v is not None}
    for day, value in got.items():
        assert math.isclose(value, expected[day], rel_tol=1e-9, abs_tol=1e-9), (metric, day)


def test_mf_delivery_rate_matches_fct_message_delivery(
    mf_by_day: dict[str, dict[str, float | None]], dbt_sandbox: tuple[Path, dict[str, str]]
) -> None:
    project, _ = dbt_sandbox
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select message_date, sum(delivery_rate * outbound_final_messages)"
            " / nullif(sum(outbound_final_messages), 0) from marts.fct_message_delivery group by 1"
        ).fetchall()
    expected = {str(day): rate for day, rate in rows if rate is not None}
    got = {day: v for day, v in mf_by_day["delivery_rate"].items() if v is not None}
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[d], expected[d], rel_tol=1e-9) for d in got)
