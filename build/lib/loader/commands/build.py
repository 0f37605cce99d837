"""``python -m loader build [dbt args...]``: ``dbt build`` on a working copy of the warehouse,
published atomically when it succeeds (:mod:`loader.dbt.build`). Arguments after ``build`` go to dbt
unchanged (``--full-refresh``, ``--select ...``); without them the build follows the new loads, and
``--all`` builds the whole project regardless.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from loader.config import Settings


class _PassThroughParser(argparse.ArgumentParser):
    """Keeps the arguments it does not know, in order, as ``dbt_args`` (never an error)."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        ns, extras = super().parse_known_args(args, namespace)
        ns.dbt_args = [a for a in extras if a != "--"]
        return ns, []


# the settings this command's flags may override (loader.cli.SETTING_FLAGS)
SETTINGS = ("warehouse_path",)


def register(
    subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]
) -> None:
    """Add the ``build`` command."""
    parser = subparsers.add_parser(
        "build",
        parents=parents,
        help="run dbt build on the warehouse (atomic publish on success)",
        description=(
            "Run `dbt build` (seeds, models, tests) on a working copy of the warehouse and "
            "publish it atomically when dbt succeeds. Extra arguments go to dbt, e.g. "
            "`build --full-refresh` or `build --select fct_messages+`."
        ),
        allow_abbrev=False,  # dbt's --state must not be read as --state-dir
        epilog="Any other argument is passed to `dbt build` unchanged.",
    )
    parser.add_argument(
        "--unit-tests",
        action="store_true",
        help="also run dbt's unit tests (left out by default: they test the SQL, not the data)",
    )
    parser.add_argument(
        "--all",
        dest="whole_project",
        action="store_true",
        help="build and test the whole project, not only what the new loads reach",
    )
    parser.__class__ = _PassThroughParser
    parser.set_defaults(func=run, dbt_args=[])


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Build and report."""
    from loader.dbt.build import build

    build(settings, args.dbt_args, args.unit_tests, args.whole_project)
    where = "on Spark" if settings.on_spark else f"published {settings.warehouse_path}"
    print(f"build: ok, {where}")
    return 0
