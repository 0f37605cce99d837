"""Settings from environment variables, each overridable by a command-line flag."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from loader.errors import ConfigError

DEFAULT_API_URL = "https://bulk-export-api.usehatchapp.com/api/v1"


class Secret:
    """A string that never shows itself in ``repr``, ``str``, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value; call only where it is sent (the HTTP header)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def fingerprint(self) -> str:
        """A short SHA-256 fingerprint that tells keys apart without revealing one."""
        return hashlib.sha256(self._value.encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    """Everything configurable. ``ENV`` maps each field to its environment variable."""

    api_key: Secret = field(default_factory=lambda: Secret(""))
    api_url: str = DEFAULT_API_URL
    landing_url: str = "landing"
    warehouse_path: Path = Path("warehouse.duckdb")
    state_dir: Path = Path(".loader")
    min_interval_s: float = 300.0
    daily_cap: int = 100
    backfill_days: int = 30
    max_wait_s: float = 900.0
    http_timeout_s: float = 120.0
    max_retries: int = 5
    max_member_bytes: int = 2 * 1024**3
    memory_limit: str = "400MB"
    load_lanes: int = 0  # concurrent insert transactions; 0: one per core (at most 8)
    warehouse_publish: str = "copy"  # copy | in-place (loader/warehouse.py)
    lake_url: str = ""  # the raw Parquet lake (loader/load/lake.py); "" = none
    dbt_target: str = "duckdb"  # dbt's own DBT_TARGET (profiles.yml); Spark targets: see on_spark

    ENV: ClassVar[dict[str, str]] = {
        "api_key": "HATCH_API_KEY",
        "api_url": "HATCH_API_URL",
        "landing_url": "LANDING_URL",
        "warehouse_path": "WAREHOUSE_PATH",
        "state_dir": "LOADER_STATE_DIR",
        "min_interval_s": "HATCH_MIN_INTERVAL_S",
        "daily_cap": "HATCH_DAILY_CAP",
        "backfill_days": "HATCH_BACKFILL_DAYS",
        "max_wait_s": "HATCH_MAX_WAIT_S",
        "http_timeout_s": "HATCH_HTTP_TIMEOUT_S",
        "max_retries": "HATCH_MAX_RETRIES",
        "max_member_bytes": "LOADER_MAX_MEMBER_BYTES",
        "memory_limit": "LOADER_MEMORY_LIMIT",
        "load_lanes": "LOADER_LANES",
        "warehouse_publish": "WAREHOUSE_PUBLISH",
        "lake_url": "LAKE_URL",
        "dbt_target": "DBT_TARGET",
    }

    @property
    def on_spark(self) -> bool:
        """Whether dbt builds on Spark (targets ``spark``, ``spark_thrift``, ``databricks``):
        over the raw lake, with no DuckDB working copy to build or publish."""
        return self.dbt_target.startswith(("spark", "databricks"))

    @property
    def lake(self) -> str | None:
        """Where ``load`` writes the raw lake: LAKE_URL, else ``lake`` on Spark."""
        return self.lake_url or ("lake" if self.on_spark else None)

    @property
    def state_db(self) -> Path:
        """SQLite file holding the rate ledger and the fetch log."""
        return self.state_dir / "state.sqlite"

    def require_api_key(self) -> str:
        """The API key, or a ConfigError when it is not set."""
        if not self.api_key:
            raise ConfigError("HATCH_API_KEY is not set (or pass --api-key)")
        return self.api_key.reveal()


_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", re.IGNORECASE)


def _memory_size(raw: str) -> str:
    """A DuckDB memory size such as ``600MB`` or ``2GiB``; anything else is a ConfigError."""
    if not _MEMORY_SIZE.fullmatch(raw.strip()):
        raise ConfigError(f"LOADER_MEMORY_LIMIT: not a memory size like 600MB or 2GiB: {raw!r}")
    return raw.strip()


def _publish_mode(raw: str) -> str:
    if raw.strip() not in ("copy", "in-place"):
        raise ConfigError(f"WAREHOUSE_PUBLISH: copy or in-place, not {raw!r}")
    return raw.strip()


def _convert(name: str, raw: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if kind == "Secret":
            return raw if isinstance(raw, Secret) else Secret(str(raw))
        if kind == "Path":
            return Path(raw)
        if kind == "float":
            value = float(raw)
        elif kind == "int":
            value = int(raw)
        elif name == "memory_limit":
            return _memory_size(str(raw))
        elif name == "warehouse_publish":
            return _publish_mode(str(raw))
        else:
            urls = ("api_url", "landing_url", "lake_url")
            return str(raw).rstrip("/") if name in urls else str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{Settings.ENV[name]}: not a valid {kind}: {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{Settings.ENV[name]} must not be negative, got {raw!r}")
    return value


def load_settings(
    overrides: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> Settings:
    """Defaults, then environment variables, then non-None ``overrides`` (command-line flags)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for name, var in Settings.ENV.items():
        if env.get(var, "") != "":
            values[name] = _convert(name, env[var])
    for name, value in (overrides or {}).items():
        if value is not None and name in Settings.ENV:
            values[name] = _convert(name, value)
    return replace(Settings(), **values)
