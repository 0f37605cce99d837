"""The insert lanes' plan: a small dataset pinned to one lane, datasets interleaved by bytes."""

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


def test_plan_pins_the_small_dataset_to_one_lane_and_interleaves_it():
    # archives in name order, as discovery gives them: ten small ones, then ten large ones
    weights = [(CH, 10)] * 10 + [(CI, 40)] * 10
    order, pins = lane_plan(range(20), weights, lanes=2)
    assert pins == dict.fromkeys(range(10), 0)
    assert sorted(order) == list(range(20))
    assert [i for i in order if i < 10] == list(range(10))  # each dataset keeps its order
    assert [i for i in order if i >= 10] == list(range(10, 20))
    # interleaved by share of the bytes: every stretch of four jobs holds both datasets
    assert all({weights[i][0] for i in order[k : k + 4]} == {CH, CI} for k in range(0, 20, 4))


@pytest.mark.parametrize(
    ("weights", "lanes_", "pinned"),
    [
        ([(CH, 10)] * 10 + [(CI, 40)] * 10, 1, set()),  # one lane: nothing to pin
        ([(CH, 45)] * 10 + [(CI, 50)] * 10, 4, set()),  # over a lane's share: split
        ([(CH, 45)] * 10 + [(CI, 50)] * 10, 2, {CH}),  # within a lane's share (2 lanes)
        ([(CI, 40)] * 10, 2, set()),  # the largest dataset is never pinned
        ([(CH, 40)] * 10 + [(CI, 10)] * 10, 2, {CI}),  # whichever dataset is the small one
    ],
)
def test_plan_pins_only_a_small_dataset_that_is_not_the_largest(weights, lanes_, pinned):
    _, pins = lane_plan(range(len(weights)), weights, lanes=lanes_)
    assert {weights[i][0] for i in pins} == pinned
    assert all(lane < lanes_ for lane in pins.values())


def test_plan_of_a_subset_orders_only_that_subset():
    weights = [(CH, 10)] * 6 + [(CI, 40)] * 6
    order, pins = lane_plan([1, 4, 7, 9], weights, lanes=2)
    assert sorted(order) == [1, 4, 7, 9]
    assert pins == {1: 0, 4: 0}


def _member(tmp: Path, index: int) -> Member:
    path = tmp / f"{index}.json"
    path.write_text("{}\n")
    return Member(path, ExportName(CI, date(2024, 1, 1), date(2024, 1, 1), "json"), str(path))


def _run(con: duckdb.DuckDBPyConnection, count: int, insert: lanes.Insert, pins: dict[int, int]):
    """``count`` one-line members through two lanes."""
    prepare = lambda i, folder: _member(folder, i)  # noqa: E731
    return lanes.run(
        con, list(range(count)), prepare, insert, lanes=2, lane_bytes=1 << 30, pins=pins
    )


def test_pinned_archives_are_all_inserted_by_their_lane(tmp_path):
    """Every archive is inserted once; the pinned ones all by one lane's connection, although
    the other lane is free for most of them (unpinned inserts are slow, pinned ones quick)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER)")
    pinned = set(range(0, 40, 2))
    seen: dict[int, str] = {}
    guard = threading.Lock()

    def insert(cur: duckdb.DuckDBPyConnection, i: int, member: Member) -> int:
        if i not in pinned:
            time.sleep(0.01)
        cur.execute("INSERT INTO t VALUES (?)", [i])
        with guard:
            seen[i] = threading.current_thread().name + str(threading.get_ident())
        return 1

    outcome = _run(con, 40, insert, dict.fromkeys(pinned, 1))
    assert sorted(outcome.loaded) == list(range(40))
    assert len({seen[i] for i in pinned}) == 1
    assert len(set(seen.values())) == 2  # the other lane did work too
    assert sorted(r[0] for r in con.execute("SELECT i FROM t").fetchall()) == list(range(40))


def test_a_failing_lane_with_pinned_work_stops_the_load_without_hanging(tmp_path):
    """A lane that stops (not one archive's failure) drains what it may take; the lane its
    archives are pinned to drains them: run() raises instead of waiting forever."""
    con = duckdb.connect()

    def insert(cur: duckdb.DuckDBPyConnection, i: int, member: Member) -> int:
        if i == 3:
            raise RuntimeError("lane broke")
        return 1

    with pytest.raises(RuntimeError, match="lane broke"):
        _run(con, 30, insert, {i: i % 2 for i in range(30)})
