"""``python -m loader export-parquet``: every mart to one Parquet file, plus views over them."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from loader.config import Settings

# the settings this command's flags may override (loader.cli.SETTING_FLAGS)
SETTINGS = ("warehouse_path",)  # the target: DBT_TARGET (duckdb, or spark: Spark's marts)


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
        "--out",
        default="parquet",
        metavar="DIR_OR_URL",
        help="a folder or an object-store URL such as s3://bucket/marts (default: parquet)",
    )
    parser.add_argument(
        "--no-views-database",
        action="store_true",
        help="skip marts_parquet.duckdb (views.sql is always written)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Export the marts of the current target and print one line per file."""
    from loader.report import parquet

    views = not args.no_views_database
    if settings.on_spark:
        from loader.dbt.export import spark_marts

        with tempfile.TemporaryDirectory(prefix="hatch-export-") as tmp:
            files = spark_marts(settings, Path(tmp))
            marts = parquet.publish(files, args.out, source="Spark", views_database=views)
    else:
        marts = parquet.export_marts(settings.warehouse_path, args.out, views_database=views)
    for mart in marts:
        print(f"{mart.path}\t{mart.rows} rows\t{mart.bytes} bytes")
    print(f"{len(marts)} mart(s) and views.sql in {args.out}")
    return 0
