"""``generate``: deterministic sample data written straight into a landing store."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import duckdb

from loader.config import Settings
from loader.demo import sample_data as sd
from loader.errors import ConfigError
from loader.schemas import HATCH_DATASETS

# the settings this command's flags may override (loader.cli.SETTING_FLAGS)
SETTINGS = ("landing_url",)


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``generate`` sub-command."""
    p = subparsers.add_parser(
        "generate", parents=parents, help="write deterministic sample data into the landing store"
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end-date", type=date.fromisoformat, default=None, help="default: yesterday")
    p.add_argument("--days", type=int, default=60)
    size = p.add_mutually_exclusive_group()
    size.add_argument("--contacts", type=int, default=None, help="default 2000")
    size.add_argument("--messages", type=int, default=None, help="about N conversation_items")
    p.add_argument("--format", choices=("json", "csv", "both"), default="json")
    p.add_argument("--daily", action="store_true", help="one archive per day and dataset")
    p.add_argument("--documents", action=argparse.BooleanOptionalAction, default=True)
    p.set_defaults(func=run)


def _windows(start: date, end: date, daily: bool) -> list[tuple[date, date]]:
    if not daily:
        return [(start, end)]
    return [(start + timedelta(days=k),) * 2 for k in range((end - start).days + 1)]


def hatch_dir(root: Path, data_source: str, fmt: str, fmts: list[str]) -> Path:
    """``{root}/hatch/{ds}``; with both formats the CSV twins go to ``{root}/hatch_csv/{ds}``.

    The API names JSON and CSV archives alike, so they cannot share a folder.
    """
    top = "hatch_csv" if fmt == "csv" and len(fmts) > 1 else "hatch"
    return root / top / data_source


def _write_archives(
    con: duckdb.DuckDBPyConnection, root: Path, windows: list[tuple[date, date]], fmts: list[str]
) -> tuple[int, dict[str, int]]:
    """Members are written by DuckDB one at a time; zipping runs in a thread pool meanwhile."""
    files, rows = 0, dict.fromkeys(HATCH_DATASETS, 0)
    futures: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for ds in HATCH_DATASETS:
            for start, end in windows:
                for fmt in fmts:
                    dest_dir = hatch_dir(root, ds, fmt, fmts)
                    dest_dir.mkdir(parents=True, exist_ok=True)
                    zip_name, member_name = sd.archive_name(ds, start, end, fmt)  # type: ignore[arg-type]
                    tmp = Path(tempfile.mkdtemp(dir=dest_dir, prefix=".member-"))
                    n = sd.write_member(con, ds, start, end, fmt, tmp / member_name)  # type: ignore[arg-type]
                    if n == 0:
                        shutil.rmtree(tmp)
                        continue
                    rows[ds] += n if fmt == fmts[0] else 0
                    files += 1
                    futures.append(pool.submit(_zip, tmp, member_name, dest_dir / zip_name, start))
        for f in futures:
            f.result()
    return files, rows


def _zip(tmp: Path, member_name: str, dest: Path, when: date) -> None:
    try:
        sd.zip_member(tmp / member_name, member_name, dest, when)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Generate, write, print a summary."""
    root = Path(settings.landing_url)
    if "://" in settings.landing_url and not settings.landing_url.startswith("file://"):
        raise ConfigError("generate writes to a local landing folder only")
    root = Path(settings.landing_url.removeprefix("file://"))
    if args.days < 1:
        raise ConfigError("--days must be at least 1")
    contacts = args.contacts or (sd.contacts_for_messages(args.messages) if args.messages else 2000)
    end = args.end_date or sd.default_end_date()
    start = end - timedelta(days=args.days - 1)
    fmts = ["json", "csv"] if args.format == "both" else [args.format]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sample-duckdb-") as spill:
        con = duckdb.connect(":memory:", config={"temp_directory": spill})
        con.execute("SET TimeZone = 'UTC'")
        sd.build_hatch(con, seed=args.seed, start_date=start, end_date=end, contacts=contacts)
        t_build = time.perf_counter() - t0
        files, rows = _write_archives(con, root, _windows(start, end, args.daily), fmts)
        docs = {}
        if args.documents:
            docs = sd.write_documents_from(
                con, root, seed=args.seed, end_date=end, contacts=contacts
            )
        con.close()
    total = time.perf_counter() - t0
    print(f"generated {start}..{end} seed={args.seed} contacts={contacts} into {root}")
    for ds, n in rows.items():
        print(f"  hatch/{ds}: {n} rows")
    print(
        f"  hatch archives: {files} ({'+'.join(fmts)}, {'daily' if args.daily else 'one window'})"
    )
    for system, paths in docs.items():
        print(f"  {system}: {len(paths)} files")
    print(f"  {total:.1f} s (build {t_build:.1f} s)")
    return 0
