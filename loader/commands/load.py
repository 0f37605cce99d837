"""``python -m loader load``: land archived exports in DuckDB, exactly once (no API calls)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from loader.config import Settings
from loader.errors import LoadFailedError
from loader.ingest import LoadSummary
from loader.schemas import DOCUMENT_TABLES


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``load`` command."""
    parser = subparsers.add_parser(
        "load",
        parents=parents,
        help="load landed files not loaded yet into the warehouse (no API calls)",
        description=(
            "Load every file in the landing store that is not loaded yet (or only the files "
            "named), each in one transaction with its load-log row, then publish the warehouse "
            "atomically. A bad file is recorded as failed (see `status`) and the others still "
            "load; the exit code is then 5. Re-run after replacing the file or fixing the code."
        ),
    )
    _add_targets(parser)
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared with ``sync``."""
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


def report(summary: LoadSummary) -> int:
    """Print the summary line; raise LoadFailedError (exit 5) when any file failed."""
    print(f"load: {summary}")
    for warning in summary.warnings:
        print(f"  WARNING {warning}")
    failed = summary.failed
    if failed:
        lines = "\n  ".join(str(r.error) for r in failed)
        raise LoadFailedError(f"{len(failed)} file(s) failed to load:\n  {lines}")
    return 0


def after_load(args: argparse.Namespace, settings: Settings) -> Callable[[Path], None] | None:
    """What runs on the working copy after the load, before it is published (``--build``)."""
    if not args.build:
        return None
    from loader.commands.build import build_work_file

    return lambda work: build_work_file(settings, work)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Load (and build) and report."""
    from loader.ingest import run_load

    summary = run_load(settings, args.paths, args.system, after=after_load(args, settings))
    if args.build:
        print(f"build: ok, published {settings.warehouse_path}")
    return report(summary)


def _add_targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH_OR_URL",
        help="files to load instead of the landing store (Hatch archives by name; "
        "document files with --system)",
    )
    parser.add_argument(
        "--system",
        choices=list(DOCUMENT_TABLES),
        help="document system of the named files (leads, huechat, texter)",
    )
