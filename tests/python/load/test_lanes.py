"""The insert lanes' plan (each lane one stretch of the datasets laid end to end) and the lanes."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from loader.load import lanes
from loader.load.hatch_archives import ExportName, Member
from loader.load.lanes import lane_plan

CH, CI = "contact_history", "conversation_items"


def _lanes_of(plan: list[tuple[int, int]], weights) -> dict[int, list[str]]:
    """Each lane's datasets, in the order the lane meets them."""
    by_lane: dict[int, list[str]] = {}
    for i, lane in plan:
        names = by_lane.setdefault(lane, [])
        if not names or names[-1] != weights[i][0]:
            names.append(weights[i][0])
    return by_lane


def test_plan_cuts_the_datasets_laid_end_to_end_into_one_stretch_per_lane():
    # archives in name order, as discovery gives them: ten small ones, then ten large ones
    weights = [(CH, 10)] * 10 + [(CI, 40)] * 10
    plan = lane_plan(range(20), weights, lanes=2)
    assert sorted(i for i, _ in plan) == list(range(20))
    # 500 bytes: lane 0 holds the first half of the large dataset, lane 1 the rest and the small
    # one whole; neither dataset is scattered over both lanes in small shares
    assert _lanes_of(plan, weights) == {0: [CI], 1: [CI, CH]}
    assert [i for i, lane in plan if lane == 0] == list(range(10, 16))
    # each dataset keeps its order within a lane
    assert [i for i, lane in plan if lane == 1] == [16, 17, 18, 19, *range(10)]


def test_plan_feeds_every_lane_all_along():
    """Archives are inflated in the order of their progress through their lane's stretch: every
    stretch of five archives fed holds work for both lanes."""
    weights = [(CH, 10)] * 10 + [(CI, 40)] * 10
    plan = lane_plan(range(20), weights, lanes=2)
    assert all({lane for _, lane in plan[k : k + 5]} == {0, 1} for k in range(0, 20, 5))


@pytest.mark.parametrize(
    ("weights", "lanes_", "expected"),
    [
        ([(CH, 10)] * 10 + [(CI, 40)] * 10, 1, {0: [CI, CH]}),  # one lane: everything
        ([(CI, 40)] * 10, 3, {0: [CI], 1: [CI], 2: [CI]}),  # one dataset: a third each
        ([(CH, 40)] * 10 + [(CI, 10)] * 10, 2, {0: [CH], 1: [CH, CI]}),  # the largest first
        ([(CI, 100), (CH, 10)], 2, {0: [CI], 1: [CH]}),  # a nightly day: one archive each
        ([(CI, 100)], 2, {0: [CI]}),  # one archive: one lane
        ([(CI, 100), (CI, 100), (CH, 1)], 3, {0: [CI], 1: [CI, CH]}),  # no idle lane between
    ],
)
def test_plan_splits_a_dataset_only_where_a_stretch_ends(weights, lanes_, expected):
    plan = lane_plan(range(len(weights)), weights, lanes=lanes_)
    assert _lanes_of(plan, weights) == expected


def test_plan_of_a_subset_plans_only_that_subset():
    weights = [(CH, 10)] * 6 + [(CI, 40)] * 6
    plan = lane_plan([1, 4, 7, 9], weights, lanes=2)
    assert sorted(i for i, _ in plan) == [1, 4, 7, 9]
    assert dict(plan) == {7: 0, 9: 1, 1: 1, 4: 1}


def _member(tmp: Path, index: int) -> Member:
    path = tmp / f"{index}.json"
    path.write_text("{}\n")
    return Member(path, ExportName(CI, date(2024, 1, 1), date(2024, 1, 1), "json"), str(path))


def _run(con: duckdb.DuckDBPyConnection, insert: lanes.Insert, plan: list[tuple[int, int]]):
    """One-line members through the lanes of ``plan``."""
    prepare = lambda i, folder: _member(folder, i)  # noqa: E731
    return lanes.run(con, plan, prepare, insert, lane_bytes=1 << 30)


def test_every_archive_is_inserted_once_by_its_lane(tmp_path):
    """Each lane inserts its archives on its own connection, although the other lane is free for
    most of them (lane 1's inserts are slow, lane 0's quick)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER)")
    plan = [(i, i % 2) for i in range(40)]
    seen: dict[int, int] = {}
    guard = threading.Lock()

    def insert(cur: duckdb.DuckDBPyConnection, i: int, member: Member) -> int:
        if i % 2:
            time.sleep(0.01)
        cur.execute("INSERT INTO t VALUES (?)", [i])
        with guard:
            seen[i] = threading.get_ident()
        return 1

    outcome = _run(con, insert, plan)
    assert sorted(outcome.loaded) == list(range(40))
    assert {seen[i] for i in range(0, 40, 2)} != {seen[i] for i in range(1, 40, 2)}
    assert len({seen[i] for i in range(0, 40, 2)}) == len({seen[i] for i in range(1, 40, 2)}) == 1
    assert sorted(r[0] for r in con.execute("SELECT i FROM t").fetchall()) == list(range(40))


def test_a_failing_lane_stops_the_load_without_hanging(tmp_path):
    """A lane that stops (not one archive's failure) drains its own archives, so the feeder never
    waits for room: run() raises instead of waiting forever."""
    con = duckdb.connect()

    def insert(cur: duckdb.DuckDBPyConnection, i: int, member: Member) -> int:
        if i == 3:
            raise RuntimeError("lane broke")
        return 1

    with pytest.raises(RuntimeError, match="lane broke"):
        _run(con, insert, [(i, i % 2) for i in range(30)])
