"""Tests of the synthetic-trust generator (edi_recruit/synthetic/generator.py).

Fast checks on a small default trust (tables, raw values, magnitudes, scores,
documents, workforce), determinism across formats, and bad arguments.  Effects
loading is in test_effects.py, truth.json in test_truth.py, recovery of the
planted funnel stages in test_outcomes.py, pinned output hashes in
test_reference_hashes.py.
"""
from __future__ import annotations

import csv

import polars as pl
import pytest
import yaml
from synthetic_readers import read_table, read_tables

from edi_recruit.synthetic import TRUST_TABLES, export_headers, generate_trust
from tasks.core import vocabulary as V
from tasks.core.paths import MAPPINGS_DIR


# ----------------------------------------------------------------- structure
def test_headers_equal_mappings(small_trust):
    trac = yaml.safe_load((MAPPINGS_DIR / "trac.yaml").read_text(encoding="utf-8"))
    esr = yaml.safe_load((MAPPINGS_DIR / "esr.yaml").read_text(encoding="utf-8"))
    expected = {t: list(s["columns"]) + list(s.get("personal_data") or {}) for t, s in trac["tables"].items()}
    expected |= {t: list(s["columns"]) for t, s in esr["tables"].items()}
    assert set(small_trust.files) == set(expected) == set(TRUST_TABLES)
    assert export_headers() == expected
    for t, p in small_trust.files.items():
        assert p.name == f"{t}.csv"
        with p.open(encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == expected[t]
        assert small_trust.row_counts[t] == read_table(p).height


def test_raw_value_formats(small_trust):
    tb = read_tables(small_trust)
    vac, app, wf = tb["vacancies"], tb["applications"], tb["workforce"]
    date_re = r"^\d{2}/\d{2}/\d{4}$"
    assert vac["Advert Date"].str.contains(date_re).all()
    assert app["Date Applied"].str.contains(date_re).all()
    assert set(vac["Pay Band"].unique()) == {f"Band {b}" for b in V.SENIOR_BANDS if b != "VSM"} | {"VSM"}
    for col in ("Shortlisted", "Interviewed", "Offered", "Offer Declined", "Appointed", "Internal Applicant"):
        assert set(app[col].unique()) <= {"Y", "N"}
    assert set(app["Gender"].unique()) == set(V.SEXES)
    assert set(app["Disability"].unique()) == set(V.DISABILITY_VALUES)
    assert set(app["Age Band"].unique()) <= set(V.AGE_BANDS)
    assert set(app["Withdrawn Stage"].drop_nulls().unique()) <= set(V.WITHDRAWN_STAGES)
    codes = app["Ethnic Origin"]
    assert codes.str.contains(V.ETHNIC_CODE_PATTERN).all()
    ext = codes.str.len_chars().eq(2) & ~codes.eq("99")
    assert 0.03 < ext.mean() < 0.07
    assert 0.02 < codes.is_in(list(V.UNKNOWN_CODES)).mean() < 0.07
    assert app["Application Ref"].str.contains(r"^APP-\d{7}$").all()
    assert vac["Vacancy Reference"].str.contains(r"^VAC-\d{6}$").all()
    assert app["Application Ref"].n_unique() == app.height
    internal = app.filter(pl.col("Internal Applicant") == "Y")
    assert internal["ESR Staff Number"].str.contains(r"^\d{8}$").all()
    assert internal["Current Band"].is_not_null().all()
    assert app.filter(pl.col("Internal Applicant") == "N")["Current Band"].is_null().all()
    assert wf["Snapshot Month"].str.contains(r"^\d{4}-\d{2}$").all()
    assert wf["Assignment Number"].str.contains(r"^\d{8}$").all()
    # cp1252-representable non-ASCII names and punctuation are present
    text = " ".join(tb["assessments"]["Assessment Text"].to_list()) + " ".join(app["Forename"].to_list())
    assert any(ch in text for ch in "ëâáéó") and "£" in text and "–" in text
    text.encode("cp1252")


def test_magnitudes(small_trust):
    tb = read_tables(small_trust)
    vac, app, pan = tb["vacancies"], tb["applications"], tb["panel_members"]
    assert 350 <= vac.height <= 450
    assert app.height == 8000
    live = app.filter(pl.col("Withdrawn Stage").is_null() | (pl.col("Withdrawn Stage") != "application"))
    assert 0.25 <= (live["Shortlisted"] == "Y").mean() <= 0.35
    assert 0.30 <= (app["Internal Applicant"] == "Y").mean() <= 0.40
    known = app.with_columns(g=pl.col("Ethnic Origin").map_elements(V.wres_group, return_dtype=pl.String))
    known = known.filter(pl.col("g") != V.WRES_UNKNOWN).join(
        vac.select("Vacancy Reference", "Pay Band"), on="Vacancy Reference")
    share = (known["g"] == V.WRES_BME).mean()
    assert 0.40 <= share <= 0.55
    by_band = known.group_by("Pay Band").agg((pl.col("g") == V.WRES_BME).mean().alias("s"))
    s = dict(zip(by_band["Pay Band"], by_band["s"]))
    assert s["Band 8a"] > s["Band 8d"] and s["Band 8a"] > s["VSM"]
    per_vac = app.group_by("Vacancy Reference").agg((pl.col("Interviewed") == "Y").sum().alias("n"))
    assert 3 <= per_vac["n"].median() <= 6
    assert ((per_vac["n"] >= 2) & (per_vac["n"] <= 8)).mean() > 0.6
    offers = app.group_by("Vacancy Reference").agg((pl.col("Offered") == "Y").sum().alias("o"))
    posts = vac.select("Vacancy Reference", pl.col("Number of Posts").cast(pl.Int64))
    o = offers.join(posts, on="Vacancy Reference")
    assert (o["o"] <= o["Number of Posts"]).all()
    assert (o["o"] == o["Number of Posts"]).mean() > 0.85
    assert 0.01 < (posts["Number of Posts"] == 2).mean() < 0.10
    off = app.filter(pl.col("Offered") == "Y")
    assert 0.03 < (off["Offer Declined"] == "Y").mean() < 0.15
    assert (app["Appointed"] == "Y").sum() == ((app["Offered"] == "Y") & (app["Offer Declined"] == "N")).sum()
    # panels: 2-4 members, one chair; diverse share pre / post programme
    size = pan.group_by("Vacancy Reference").agg(pl.len().alias("n"), (pl.col("Panel Role") == "Chair").sum().alias("c"))
    assert size["n"].is_between(2, 4).all() and (size["c"] == 1).all()
    div = pan.with_columns(
        bme=pl.col("Ethnic Origin").map_elements(V.wres_group, return_dtype=pl.String) == V.WRES_BME,
        fem=pl.col("Gender") == "Female").group_by("Vacancy Reference").agg(
        (pl.col("bme").any() & pl.col("fem").any()).alias("diverse"))
    vv = vac.join(div, on="Vacancy Reference").with_columns(
        post=pl.col("Advert Date").str.to_date("%d/%m/%Y") >= pl.date(2022, 6, 1))
    pre = vv.filter(~pl.col("post"))["diverse"].mean()
    post = vv.filter(pl.col("post"))["diverse"].mean()
    assert 0.25 < pre < 0.45 and 0.82 < post < 0.97
    assert (vv.filter(~pl.col("post"))["CEO Letter Required"] == "N").all()
    assert 0.7 < (vv.filter(pl.col("post"))["CEO Letter Required"] == "Y").mean() < 0.9
    # letter_received only when required and filled
    filled = app.group_by("Vacancy Reference").agg((pl.col("Appointed") == "Y").any().alias("filled"))
    rec = vac.join(filled, on="Vacancy Reference", how="left").filter(pl.col("CEO Letter Received") == "Y")
    assert (rec["CEO Letter Required"] == "Y").all() and rec["filled"].all()
    assert rec.height == tb["ceo_letters"].height
    mgr = vac["Recruiting Manager Ref"].n_unique()
    assert 0.2 < mgr / vac.height < 0.45


def test_scores_within_scales(small_trust):
    sc = read_table(small_trust.files["interview_scores"]).with_columns(
        pl.col("Score").cast(pl.Float64), pl.col("Max Score").cast(pl.Float64))
    assert set(sc["Max Score"].unique()) == {5.0, 10.0}
    assert (sc["Score"] <= sc["Max Score"]).all() and (sc["Score"] >= 0).all()
    assert (sc.filter(pl.col("Max Score") == 5)["Score"] >= 1).all()
    app = read_table(small_trust.files["applications"])
    interviewed = set(app.filter(pl.col("Interviewed") == "Y")["Application Ref"])
    assert set(sc["Application Ref"]) <= interviewed
    crit = sc.group_by("Application Ref", "Panel Member Ref").agg(pl.len().alias("n"))
    assert crit["n"].is_between(3, 6).all()
    norm = (sc["Score"] / sc["Max Score"]).mean()
    assert 0.55 < norm < 0.70


def test_documents_and_planted_pii(small_trust):
    out = small_trust.out_dir
    tb = read_tables(small_trust)
    docs = {("assessments", r): t for r, t in zip(tb["assessments"]["Application Ref"], tb["assessments"]["Assessment Text"])}
    docs |= {("ceo_letters", r): t for r, t in zip(tb["ceo_letters"]["Vacancy Reference"], tb["ceo_letters"]["Letter Text"])}
    pii = pl.read_csv(out / "truth_pii.csv", infer_schema=False)
    assert set(pii["pii_type"].unique()) == {"name", "email", "phone", "staff_number", "nhs_number"}
    for dt, ref, value in zip(pii["document_type"], pii["document_ref"], pii["value"]):
        assert value in docs[(dt, ref)], (dt, ref, value)
    tdocs = pl.read_csv(out / "truth_documents.csv", infer_schema=False)
    assert tdocs.height == len(docs)
    assert set(tdocs["dominant_theme"].unique()) <= set(V.THEMES)
    n = tdocs["n_sentences"].cast(pl.Int64)
    assert n.is_between(4, 9).all()
    assert (tdocs["n_positive_sentences"].cast(pl.Int64) <= n).all()
    app = tb["applications"]
    assert tb["assessments"].height == (app["Interviewed"] == "Y").sum()
    # staff numbers planted in text are the candidate's ESR number
    sn = pii.filter(pl.col("pii_type") == "staff_number").join(
        app.select(pl.col("Application Ref").alias("document_ref"), "ESR Staff Number"), on="document_ref")
    assert sn.height > 0 and (sn["value"] == sn["ESR Staff Number"]).all()
    neg = [w for w in ("lacked", "limited", "not yet ready", "struggled", "would benefit from")]
    text = " ".join(docs.values())
    assert all(w in text for w in neg) and all(w in text for w in ("exceptional", "outstanding", "impressive"))


def test_workforce_consistent_with_internal_applicants(small_trust):
    tb = read_tables(small_trust)
    app, wf = tb["applications"], tb["workforce"]
    internal = app.filter(pl.col("Internal Applicant") == "Y").with_columns(
        month=pl.col("Date Applied").str.to_date("%d/%m/%Y").dt.strftime("%Y-%m"))
    j = internal.join(wf, left_on=["ESR Staff Number", "month"], right_on=["Assignment Number", "Snapshot Month"],
                      how="left")
    assert j["Pay Band"].is_not_null().all()
    assert (j["Pay Band"] == j["Current Band"]).all()
    assert (j["Ethnic Origin"] == j["Ethnic Origin_right"]).all() and (j["Gender"] == j["Gender_right"]).all()
    per_month = wf.group_by("Snapshot Month").len()
    assert per_month.height == 29 and per_month["len"].is_between(3500, 4700).all()
    wf1 = wf.filter(pl.col("Snapshot Month") == "2021-09").with_columns(
        g=pl.col("Ethnic Origin").map_elements(V.wres_group, return_dtype=pl.String))
    sh = wf1.filter(pl.col("g") != V.WRES_UNKNOWN).group_by("Pay Band").agg((pl.col("g") == V.WRES_BME).mean().alias("s"))
    s = dict(zip(sh["Pay Band"], sh["s"]))
    assert s["Band 6"] > s["Band 8a"] > s["Band 8d"]
    assert 0.38 < s["Band 6"] < 0.52
    assert wf.select("Snapshot Month", "Assignment Number").is_duplicated().sum() == 0


# ------------------------------------------------------------ determinism
@pytest.mark.parametrize("fmt", ["csv", "csv-bom", "csv-cp1252", "parquet", "xlsx"])
def test_same_seed_byte_identical(tmp_path, fmt):
    n = 600 if fmt == "xlsx" else 2000
    a = generate_trust(tmp_path / "a", seed=3, applications=n, fmt=fmt)
    b = generate_trust(tmp_path / "b", seed=3, applications=n, fmt=fmt)
    names = sorted(p.name for p in a.out_dir.iterdir())
    assert names == sorted(p.name for p in b.out_dir.iterdir())
    for name in names:
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    if fmt == "csv-bom":
        assert (a.out_dir / "vacancies.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    if fmt == "csv-cp1252":
        raw = b"".join((a.out_dir / f"{t}.csv").read_bytes() for t in ("assessments", "applications"))
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        raw.decode("cp1252")


def test_formats_hold_same_data(tmp_path):
    c = generate_trust(tmp_path / "c", seed=5, applications=500, fmt="csv")
    p = generate_trust(tmp_path / "p", seed=5, applications=500, fmt="parquet")
    for t in ("applications", "assessments", "interview_scores"):
        dc = read_table(c.files[t]).cast(pl.String)
        dp = read_table(p.files[t], "parquet").cast(pl.String)
        assert dc.equals(dp), t


def test_different_seed_differs(tmp_path):
    a = generate_trust(tmp_path / "a", seed=1, applications=500)
    b = generate_trust(tmp_path / "b", seed=2, applications=500)
    assert a.files["applications"].read_bytes() != b.files["applications"].read_bytes()


def test_progress_reported(tmp_path):
    calls = []
    generate_trust(tmp_path, seed=1, applications=500, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1] and all(d <= t for d, t in calls)


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, match", [
    ({"applications": 50}, "at least 100"),
    ({"fmt": "ods"}, "fmt must be"),
    ({"period_start": "2021-13"}, "period_start"),
    ({"programme_start": "2020-01"}, "programme_start"),
    ({"programme_start": "June 2022"}, "programme_start"),
    ({"fmt": "xlsx", "applications": 200_000}, "xlsx"),
])
def test_bad_inputs(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_trust(tmp_path, **kwargs)
