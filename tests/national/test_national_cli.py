"""The national subcommands: help, one-line errors before any cluster starts, generate-national."""
from __future__ import annotations

import json

import pytest

from edi_recruit.cli import main


@pytest.mark.parametrize("name", ["national", "generate-national"])
def test_help(name, capsys):
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: edi-recruit {name}") and "--" in out


def test_national_errors_are_one_line(tmp_path, capsys):
    assert main(["national", "--manifest", str(tmp_path / "none.yaml")]) == 1
    assert capsys.readouterr().err.strip() == f"edi-recruit national: error: manifest not found: {tmp_path / 'none.yaml'}"
    m = tmp_path / "m.yaml"
    m.write_text("trusts:\n  - {trust_code: AB1, region: London, extracts: x, db: x.duckdb}\n")
    assert main(["national", "--manifest", str(m)]) == 1
    assert "no month: give --as-of or put as_of in the manifest" in capsys.readouterr().err
    assert main(["national", "--manifest", str(m), "--as-of", "2024-13"]) == 2   # argparse: not a month


def test_generate_national_writes_a_runnable_manifest(tmp_path, capsys):
    from tasks.national.manifest import read_manifest

    assert main(["generate-national", "--out", str(tmp_path), "--trusts", "2", "--applications", "300",
                 "--size-sd", "0", "--seed", "4"]) == 0
    assert "Generated 2 synthetic trusts" in capsys.readouterr().out
    m = read_manifest(tmp_path / "manifest.yaml")
    assert m.codes() == ["S001", "S002"] and all((tmp_path / c / "extracts" / "applications.csv").exists()
                                                 for c in m.codes())
    assert json.loads((tmp_path / "truth.json").read_text())["trusts"][0]["applications"] == 300
