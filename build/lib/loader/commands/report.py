"""``python -m loader report``: a self-contained HTML report with charts over the marts."""

from __future__ import annotations

import argparse
from pathlib import Path

from loader.config import Settings

DEFAULT_OUT = Path("reports/report.html")


# the settings this command's flags may override (loader.cli.SETTING_FLAGS)
SETTINGS = ("warehouse_path",)


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``report`` command."""
    parser = subparsers.add_parser(
        "report",
        parents=parents,
        help="write a self-contained HTML report (reads the published warehouse read-only)",
        description=(
            "Campaign funnel by contact status, delivery outcomes by direction over time and "
            "speed to lead, as one HTML file with inline SVG charts (no scripts, no network)."
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="FILE", help=f"default: {DEFAULT_OUT}"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Write the report and print its path."""
    from loader.report.html import write_report

    print(write_report(settings.warehouse_path, args.out).resolve())
    return 0
