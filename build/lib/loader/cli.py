"""Command-line interface: ``python -m loader <command>``.

Each command lives in its own module exposing ``register(subparsers, parents)``; the module
adds a sub-parser and sets ``func`` to a callable ``(args, settings) -> int``. Errors raised as
:class:`loader.errors.LoaderError` become one readable line on stderr and their exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from loader.config import Settings, load_settings
from loader.errors import EXIT_DISK_FULL, LoaderError, is_disk_full

# command modules, in the order ``--help`` lists them
COMMAND_MODULES = (
    "loader.commands.fetch",
    "loader.commands.load",
    "loader.commands.sync",
    "loader.commands.status",
    "loader.commands.build",
    "loader.commands.serve",
    "loader.commands.generate",
    "loader.commands.demo",
    "loader.commands.export_parquet",
    "loader.commands.report",
)

SETTING_FLAGS = {
    "--api-key": "api_key",
    "--api-url": "api_url",
    "--landing-url": "landing_url",
    "--warehouse": "warehouse_path",
    "--state-dir": "state_dir",
    "--min-interval": "min_interval_s",
    "--daily-cap": "daily_cap",
    "--backfill-days": "backfill_days",
    "--max-wait": "max_wait_s",
}


def _settings_parent(names: Sequence[str]) -> argparse.ArgumentParser:
    """The flags of the settings ``names`` (each also an environment variable), and ``-v``/``-q``
    (also accepted before the command)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("configuration (each also an environment variable)")
    for flag, name in SETTING_FLAGS.items():
        if name in names:
            var = Settings.ENV[name]
            group.add_argument(
                flag, dest=f"setting_{name}", default=None, metavar=var, help=f"overrides ${var}"
            )
    _add_verbosity(parent, default=argparse.SUPPRESS)  # never clobbers a flag given before
    return parent


def _add_verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    quiet = parser.add_mutually_exclusive_group()
    quiet.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="debug logging"
    )
    quiet.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="warnings and errors only"
    )


def _program() -> str:
    """How the user ran us: the console script's name, else ``python -m loader``."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name and not name.endswith(".py") and name != "-c" else "python -m loader"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every available command."""
    parser = argparse.ArgumentParser(
        prog=_program(),
        description="Fetch Hatch bulk exports, load them and other inbox exports into DuckDB, "
        "build the dbt marts, and look at the result.",
        epilog="Exit codes: 0 ok, 2 usage/config, 3 API key rejected, 4 no rate slot within "
        "--max-wait, 5 server or data error, 6 warehouse busy (another writer), 7 no space "
        "left on a device.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _add_verbosity(parser, default=False)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command whose module is not written yet
            if exc.name != module_name:
                raise
            continue
        names = getattr(module, "SETTINGS", tuple(SETTING_FLAGS.values()))
        module.register(subparsers, [_settings_parent(names)])
    return parser


def _version() -> str:
    try:
        return metadata.version("hatch-analytics")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _settings_from(args: argparse.Namespace) -> Settings:
    overrides = {
        k.removeprefix("setting_"): v for k, v in vars(args).items() if k.startswith("setting_")
    }
    return load_settings(overrides)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    if not args.verbose:  # other libraries' INFO lines (botocore, fsspec, ...) only with -v
        for noisy in ("botocore", "boto3", "s3fs", "fsspec", "urllib3", "aiobotocore"):
            logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    try:
        settings = _settings_from(args)
        return int(args.func(args, settings) or 0)
    except LoaderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a full device outside the warehouse (landing store, state dir)
        if not is_disk_full(exc):
            raise
        where = getattr(exc, "filename", None) or "a file this run writes"
        print(
            f"error: no space left on the device of {where}: free space, then run again",
            file=sys.stderr,
        )
        return EXIT_DISK_FULL
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
