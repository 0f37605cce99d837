"""``python -m loader sync``: fetch new Hatch exports, then load everything not loaded yet."""

from __future__ import annotations

import argparse
import logging
from datetime import date

from loader.commands import load as load_command
from loader.config import Settings
from loader.errors import LoaderError
from loader.schemas import HATCH_DATASETS

log = logging.getLogger(__name__)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD format: {value!r}") from None


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``sync`` command."""
    parser = subparsers.add_parser(
        "sync",
        parents=parents,
        help="fetch, then load",
        description=(
            "Run `fetch` (same options), then `load` of everything landed and not loaded yet. "
            "When the fetch fails, what is already landed is still loaded; the exit code is the "
            "fetch's."
        ),
    )
    parser.add_argument(
        "--source", choices=[*HATCH_DATASETS, "all"], default="all", help="default: all"
    )
    parser.add_argument("--start", type=_date, metavar="YYYY-MM-DD", help="first day (inclusive)")
    parser.add_argument("--end", type=_date, metavar="YYYY-MM-DD", help="last day (inclusive)")
    parser.add_argument("--format", choices=["json", "csv"], default="json", help="default: json")
    parser.add_argument(
        "--force", action="store_true", help="fetch again even where already fetched"
    )
    load_command.add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch, then load; a fetch error is raised after the load."""
    from loader.fetch import run_fetch
    from loader.ingest import run_load

    sources = list(HATCH_DATASETS) if args.source == "all" else [args.source]
    fetch_error: LoaderError | None = None
    try:
        print(
            f"fetch: {run_fetch(settings, sources, args.start, args.end, args.format, args.force)}"
        )
    except LoaderError as exc:
        log.error("fetch failed: %s; loading what is landed", exc)
        fetch_error = exc
    code = load_command.report(run_load(settings))
    if fetch_error is not None:
        raise fetch_error
    return code
