"""The marts of the spark target as Parquet files, for ``export-parquet``: Spark writes them
through dbt's own connection (``dbt run-operation export_marts_to_directory``)."""

from __future__ import annotations

import json
from pathlib import Path

from loader.config import Settings
from loader.dbt import runner as dbt_runner
from loader.errors import LoaderError


def spark_marts(settings: Settings, folder: Path) -> dict[str, Path]:
    """Each mart as one local Parquet file under ``folder``: mart name -> file."""
    args = ["run-operation", "export_marts_to_directory", "--args"]
    args.append(json.dumps({"directory": str(folder.resolve())}))
    code = dbt_runner.run(args, settings.warehouse_path, settings.lake)
    if code != 0:
        raise LoaderError(f"exporting the marts on Spark failed; see {dbt_runner.log_file()}")
    files = {}
    for mart in sorted(p for p in folder.iterdir() if p.is_dir()):
        (part,) = sorted(mart.glob("part-*.parquet"))  # COALESCE(1): one file
        files[mart.name] = part
    if not files:
        raise LoaderError("the spark target has no marts yet; run `python -m loader build` first")
    return files
