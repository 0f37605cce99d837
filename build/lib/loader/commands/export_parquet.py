"""``python -m loader export-parquet``: every mart to one Parquet file, plus views over them."""

from __future__ import annotations

import argparse
from pathlib import Path

from loader.config import Settings

# the settings this command's flags may override (loader.cli.SETTING_FLAGS)
SETTINGS = ("warehouse_path",)


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``export-parquet`` command."""
    parser = subparsers.add_parser(
        "export-parquet",
        parents=parents,
        help="write every mart to Parquet (reads the published warehouse read-only)",
        description=(
            "Write each table of schema `marts` to DIR/<mart>.parquet, DIR/views.sql "
            "(views over the files, named relative to DIR) and DIR/marts_parquet.duckdb. "
            "Timestamps are UTC-adjusted; the dbt descriptions are in each file's metadata."
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=Path("parquet"), metavar="DIR", help="default: parquet"
    )
    parser.add_argument(
        "--no-views-database",
        action="store_true",
        help="skip marts_parquet.duckdb (views.sql is always written)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Export the marts and print one line per file."""
    from loader.report.parquet import export_marts

    marts = export_marts(
        settings.warehouse_path, args.out, views_database=not args.no_views_database
    )
    for mart in marts:
        print(f"{mart.path}\t{mart.rows} rows\t{mart.bytes} bytes")
    print(f"{args.out.resolve() / 'views.sql'}\t{len(marts)} views")
    return 0
