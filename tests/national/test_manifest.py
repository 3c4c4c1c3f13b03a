"""The national run's manifest: YAML and CSV, paths, one warehouse and key per trust, one-line errors."""
from __future__ import annotations

import pytest

from tasks.national.manifest import ManifestError, read_manifest, write_manifest


def _yaml(tmp_path, trusts, as_of="2024-01"):
    return write_manifest(tmp_path / "m.yaml", as_of=as_of, trusts=trusts)


def _trust(code="AB1", region="London", **more):
    return {"trust_code": code, "region": region, "extracts": f"{code}/x", "db": f"{code}/w.duckdb", **more}


def test_yaml_manifest_resolves_paths_against_its_folder(tmp_path):
    m = read_manifest(_yaml(tmp_path, [_trust(adopts_letter_to_ceo="yes"), _trust("CD2", "Midlands")]))
    assert m.as_of == "2024-01" and m.codes() == ["AB1", "CD2"]
    first = m.trusts[0]
    assert first.db == str((tmp_path / "AB1" / "w.duckdb").resolve())
    assert first.out_dir == str((tmp_path / "AB1" / "out").resolve())
    assert first.adopts == {"letter_to_ceo": True, "diverse_panel": None} and first.key_file is None


def test_csv_manifest_and_as_of_override(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("trust_code,region,extracts,db,key_file,adopts_diverse_panel,as_of\n"
                 "AB1,London,/data/a,/data/a.duckdb,/keys/a,no,2024-01\n"
                 "CD2,South West,/data/b,/data/b.duckdb,,yes,2024-01\n")
    m = read_manifest(p, as_of="2023-12")
    assert m.as_of == "2023-12"
    assert [t.key_file for t in m.trusts] == ["/keys/a", None]
    assert [t.adopts["diverse_panel"] for t in m.trusts] == [False, True]


@pytest.mark.parametrize("trusts,message", [
    ([_trust(), _trust()], "trust_code must differ"),
    ([_trust(), {**_trust("CD2"), "db": "AB1/w.duckdb"}], "db must differ"),
    ([_trust(key_file="k"), _trust("CD2", key_file="k")], "key_file must differ"),
    ([_trust(region="Atlantis")], "unknown region 'Atlantis'"),
    ([_trust(code="ab 1")], "trust_code must be"),
    ([{"trust_code": "AB1", "region": "London"}], "trust 1: missing extracts, db"),
    ([_trust(colour="red")], "unknown field(s) colour"),
    ([_trust(adopts_letter_to_ceo="maybe")], "expected yes or no"),
])
def test_bad_manifests_fail_with_one_line(tmp_path, trusts, message):
    with pytest.raises(ManifestError, match=None) as err:
        read_manifest(_yaml(tmp_path, trusts))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_month_and_file_type_are_checked(tmp_path):
    with pytest.raises(ManifestError, match="as_of must be YYYY-MM"):
        read_manifest(_yaml(tmp_path, [_trust()], as_of="January"))
    (tmp_path / "m.json").write_text("{}")
    with pytest.raises(ManifestError, match="is .yaml, .yml or .csv"):
        read_manifest(tmp_path / "m.json")
    with pytest.raises(ManifestError, match="manifest not found"):
        read_manifest(tmp_path / "none.yaml")
