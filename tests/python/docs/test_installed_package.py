"""`pip install .` into another environment: `hatch-loader demo` runs with the dbt project shipped
in the package, and dbt writes its target/ and logs/ in the working directory, not the package."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the project's wheel (dependencies: this environment's)."""
    base = tmp_path_factory.mktemp("installed")
    wheels = base / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",  # built as `pip install .` builds it (isolated, setuptools>=68)
            "-q",
            "-w",
            str(wheels),
        ],
        check=True,
        cwd=base,
    )
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    # this environment's packages after the new one's (a plain path: its editable finder for
    # the checkout is not loaded)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = wheels.glob("*.whl")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps"]
    subprocess.run([*pip, "--no-index", str(wheel)], check=True)
    return venv


def test_the_wheel_holds_the_whole_dbt_project(installed: Path) -> None:
    """Every tracked file of the dbt project is installed (a new folder needs its pyproject.toml
    entry)."""
    (project,) = installed.glob("lib/python*/site-packages/loader/dbt/project")
    shipped = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    tracked = subprocess.run(
        [
            "git",
            "ls-files",
            "dbt_project.yml",
            "profiles.yml",
            "models",
            "macros",
            "seeds",
            "tests/generic",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {s for s in shipped if "__pycache__" not in s} == set(tracked)


def test_the_installed_console_script_runs_the_demo(installed: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "WAREHOUSE_"))}
    env.pop("LANDING_URL", None)
    env.pop("LOADER_STATE_DIR", None)
    env.pop("PYTHONPATH", None)
    python = installed / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import loader, dbt.adapters.duckdb; print(loader.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    ).stdout.strip()
    package = Path(where).parent
    assert not package.is_relative_to(ROOT), where  # the installed copy, not the checkout
    done = subprocess.run(
        [str(installed / "bin" / "hatch-loader"), "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        (count,) = con.execute("select count(*) from marts.fct_messages").fetchone()
    assert count > 0
    assert (tmp_path / "logs" / "dbt.log").is_file()
    assert (tmp_path / "target" / "run_results.json").is_file()
    project = package / "dbt" / "project"
    assert (project / "dbt_project.yml").is_file()
    assert not (project / "target").exists() and not (project / "logs").exists()
