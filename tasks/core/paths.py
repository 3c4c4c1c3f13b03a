"""Where the project's files are: SQL, expectations, mappings, reference data, config, effects.

In a checkout (or an editable install) they are the top-level folders of the
repository.  An installed wheel carries the same folders as package data under
``edi_recruit/resources/`` (pyproject.toml maps them there), and they are found
there when the repository layout is absent.  Nothing else in the code builds a
path to a project file: import it from here.
"""
from __future__ import annotations

from pathlib import Path

RESOURCE_FOLDERS = ("sql", "expectations", "mappings", "reference", "config", "effects")


def _project_root() -> Path:
    repo = Path(__file__).resolve().parents[2]
    if (repo / "sql").is_dir() and (repo / "pyproject.toml").is_file():
        return repo
    return Path(__file__).resolve().parents[2] / "edi_recruit" / "resources"


PROJECT_ROOT = _project_root()
SQL_DIR = PROJECT_ROOT / "sql"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
MAPPINGS_DIR = PROJECT_ROOT / "mappings"
REFERENCE_DIR = PROJECT_ROOT / "reference"
CONFIG_DIR = PROJECT_ROOT / "config"
EFFECTS_DIR = PROJECT_ROOT / "effects"
