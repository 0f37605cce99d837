"""``python -m loader load``: land archived exports in DuckDB, exactly once (no API calls)."""

from __future__ import annotations

import argparse

from loader.commands import common
from loader.config import Settings
from loader.schemas import DOCUMENT_TABLES

# the settings this command's flags may override (loader.cli.SETTING_FLAGS)
SETTINGS = ("landing_url", "warehouse_path", "state_dir")


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
    common.add_load_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Load (and build) and report."""
    from loader.load.run import run_load

    after = common.build_after_load(args, settings)
    summary = run_load(settings, args.paths, args.system, after=after)
    if args.build:
        print(f"build: ok, published {settings.warehouse_path}")
    return common.report_load(summary)


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
