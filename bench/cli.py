"""``python -m bench``: the loader and dbt against DuckDB's own readers and dlt, in one run.

Steps, each in its own process (wall seconds, peak RSS of that process tree), repeated:

1. reference: DuckDB ``read_json`` (and ``read_csv``) of every extracted member into typed tables;
2. ``python -m loader load`` of the same archives into a fresh warehouse (JSON, CSV);
3. dlt loading the same NDJSON records into DuckDB (optional; skipped when not installed);
4. ``dbt build`` from scratch on the loaded warehouse;
5. the held-back last day: ``load --build`` (one command, as the nightly job runs it), and
   ``load`` then the incremental ``build`` (two commands); the marts are then compared with a
   ``--full-refresh`` build of the same data. Steps 4 and 5 alternate, one round of each per
   repeat, so a drift of the machine's speed weighs on both alike.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench import procs
from bench.compare import compare_marts
from bench.report import MIB, Row, markdown_table, text_table
from loader.demo.sample_data import default_end_date
from loader.schemas import HATCH_DATASETS, HATCH_TABLES

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE_RE = re.compile(
    r"^(?P<ds>[a-z_]+)_(?P<start>\d{4}-\d{2}-\d{2})_(?P<end>\d{4}-\d{2}-\d{2})\.zip$"
)
MEMBER_EXT = {"json": "ndjson", "csv": "csv"}
GB = 1000**3
DAY_TARGET_RATIO = 0.20  # one more day, as a share of the full build
DAY_TARGET_MESSAGES = 5_000_000  # the size the incremental-day target is set at


@dataclass(frozen=True)
class Layout:
    """Where one format's data lives under the work directory."""

    fmt: str
    initial: Path  # landing store without the last day
    full: Path  # landing store with every day
    manifest: Path  # extracted members of the initial archives, {dataset: {files, weight}}
    new_day: str


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=1_000_000, help="conversation items (1M; 5M)")
    p.add_argument("--repeat", type=int, default=3, help="runs per step; the median is reported")
    p.add_argument("--out", type=Path, default=ROOT / "bench/results/RESULTS.md", help="report")
    p.add_argument("--work-dir", type=Path, default=None, help="default bench/results/work-N")
    p.add_argument("--formats", default="json,csv", help="comma list of json, csv")
    p.add_argument("--skip-dlt", action="store_true", help="do not run the dlt step")
    p.add_argument("--skip-dbt", action="store_true", help="only the load steps (1-3)")
    p.add_argument(
        "--dlt-rows",
        type=int,
        default=100_000,
        help="records dlt loads; rows/s is extrapolated to the full size (0: all; default 100000)",
    )
    p.add_argument(
        "--dbt-repeat", type=int, default=None, help="runs of each dbt step (default: --repeat)"
    )
    p.add_argument(
        "--dbt-args", default="", help="extra arguments for every dbt build, e.g. '--select ...'"
    )
    p.add_argument("--days", type=int, default=60, help="daily archives (the last is step 5)")
    p.add_argument(
        "--spark",
        action="store_true",
        help="also build the loaded data on Spark (the spark target, local[2]; needs the spark "
        "extra and Java 17), beside step 4's DuckDB build",
    )
    p.add_argument("--regenerate", action="store_true", help="regenerate sample data")
    p.add_argument(
        "--publish",
        choices=("copy", "in-place"),
        default="copy",
        help="WAREHOUSE_PUBLISH for every load and build (default copy, the project's default)",
    )
    args = p.parse_args(argv)
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if not args.formats or set(args.formats) - set(MEMBER_EXT):
        p.error("--formats: choose from json, csv")
    if args.repeat < 1 or args.messages < 1:
        p.error("--repeat and --messages must be positive")
    args.dbt_repeat = args.dbt_repeat or args.repeat
    args.work_dir = (args.work_dir or ROOT / f"bench/results/work-{args.messages}").resolve()
    return args


class Bench:
    """One benchmark run: data layout, child environment, the measured rows."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work: Path = args.work_dir
        self.runs = self.work / "runs"
        self.logs = self.work / "logs"
        self.py = sys.executable
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.targets: list[tuple[str, str, bool | None]] = []
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "DBT_TARGET_PATH": str(self.work / "dbt_target"),
            "DBT_LOG_PATH": str(self.work / "dbt_logs"),
            "DBT_PROFILES_DIR": str(ROOT),
            "DBT_PROJECT_DIR": str(ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
            "RUNTIME__DLTHUB_TELEMETRY": "false",
        }
        loader_build = (ROOT / "loader/commands/build.py").exists()
        self.build_cmd = (
            [self.py, "-m", "loader", "build"]
            if loader_build
            else [str(Path(self.py).parent / "dbt"), "build"]
        )

    # ------------------------------------------------------------------ helpers
    def log(self, msg: str) -> None:
        """Progress on stderr."""
        print(f"[bench {dt.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)

    def measure(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> procs.Sample:
        """Run one measured child process."""
        sample = procs.run(
            cmd, env={**self.env, **(env or {})}, cwd=ROOT, log_stem=self.logs / name
        )
        self.log(f"{name}: {sample.seconds:.2f}s, peak RSS {sample.peak_rss_bytes / MIB:.0f} MiB")
        return sample

    def loader_env(self, landing: Path, run_dir: Path) -> dict[str, str]:
        """Environment for ``python -m loader`` against ``run_dir/warehouse.duckdb``."""
        return {
            "LANDING_URL": str(landing),
            "WAREHOUSE_PATH": str(run_dir / "warehouse.duckdb"),
            "LOADER_STATE_DIR": str(run_dir / "state"),
            "WAREHOUSE_PUBLISH": self.args.publish,
        }

    @staticmethod
    def fresh(path: Path) -> Path:
        """An empty directory at ``path``."""
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    @staticmethod
    def raw_rows(db: Path) -> int:
        """Rows in the Hatch raw tables of a warehouse."""
        con = duckdb.connect(str(db), read_only=True)
        try:
            return sum(
                con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in HATCH_TABLES.values()
            )
        finally:
            con.close()

    def copy_warehouse(self, src: Path, run_dir: Path) -> Path:
        """A fresh run directory holding a copy of the warehouse ``src``."""
        self.fresh(run_dir)
        shutil.copyfile(src, run_dir / "warehouse.duckdb")
        return run_dir

    # ------------------------------------------------------------------ data
    def generate(self) -> Path:
        """Sample archives for every format (cached in the work dir; the generator is
        deterministic for a given day)."""
        a = self.args
        gen = self.work / "generated"
        key = f"{a.messages} {a.days} {','.join(sorted(a.formats))} {default_end_date()}"
        done = gen / ".complete"
        if done.exists() and done.read_text() == key and not a.regenerate:
            return gen
        self.fresh(gen)
        self.log(f"generating {a.messages:,} messages over {a.days} days into {gen}")
        cmd = [self.py, "-m", "bench.generate", str(gen), str(a.messages), str(a.days)]
        self.measure("generate", [*cmd, ",".join(a.formats)])
        done.write_text(key)
        return gen

    def layout(self, fmt: str) -> Layout:
        """Landing stores (all days / all but the last) and the extracted members (untimed)."""
        gen = self.generate() / fmt
        archives = sorted((gen / "hatch").glob("*/*.zip"))
        if not archives:
            raise SystemExit(f"no archives under {gen / 'hatch'}")
        last = max(ARCHIVE_RE.match(a.name)["end"] for a in archives)
        initial, full = (
            self.fresh(self.work / f"landing_initial_{fmt}"),
            self.fresh(self.work / f"landing_full_{fmt}"),
        )
        extracted = self.fresh(self.work / f"extracted_{fmt}")
        manifest: dict[str, dict] = {ds: {"files": [], "weight": 0} for ds in HATCH_DATASETS}
        for archive in archives:
            m = ARCHIVE_RE.match(archive.name)
            rel = archive.relative_to(gen)
            for store in (full, initial) if m["start"] != last else (full,):
                (store / rel).parent.mkdir(parents=True, exist_ok=True)
                _link(archive, store / rel)
            if m["start"] == last:
                continue
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    dest = extracted / m["ds"] / f"{archive.stem}.{MEMBER_EXT[fmt]}"
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, dest.open("wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
                    manifest[m["ds"]]["files"].append(str(dest))
                    manifest[m["ds"]]["weight"] += dest.stat().st_size
        path = self.work / f"manifest_{fmt}.json"
        path.write_text(json.dumps(manifest))
        return Layout(fmt, initial, full, path, last)

    # ------------------------------------------------------------------ steps
    @staticmethod
    def reference_row(fmt: str) -> Row:
        """The empty row of DuckDB's own reader for ``fmt``."""
        reader = "read_json" if fmt == "json" else "read_csv"
        return Row(f"ref_{fmt}", f"1. reference: DuckDB {reader} ({fmt.upper()})")

    def reference_manifest(self, lay: Layout) -> Path:
        """The reference's input: ``{dataset: [extracted members]}``."""
        files_only = self.work / f"reference_manifest_{lay.fmt}.json"
        manifest = json.loads(lay.manifest.read_text())
        files_only.write_text(json.dumps({ds: e["files"] for ds, e in manifest.items()}))
        return files_only

    def step_reference(self, lay: Layout, files_only: Path, row: Row, i: int) -> None:
        """Round ``i`` of DuckDB's reader of every extracted member (``files_only``), one typed
        CREATE TABLE per dataset."""
        run_dir = self.fresh(self.runs / f"ref_{lay.fmt}_{i}")
        s = self.measure(
            f"ref_{lay.fmt}_{i}",
            [self.py, "-m", "bench.reference", str(files_only), str(run_dir / "t.duckdb"), lay.fmt],
        )
        row.rows = json.loads(s.stdout)["rows"]
        row.seconds.append(s.seconds)
        row.rss.append(s.peak_rss_bytes)
        shutil.rmtree(run_dir)

    def loaded(self, fmt: str) -> Path:
        """The warehouse the first ``load`` round of ``fmt`` left (later steps start from it)."""
        return self.runs / f"loaded_{fmt}" / "warehouse.duckdb"

    def step_load(self, lay: Layout, row: Row, i: int) -> None:
        """Round ``i`` of ``python -m loader load`` of the initial archives into a fresh
        warehouse."""
        run_dir = self.fresh(self.runs / f"load_{lay.fmt}_{i}")
        s = self.measure(
            f"load_{lay.fmt}_{i}",
            [self.py, "-m", "loader", "load"],
            self.loader_env(lay.initial, run_dir),
        )
        row.rows = self.raw_rows(run_dir / "warehouse.duckdb")
        row.seconds.append(s.seconds)
        row.rss.append(s.peak_rss_bytes)
        _keep_first(i, run_dir, self.loaded(lay.fmt).parent)

    def load_rounds(self, layouts: dict[str, Layout]) -> tuple[dict[str, Row], dict[str, Row]]:
        """Steps 1 and 2 in rounds: round i runs every reference, then every load. The machine's
        speed drifts (±20% within an hour here): rounds spread the drift over both sides of the
        ratio, where all references before all loads let it fall on one side."""
        refs = {fmt: self.reference_row(fmt) for fmt in layouts}
        loads = {fmt: Row(f"load_{fmt}", f"2. loader load ({fmt.upper()})") for fmt in layouts}
        inputs = {fmt: self.reference_manifest(lay) for fmt, lay in layouts.items()}
        for i in range(self.args.repeat):
            for fmt, lay in layouts.items():
                self.step_reference(lay, inputs[fmt], refs[fmt], i)
            for fmt, lay in layouts.items():
                self.step_load(lay, loads[fmt], i)
        return refs, loads

    def step_dlt(self, lay: Layout) -> Row | None:
        """dlt's default path on the same NDJSON records (optionally a subsample)."""
        if self.args.skip_dlt:
            self.notes.append("dlt: skipped (--skip-dlt).")
            return None
        if importlib.util.find_spec("dlt") is None:
            self.notes.append("dlt: skipped, not installed (`pip install -e '.[bench]'`).")
            return None
        row = Row("dlt", "3. dlt pipeline.run → duckdb (JSON)")
        for i in range(self.args.repeat):
            run_dir = self.fresh(self.runs / f"dlt_{i}")
            s = self.measure(
                f"dlt_{i}",
                [
                    self.py, "-m", "bench.dlt_load", str(lay.manifest),
                    str(run_dir / "dlt.duckdb"), str(run_dir / "pipelines"),
                    str(self.args.dlt_rows),
                ],
            )  # fmt: skip
            row.rows = json.loads(s.stdout)["rows"]
            row.seconds.append(s.seconds)
            row.rss.append(s.peak_rss_bytes)
            shutil.rmtree(run_dir)
        return row

    @contextlib.contextmanager
    def at_site(self, run_dir: Path) -> Iterator[Path]:
        """The run's warehouse moved to the one dbt site path for the block (and back after).

        Every build runs at one warehouse path, as a deployment's does: dbt then parses only what
        changed instead of the whole project (a new path is a new profile to dbt)."""
        site = self.work / "dbt_site"
        site.mkdir(exist_ok=True)
        _move_warehouse(run_dir, site)
        try:
            yield site
        finally:
            _move_warehouse(site, run_dir)

    def build(self, name: str, run_dir: Path, extra: Sequence[str] = ()) -> procs.Sample:
        """One dbt build (through ``python -m loader build`` when it exists), at the site path."""
        with self.at_site(run_dir) as site:
            env = self.loader_env(self.work / "landing_unused", site)
            cmd = [*self.build_cmd, *shlex.split(self.args.dbt_args), *extra]
            return self.measure(name, cmd, env)

    def step_dbt(self, loaded: Path, raw_rows: int, lay: Layout) -> list[Row]:
        """Steps 4 and 5, interleaved: round ``i`` runs full build ``i``, then day ``i``.

        A full build and a day measured minutes apart on a machine whose speed drifts (here: up to
        20% within an hour) skew their ratio; alternating them spreads the drift over both. Every
        day starts from the first full build's warehouse."""
        full = Row("build", "4. dbt build (from scratch)", rows=raw_rows, note="rows = raw rows in")
        days = self._day_rows(lay)
        keep = self.runs / "built"
        for i in range(self.args.dbt_repeat):
            run_dir = self.copy_warehouse(loaded, self.runs / f"build_{i}")
            s = self.build(f"build_{i}", run_dir)
            full.seconds.append(s.seconds)
            full.rss.append(s.peak_rss_bytes)
            _keep_first(i, run_dir, keep)
            self._day(i, lay, keep / "warehouse.duckdb", days)
        self._finish_days(days, full)
        return [full, *days]

    @staticmethod
    def _day_rows(lay: Layout) -> list[Row]:
        return [
            Row("incr_load", f"5a. load of one more day ({lay.new_day})"),
            Row("incr_build", "5b. incremental dbt build"),
            Row("incr_total", "5. one more day: load + incremental build (two commands)"),
            Row("incr_one", "5. one more day: `load --build` (one command, as the nightly job)"),
        ]

    def _day(self, i: int, lay: Layout, built: Path, days: list[Row]) -> None:
        """Day ``i``, the two ways a deployment runs it: ``load`` then ``build`` (two commands, two
        publishes), and ``load --build`` (the nightly ``sync --build``: one process, one working
        copy, one publish); the first round's ``load --build`` warehouse is kept for the compare."""
        load, build, total, one = days
        run_dir = self.prepared(built, self.runs / f"incr_{i}", lay, f"incr_{i}")
        before = self.raw_rows(run_dir / "warehouse.duckdb")
        with _new_day_landed(lay):  # the day lands in the store the warehouse was loaded from
            s1 = self.measure(
                f"incr_load_{i}",
                [self.py, "-m", "loader", "load"],
                self.loader_env(lay.initial, run_dir),
            )
        new_rows = self.raw_rows(run_dir / "warehouse.duckdb") - before
        s2 = self.build(f"incr_build_{i}", run_dir)
        shutil.rmtree(run_dir)
        for row, s in ((load, s1), (build, s2)):
            row.seconds.append(s.seconds)
            row.rss.append(s.peak_rss_bytes)
        total.seconds.append(s1.seconds + s2.seconds)
        total.rss.append(max(s1.peak_rss_bytes, s2.peak_rss_bytes))

        run_dir = self.prepared(built, self.runs / f"incr_one_{i}", lay, f"incr_one_{i}")
        with _new_day_landed(lay), self.at_site(run_dir) as site:
            s = self.measure(
                f"incr_one_{i}",
                [self.py, "-m", "loader", "load", "--build"],
                self.loader_env(lay.initial, site),
            )
        one.seconds.append(s.seconds)
        one.rss.append(s.peak_rss_bytes)
        for row in days:
            row.rows = new_rows
        _keep_first(i, run_dir, self.runs / "incremental")

    def _finish_days(self, days: list[Row], full: Row) -> None:
        """Ratios to the full build, the targets, and the marts compared with a full refresh."""
        *_, total, one = days
        for row in days:
            row.ratio, row.ratio_to = row.median_s / full.median_s, "x full build time"
        # the target is set at 5M: below that, dbt's fixed cost per build dominates a day. 20%: the
        # plain dbt project gives back a few points of the 15% the earlier, cleverer one reached
        at_size = self.args.messages >= DAY_TARGET_MESSAGES
        for row, how in ((one, "`load --build`, the nightly job"), (total, "`load`, then `build`")):
            ratio = row.ratio or 0.0
            self.targets.append(
                (
                    f"incremental day ({how}) ≤ 20% of the full build (target set at 5M)",
                    f"{ratio:.1%}" + ("" if at_size else " (at this size; the target is at 5M)"),
                    ratio <= DAY_TARGET_RATIO if at_size else None,
                )
            )
        rounds = ", ".join(f"{d / f:.1%}" for d, f in zip(one.seconds, full.seconds, strict=True))
        self.notes.append(f"`load --build` / the full build of the same round: {rounds}.")
        if self.args.dbt_args:
            self.notes.append(
                "`load --build` builds what the new loads reach; --dbt-args apply to the"
                " `build` commands only."
            )
        self.compare(self.runs / "incremental" / "warehouse.duckdb")

    def prepared(self, built: Path, run_dir: Path, lay: Layout, name: str) -> Path:
        """A copy of the built warehouse after two untimed writer runs (``build`` with nothing new
        still copies and publishes; a ``load`` with nothing new does not): the previous version
        and block digests that a deployment's earlier nightly runs would have left."""
        self.copy_warehouse(built, run_dir)
        for n in range(2):
            self.measure(
                f"{name}_warmup_{n}",
                [self.py, "-m", "loader", "build"],
                self.loader_env(lay.initial, run_dir),
            )
        return run_dir

    def compare(self, incremental: Path) -> None:
        """Full-refresh build of a copy of the incremental warehouse; compare the marts."""
        run_dir = self.copy_warehouse(incremental, self.runs / "full_refresh")
        s = self.build("full_refresh", run_dir, ["--full-refresh"])
        diffs, missing = compare_marts(incremental, run_dir / "warehouse.duckdb")
        same = bool(diffs) and not missing and all(d.identical for d in diffs)
        detail = ", ".join(
            f"{d.table} {d.rows_a:,}/{d.rows_b:,}"
            + ("" if d.identical else f" (-{d.only_a}/+{d.only_b})")
            for d in diffs
        )
        if missing:
            detail += f"; only in one: {', '.join(missing)}"
        self.targets.append(
            (
                "marts after the incremental day identical to a --full-refresh build",
                "yes" if same else "NO",
                same,
            )
        )
        self.notes.append(
            "Marts compared (EXCEPT ALL both ways; rows incremental/full refresh): "
            f"{detail or 'no marts'}."
            f" The --full-refresh build took {s.seconds:.1f}s."
        )

    # ------------------------------------------------------------------ run
    def run(self) -> str:
        """Every step; returns the markdown report."""
        self.work.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.runs, ignore_errors=True)
        layouts = {fmt: self.layout(fmt) for fmt in self.args.formats}
        first = layouts["json" if "json" in layouts else self.args.formats[0]]

        refs, loads = self.load_rounds(layouts)
        ref = refs[first.fmt]
        for fmt, row in loads.items():
            rounds = ", ".join(
                f"{r / s:.2f}" for r, s in zip(ref.seconds, row.seconds, strict=True)
            )
            self.notes.append(f"`load` {fmt.upper()} / the reference of the same round: {rounds}.")
        dlt_row = self.step_dlt(layouts["json"]) if "json" in layouts else None

        for row in [*refs.values(), *loads.values(), *([dlt_row] if dlt_row else [])]:
            row.ratio, row.ratio_to = row.rows_per_s / ref.rows_per_s, "x reference rows/s"
            if row.rows != ref.rows:
                row.note = (row.note + f" rows ≠ reference ({ref.rows:,})").strip()
        for fmt, row in loads.items():
            if fmt in refs and fmt != first.fmt:
                row.note = (
                    row.note + f" {row.rows_per_s / refs[fmt].rows_per_s:.2f}x read_csv"
                ).strip()
            self.targets.append(
                (
                    f"load {fmt.upper()} ≥ 0.8 x reference rows/s",
                    f"{row.ratio:.2f}",
                    (row.ratio or 0) >= 0.8,
                )
            )
            self.targets.append(
                (
                    f"load {fmt.upper()} peak RSS < 1 GB",
                    f"{row.peak_rss / GB:.2f} GB",
                    row.peak_rss < GB,
                )
            )
        if dlt_row:
            if dlt_row.rows < ref.rows:
                dlt_row.note = (
                    f"subsample of {dlt_row.rows:,} records; rows/s extrapolated to "
                    f"{ref.rows:,} ≈ {ref.rows / dlt_row.rows_per_s:.0f}s"
                )
            load_json = loads.get("json")
            if load_json:
                speedup = load_json.rows_per_s / dlt_row.rows_per_s
                self.targets.append(
                    ("load ≥ 5 x dlt's default path (rows/s)", f"{speedup:.1f}x", speedup >= 5)
                )

        self.rows = [*refs.values(), *loads.values(), *([dlt_row] if dlt_row else [])]
        if self.args.skip_dbt:
            self.notes.append("dbt steps 4 and 5: skipped (--skip-dbt).")
        else:
            self.rows += self.step_dbt(self.loaded(first.fmt), loads[first.fmt].rows, first)
        if self.args.spark:
            self.rows.append(self.step_spark(self.loaded(first.fmt), loads[first.fmt].rows))
        return self.markdown()

    def step_spark(self, loaded: Path, raw_rows: int) -> Row:
        """Step 6: the same rows built on Spark (DBT_TARGET=spark, pyspark in this machine's
        cores), from scratch each run; the lake is written from the loaded warehouse first
        (untimed: `load` with nothing new writes every missing lake file)."""
        row = Row("spark", "6. dbt build on Spark (from scratch)", rows=raw_rows)
        row.note = "rows = raw rows in; local[2], Parquet tables, one Derby metastore"
        for i in range(self.args.dbt_repeat):
            run_dir = self.copy_warehouse(loaded, self.runs / f"spark_{i}")
            env = {
                **self.loader_env(self.work / "landing_unused", run_dir),
                "LAKE_URL": str(run_dir / "lake"),
                "SPARK_WAREHOUSE_DIR": str(run_dir / "spark-warehouse"),
                "SPARK_METASTORE_DIR": str(run_dir / "metastore_db"),
            }
            self.measure(f"spark_lake_{i}", [self.py, "-m", "loader", "load"], env)
            s = self.measure(f"spark_{i}", [*self.build_cmd], {**env, "DBT_TARGET": "spark"})
            row.seconds.append(s.seconds)
            row.rss.append(s.peak_rss_bytes)
            shutil.rmtree(run_dir, ignore_errors=True)
        full = next((r for r in self.rows if r.key == "build"), None)
        if full and full.seconds:
            row.ratio, row.ratio_to = row.median_s / full.median_s, "x DuckDB's build time"
        return row

    def markdown(self) -> str:
        """The report: context, table, targets, notes."""
        a = self.args
        build = " ".join([Path(self.build_cmd[0]).name, *self.build_cmd[1:]])
        cmd = f"python -m bench --messages {a.messages} --repeat {a.repeat}"
        cmd += f" --formats {','.join(a.formats)}"
        if a.dbt_repeat != a.repeat:
            cmd += f" --dbt-repeat {a.dbt_repeat}"
        if a.dbt_args:
            cmd += f" --dbt-args {shlex.quote(a.dbt_args)}"
        if a.days != 60:
            cmd += f" --days {a.days}"
        if a.skip_dlt:
            cmd += " --skip-dlt"
        if a.skip_dbt:
            cmd += " --skip-dbt"
        if a.dlt_rows != 100_000:
            cmd += f" --dlt-rows {a.dlt_rows}"
        if a.publish != "copy":
            cmd += f" --publish {a.publish}"
        lines = [
            f"# Benchmark: {a.messages:,} messages",
            "",
            f"`{cmd}` — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC,"
            f" {os.cpu_count()} CPUs, {_mem_gb():.0f} GB RAM, Python {platform.python_version()},"
            f" duckdb {duckdb.__version__},"
            f" {_versions()}. Median of {a.repeat} run(s) ({a.dbt_repeat} for the dbt steps 4"
            " and 5; min-max in brackets); peak RSS is the"
            " largest over the runs, of that step's process tree.",
            "",
            markdown_table(self.rows),
            "",
            "## Targets",
            "",
            "| target | measured | met |",
            "|---|--:|---|",
            *(f"| {t} | {m} | {_verdict(ok, 'yes', 'NO')} |" for t, m, ok in self.targets),
            "",
            "## Notes",
            "",
            "- Rows are raw records (conversation items plus contact history versions) across all"
            " daily archives except the last day, which step 5 loads.",
            "- The benchmark is about Hatch volumes: `load` creates the leads / HueChat / Texter"
            " raw tables empty (no such files are landed).",
            "- The reference reads the members already extracted from the ZIPs (extraction"
            " untimed); `load` reads the ZIP archives themselves. dlt reads the same extracted"
            " NDJSON lines (parsed with `json.loads`).",
            f"- dbt runs as `{build}` with the project's profile. Step 4 and the comparison"
            " build the whole project; step 5's build runs only what the day's raw tables reach"
            " (`loader/dbt/build_state.py`: the project is unchanged since step 4's recorded"
            " build).",
            f"- Every `load` and `build` publishes with `WAREHOUSE_PUBLISH={a.publish}`"
            + (
                " (a working copy per run, so readers are never blocked: a full copy when there is"
                " no previous version, as in steps 2 and 4, else the changed blocks only; before"
                " step 5, two untimed `build`s with nothing to build leave the previous version"
                " that a deployment's earlier nightly runs would have left)."
                if a.publish == "copy"
                else " (no copy: the file is written where readers would open it)."
            ),
            *(f"- {n}" for n in self.notes),
        ]
        return "\n".join(lines) + "\n"


def _keep_first(i: int, run_dir: Path, keep: Path) -> None:
    """Keep the first repeat's run folder as ``keep`` (later steps start from it); drop the rest."""
    if i == 0:
        shutil.rmtree(keep, ignore_errors=True)
        run_dir.rename(keep)
    else:
        shutil.rmtree(run_dir)


@contextlib.contextmanager
def _new_day_landed(lay: Layout) -> Iterator[None]:
    """The held-back day's archives linked into the initial landing store for the block, as a
    nightly fetch lands them beside the loaded ones (whose store versions ``load`` then skips
    unread, as it would in production)."""
    added = []
    try:
        for archive in sorted(lay.full.rglob("*.zip")):
            dest = lay.initial / archive.relative_to(lay.full)
            if not dest.exists():
                _link(archive, dest)
                added.append(dest)
        yield
    finally:
        for dest in added:
            dest.unlink(missing_ok=True)


def _move_warehouse(src_dir: Path, dest_dir: Path) -> None:
    """Move the warehouse file and its working folder (the kept previous version and digests)."""
    for name in ("warehouse.duckdb", "warehouse.duckdb.work"):
        dest = dest_dir / name
        if dest.is_dir():
            shutil.rmtree(dest)
        if (src_dir / name).exists():
            os.replace(src_dir / name, dest)


def _link(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def _mem_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError):
        return 0.0


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("dbt-core", "dbt-duckdb", "dlt"):
        with contextlib.suppress(PackageNotFoundError):
            out.append(f"{pkg} {version(pkg)}")
    return ", ".join(out)


def _verdict(ok: bool | None, met: str = "met", missed: str = "MISSED") -> str:
    """A target's verdict: met, missed, or n/a (not judged at this size)."""
    return "n/a" if ok is None else met if ok else missed


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table and write the markdown report."""
    args = parse_args(argv)
    bench = Bench(args)
    try:
        report = bench.run()
    except procs.StepFailed as exc:
        print(f"bench: a step failed: {exc}", file=sys.stderr)
        return 1
    print(text_table(bench.rows))
    print()
    for target, measured, ok in bench.targets:
        print(f"{_verdict(ok):<6}  {target}: {measured}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"\nwrote {args.out}")
    return 0
