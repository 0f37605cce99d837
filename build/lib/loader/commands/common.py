"""What several commands share: their options and how they report. Commands import this module,
never each other."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path

from loader.config import Settings
from loader.errors import LoadFailedError
from loader.load.results import LoadSummary
from loader.schemas import HATCH_DATASETS


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD format: {value!r}") from None


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    """The fetch options (``fetch``, ``sync``)."""
    parser.add_argument(
        "--source", choices=[*HATCH_DATASETS, "all"], default="all", help="default: all"
    )
    parser.add_argument("--start", type=_date, metavar="YYYY-MM-DD", help="first day (inclusive)")
    parser.add_argument("--end", type=_date, metavar="YYYY-MM-DD", help="last day (inclusive)")
    parser.add_argument("--format", choices=["json", "csv"], default="json", help="default: json")
    parser.add_argument(
        "--force", action="store_true", help="fetch again even where already fetched"
    )


def fetch_from_args(args: argparse.Namespace, settings: Settings) -> None:
    """Run the fetch the parsed options ask for and print a one-line summary."""
    from loader.fetch.exports import run_fetch

    sources = list(HATCH_DATASETS) if args.source == "all" else [args.source]
    summary = run_fetch(settings, sources, args.start, args.end, args.format, args.force)
    print(f"fetch: {summary}")


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The load options (``load``, ``sync``)."""
    parser.add_argument(
        "--build",
        action="store_true",
        help="then run `dbt build` on the same working copy and publish both at once: one copy "
        "of the warehouse instead of two, and readers never see new raw rows before the marts",
    )
    parser.add_argument(
        "--max-member-bytes",
        type=int,
        dest="setting_max_member_bytes",
        metavar="LOADER_MAX_MEMBER_BYTES",
        help="largest archive member accepted, uncompressed (default 2 GiB)",
    )


def build_after_load(args: argparse.Namespace, settings: Settings) -> Callable[[Path], None] | None:
    """What runs on the working copy after the load, before it is published (``--build``)."""
    if not args.build:
        return None
    from loader.dbt.build import build_work_file

    return lambda work: build_work_file(settings, work)


def report_load(summary: LoadSummary) -> int:
    """Print the summary and its warnings; raise LoadFailedError (exit 5) when a file failed."""
    print(f"load: {summary}")
    for warning in summary.warnings:
        print(f"  WARNING {warning}")
    failed = summary.failed
    if failed:
        lines = "\n  ".join(str(r.error) for r in failed)
        raise LoadFailedError(f"{len(failed)} file(s) failed to load:\n  {lines}")
    return 0
