"""The wheel built from the repository is a working installation.

A wheel is built from the checkout, installed into a fresh virtual environment
that cannot see the checkout, and ``edi-recruit demo`` runs end to end from it:
generate, ingest, validation gate, marts, analyses, publish, report and exports.
The fresh environment gets its third-party dependencies from the project's
environment through a path entry (installing them again from the registry
would add minutes and test pip, not the wheel); the project's own packages and
data folders come only from the wheel, which the test checks.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tasks.core.paths import PROJECT_ROOT, RESOURCE_FOLDERS

PACKAGE_ROOTS = ("tasks", "flows", "edi_recruit")


def _repo_packages() -> set[str]:
    out = set()
    for root in PACKAGE_ROOTS:
        for init in (PROJECT_ROOT / root).rglob("__init__.py"):
            out.add(".".join(init.parent.relative_to(PROJECT_ROOT).parts))
    return out


def test_setup_copies_the_same_resource_folders_that_paths_looks_for():
    tree = ast.parse((PROJECT_ROOT / "setup.py").read_text(encoding="utf-8"))
    found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == "RESOURCE_FOLDERS" for t in n.targets)]
    assert found and ast.literal_eval(found[0]) == RESOURCE_FOLDERS
    for name in RESOURCE_FOLDERS:
        assert (PROJECT_ROOT / name).is_dir(), name


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
                    "-w", str(out), str(PROJECT_ROOT)], check=True, cwd=out)
    wheels = list(out.glob("edi_recruit-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_holds_every_package_and_data_folder(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packaged = {str(Path(n).parent).replace("/", ".") for n in names if n.endswith("/__init__.py")}
    assert _repo_packages() <= packaged, sorted(_repo_packages() - packaged)
    for folder in RESOURCE_FOLDERS:
        repo_files = {str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / folder).rglob("*") if p.is_file()}
        in_wheel = {n[len("edi_recruit/resources/"):] for n in names if n.startswith(f"edi_recruit/resources/{folder}/")}
        assert repo_files == in_wheel, (folder, sorted(repo_files ^ in_wheel)[:5])


def test_demo_runs_from_the_wheel_in_a_fresh_environment(wheel, tmp_path):
    from edi_recruit.server import stop_local_api

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-index", str(wheel)], check=True, cwd=tmp_path)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "zz_project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PREFECT_HOME"))}
    env.update(EDI_RECRUIT_QUIET="1", PREFECT_HOME=str(tmp_path / "prefect"))
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import tasks, flows, edi_recruit; from tasks.core.paths import SQL_DIR; "
                            "print(tasks.__file__); print(flows.__file__); print(edi_recruit.__file__); print(SQL_DIR)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path, env=env).stdout.split()
    assert all(p.startswith(str(site)) for p in where), where
    try:
        run = subprocess.run([str(venv / "bin" / "edi-recruit"), "demo", "--workdir", str(tmp_path / "demo"),
                              "--applications", "1500"],   # a small trust: this checks packaging, not statistics (CI time)
                             capture_output=True, text=True, cwd=tmp_path, env=env, timeout=900)
    finally:
        stop_local_api(tmp_path / "prefect")   # not left idling (and using CPU) for half an hour
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    out = tmp_path / "demo" / "out"
    assert list(out.glob("*/report.html")), run.stdout[-2000:]
    assert list(out.glob("*/*.xlsx")), run.stdout[-2000:]
    assert "completed" in run.stdout or "report" in run.stdout
