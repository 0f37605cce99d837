"""The warehouse opens with BI drivers: older DuckDB 1.x releases and SQLAlchemy/duckdb-engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from bi_support import MARTS, mart_counts

from loader import warehouse

# Older DuckDB releases a BI tool may bundle; each must read the published file.
OLD_DUCKDB_VERSIONS = ("1.0.0", "1.1.3") if sys.version_info < (3, 13) else ("1.1.3",)
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hatch-analytics"
NETWORK_ERRORS = (
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeout",
    "ReadTimeout",
    "No route to host",
)

OLD_READER = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
names = [n for (n,) in con.execute(
    "select table_name from information_schema.tables where table_schema = 'marts'"
).fetchall()]
counts = {n: con.execute(f'select count(*) from marts."{n}"').fetchone()[0] for n in names}
# touch every column of every mart, not just the row counts
for n in names:
    con.execute(f'select * from marts."{n}"').fetchall()
print(json.dumps({"version": duckdb.__version__, "marts": counts}))
"""


def old_duckdb(version: str) -> Path:
    """A directory holding ``duckdb==version`` (cached under ~/.cache; installed once)."""
    target = CACHE / f"duckdb-{version}-py{sys.version_info.major}{sys.version_info.minor}"
    if (target / "duckdb").is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--no-deps", "--only-binary=:all:", "--timeout", "30", "--retries", "2"),
            *("--target", str(tmp), f"duckdb=={version}"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        output = proc.stdout + proc.stderr
        if any(marker in output for marker in NETWORK_ERRORS):
            pytest.skip(f"PyPI is unreachable, cannot install duckdb=={version}: {output[-300:]}")
        pytest.fail(f"pip could not install duckdb=={version}:\n{output[-2000:]}")
    try:
        tmp.rename(target)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def test_warehouse_uses_the_v1_0_storage_format(built_warehouse: Path) -> None:
    with duckdb.connect(str(built_warehouse), read_only=True) as con:
        assert warehouse.storage_version(con) == "v1.0.0+"


@pytest.mark.parametrize("version", OLD_DUCKDB_VERSIONS)
def test_older_duckdb_reads_every_mart(built_warehouse: Path, version: str) -> None:
    site = old_duckdb(version)
    proc = subprocess.run(
        [sys.executable, "-S", "-c", OLD_READER, str(built_warehouse)],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["version"] == version
    assert result["marts"] == mart_counts(built_warehouse)
    assert set(MARTS) <= set(result["marts"])


@pytest.mark.filterwarnings("ignore:duckdb-engine doesn't yet support reflection on indices")
@pytest.mark.filterwarnings("ignore:Did not recognize type 'list'")  # VARCHAR[] -> NullType
def test_sqlalchemy_reflects_and_queries_every_mart(built_warehouse: Path) -> None:
    # SQLAlchemy >= 2.0.45 reflects column collations from pg_catalog.pg_collation, which DuckDB
    # < 1.5 lacks (duckdb/duckdb#22069, Mause/duckdb_engine#1379): SQLAlchemy is pinned to 2.0.44.
    assert tuple(map(int, sa.__version__.split(".")[:3])) < (2, 0, 45) or (
        tuple(map(int, duckdb.__version__.split(".")[:2])) >= (1, 5)
    ), f"SQLAlchemy {sa.__version__} cannot reflect DuckDB {duckdb.__version__} tables"
    expected = mart_counts(built_warehouse)  # before: one process, one DuckDB configuration
    engine = sa.create_engine(f"duckdb:///{built_warehouse}", connect_args={"read_only": True})
    try:
        names = sa.inspect(engine).get_table_names(schema="marts")
        assert set(MARTS) <= set(names)
        assert set(names) == set(expected)
        metadata = sa.MetaData()
        with engine.connect() as conn:
            for name in names:
                table = sa.Table(name, metadata, schema="marts", autoload_with=engine)
                assert table.columns, name
                count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                assert count == expected[name], name
                row = conn.execute(sa.select(table).limit(1)).first()
                assert row is None or len(row) == len(table.columns)
    finally:
        engine.dispose()
