"""Pinned output of the generator: any change to a draw, its order, or a written value is caught here.

The hashes below are the sha256 of the files of a CSV trust generated with
seed 3 and 1,500 applications (default effects and period), computed from the
PRE-REFACTOR generator (the single-module ``edi_recruit/synthetic/generator.py``
of commit 0ec3e3a) before it was split into modules.  The split reproduces
them byte for byte.  If this test fails, the synthetic data changed: either
revert the change, or, if the change is intended (a new design constant or
planted effect), say so in the commit, regenerate these hashes, and update
docs/synthetic-data.md.  A numpy or pyarrow upgrade that changes a draw or a
float's last digit in truth.json also shows up here.

One deliberate change since: applications.csv gained the six status-change
date columns (issue 17, "outcomes as of the month"), drawn from a new random
stream per chunk so that nothing else moved.  Its hash below is the new file's;
:data:`APPLICATIONS_WITHOUT_STATUS_DATES_SHA256` pins the file with those six
columns dropped (read and rewritten by polars), which equals the same
projection of the pre-refactor file: every existing column kept its values.
Every other file's hash is unchanged.
"""
from __future__ import annotations

import hashlib
import io

import polars as pl

from edi_recruit.synthetic import export_headers, generate_trust
from edi_recruit.synthetic.sinks import header_by_canonical
from tasks.core.vocabulary import STATUS_DATE_COLUMNS

# polars.read_csv(infer_schema=False) -> drop the status-date columns -> write_csv, of the pre-refactor file
APPLICATIONS_WITHOUT_STATUS_DATES_SHA256 = "f0195337797341ad27d3027b77bdc2d10ebcf871b99ef17d9ef8e3ba5651824a"


PRE_REFACTOR_SHA256 = {
    "applications.csv": "9fa85816541baa3eb932081cf8a35e3aaf9ee8bdb3a5dba38abb4df0bdc26f35",
    "assessments.csv": "ac2fb172470bcc61c136a03c453d00e42b983b8c74a7e292f53aa6ba2d396cbb",
    "ceo_letters.csv": "757f68d7faaa523ad0174942dd2e97cc999e368767b958b0b2ab6aa96d6b9baf",
    "hiring_managers.csv": "a0cf9d4bee67a12a74ca1f821997c1b6d14ab543392b9d44a3e184c8e77bfe6a",
    "interview_scores.csv": "2109cbf4d215cd7c22bc8459b32fb4a82962dc97a3d9b98c8efdb5e1653bd8bb",
    "panel_members.csv": "9d129378fa0a861902843bb6eaefe6cbf0ca6d7b559e9cf7830c6b017820e42b",
    "truth.json": "3865400380682567f3dcbcf7c738b848a1d9693ce59c9fa32fb18015519e224f",
    "truth_documents.csv": "98073c0da8a3f2c5f2e1ab905a16eacfc3067844be8fe770168845efe9509c97",
    "truth_pii.csv": "cfa373b93f5f36008a19f3cd22a7dccb2171e90b8634535aa11e34fc53c5625d",
    "vacancies.csv": "e494c55efb1684d43fe4c32e574b481ce4d39439393eb1aa5381beff778db05d",
    "workforce.csv": "deead6b434584df9b2bdaa949764007c692e4f55ab7b1034d046d6e0ddb92042",
}


def test_seed3_csv_trust_matches_pinned_hashes(tmp_path):
    summary = generate_trust(tmp_path, seed=3, applications=1500, fmt="csv")
    written = sorted(p.name for p in summary.out_dir.iterdir())
    assert written == sorted(PRE_REFACTOR_SHA256)
    changed = [name for name, want in PRE_REFACTOR_SHA256.items()
               if hashlib.sha256((summary.out_dir / name).read_bytes()).hexdigest() != want]
    assert not changed, f"generated files differ from the pinned pre-refactor output: {changed}"


def test_status_dates_left_every_existing_application_column_unchanged(tmp_path):
    summary = generate_trust(tmp_path, seed=3, applications=1500, fmt="csv")
    headers = header_by_canonical()["applications"]
    added = [headers[c] for c in STATUS_DATE_COLUMNS.values()]
    assert set(added) <= set(export_headers()["applications"])
    df = pl.read_csv(summary.out_dir / "applications.csv", infer_schema=False)
    buf = io.BytesIO()
    df.drop(added).write_csv(buf)
    assert hashlib.sha256(buf.getvalue()).hexdigest() == APPLICATIONS_WITHOUT_STATUS_DATES_SHA256
