"""``python -m loader fetch``: download Hatch exports into the landing store."""

from __future__ import annotations

import argparse
from datetime import date

from loader.config import Settings
from loader.schemas import HATCH_DATASETS


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD format: {value!r}") from None


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``fetch`` command."""
    parser = subparsers.add_parser(
        "fetch",
        parents=parents,
        help="fetch Hatch bulk exports into the landing store",
        description=(
            "Fetch Hatch Bulk Export windows (at most 180 days each, through yesterday) and "
            "archive every ZIP in the landing store. Without dates: incremental from the day "
            "after the last fetched day of each dataset (first run: --backfill-days back)."
        ),
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The fetch options (shared with ``sync``)."""
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
    from loader.fetch import run_fetch

    sources = list(HATCH_DATASETS) if args.source == "all" else [args.source]
    summary = run_fetch(settings, sources, args.start, args.end, args.format, args.force)
    print(f"fetch: {summary}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch and print a one-line summary."""
    fetch_from_args(args, settings)
    return 0
