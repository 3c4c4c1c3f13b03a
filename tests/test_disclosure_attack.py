"""The attacker: every published table of a run, the report and the exports, read together.

Issue 12 acceptance.  Runs are built without Prefect (every analysis, one publish transaction, the
report and the exports: tests/disclosure_helpers.py):

* the default trust (session fixture ``warehouse``: seed 7, ~8,000 applications);
* a small trust (seed 3, 1,500 applications: suppression is dense) whose assessments and CEO
  letters carry planted vacancy, application, ESR and NHS Jobs-style references;
* (slow) a third trust (seed 11, 4,000 applications).

For each run one linear program over every linked cell (non-negativity, every additive relation
within and between tables, every shown cell within its rounding interval) gives each suppressed
cell's feasible interval; every interval must be at least the policy's protection width.  A
negative control shows that tables protected one at a time (the old behaviour) fail it.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import polars as pl
import pytest
from disclosure_helpers import POLICY, attack, build_run, published_frames

from tasks.privacy.disclosure import protect_table
from tasks.privacy.disclosure.relations import build_problem, cell_values, check_relations, published_rows

WIDTH = POLICY.min_range
REF_RX = re.compile(r"(?:VAC|APP|CAN|ESR|NHSJ)[-/ ]?\d{4,}|NHSJ/\d{4}/\d{3,}")


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def default_run(warehouse, tmp_path_factory):
    return build_run(warehouse, tmp_path_factory.mktemp("attack_default"))


def plant_references(extracts: Path) -> list[str]:
    """Add record references to every assessment and CEO letter, in the extracts' formats and an NHS
    Jobs-style trust format (the policy's pattern); the list of planted references."""
    apps = pl.read_csv(extracts / "applications.csv", infer_schema=False)
    vac_of = dict(zip(apps["Application Ref"], apps["Vacancy Reference"]))
    esr_of = dict(zip(apps["Application Ref"], apps["ESR Staff Number"]))
    first_app = {}
    for a, v in zip(apps["Application Ref"], apps["Vacancy Reference"]):
        first_app.setdefault(v, a)
    planted: list[str] = []

    def refs(app: str, vac: str, k: int) -> str:
        esr = esr_of.get(app) or f"{30000000 + k:08d}"
        nhsj = f"NHSJ/2023/{100000 + k}"
        planted.extend([app, vac, f"ESR-{esr}", nhsj])
        return f" Our reference {app} (vacancy {vac}); ESR-{esr}; advert {nhsj}."

    a = pl.read_csv(extracts / "assessments.csv", infer_schema=False)
    a = a.with_columns(pl.Series("Assessment Text", [
        t + refs(app, vac_of.get(app, "VAC-000000"), k)
        for k, (t, app) in enumerate(zip(a["Assessment Text"], a["Application Ref"]))]))
    a.write_csv(extracts / "assessments.csv")
    letters = pl.read_csv(extracts / "ceo_letters.csv", infer_schema=False)
    base = a.height
    letters = letters.with_columns(pl.Series("Letter Text", [
        t + refs(first_app.get(v, "APP-0000000"), v, base + k)
        for k, (t, v) in enumerate(zip(letters["Letter Text"], letters["Vacancy Reference"]))]))
    letters.write_csv(extracts / "ceo_letters.csv")
    return planted


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from extract_helpers import small_extracts

    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import build_marts

    d = tmp_path_factory.mktemp("attack_small")
    ex = small_extracts(d / "extracts", seed=3, applications=1500)
    planted = plant_references(ex)
    db = d / "edi.duckdb"
    ingest_extracts(ex, db)
    build_marts(db)
    run = build_run(db, d / "run")
    run["planted"] = planted
    return run


RUNS = ["default_run", "small_run"]


def _run(request, name):
    return request.getfixturevalue(name)


# --------------------------------------------------------------------------
# The attacker
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", RUNS)
def test_no_suppressed_cell_can_be_narrowed_below_the_protection_width(request, name):
    run = _run(request, name)
    res = attack(run["published"], run["results"])
    assert res["suppressed"] > 20, "the run suppressed almost nothing: nothing was attacked"
    assert res["relations"] > 500
    narrow = {c: iv for c, iv in res["intervals"].items() if iv[1] - iv[0] < WIDTH - 1e-6}
    assert not narrow, f"{len(narrow)} suppressed cells narrowed below {WIDTH}: {list(narrow.items())[:5]}"


def test_the_attacker_uses_the_relations_between_tables(default_run):
    labels = set(build_problem(published_frames(default_run["published"]), POLICY).labels)
    for expected in ("funnel_vs_wres: appointed BME", "funnel_vs_wres: shortlisted BME",
                     "wres_vs_adverse_impact: n BME", "funnel_vs_adverse_impact: applications >= n",
                     "funnel_counts: margin of appointed", "wres_indicator2: margin of appointed_bme",
                     "funnel_counts: shortlisted >= interviewed"):
        assert expected in labels, expected


def test_every_relation_holds_on_the_true_counts(default_run):
    """The relations are facts about the data (none is dropped by the check on true counts)."""
    frames = {n: published_rows(n, df, POLICY) for n, df in default_run["results"].items()
              if n in published_frames(default_run["published"])}
    prob = build_problem(frames, POLICY)
    kept = check_relations(prob, cell_values(frames, prob))
    assert len(kept.equations) == len(prob.equations)


def test_tables_protected_one_at_a_time_are_broken_by_the_attacker(default_run):
    """Negative control: the same results protected table by table (no linked decision) leak, already to a
    reader of the funnel and WRES tables alone (the issue's examples)."""
    alone = {n: protect_table(n, default_run["results"][n], POLICY)[0] for n in ("funnel_counts", "wres_indicator2")}
    res = attack(alone, default_run["results"])
    narrow = [c for c, iv in res["intervals"].items() if iv[1] - iv[0] < WIDTH - 1e-6]
    assert narrow, "per-table protection should be breakable through the links between tables"


# --------------------------------------------------------------------------
# The scan: no count of 1-7 anywhere
# --------------------------------------------------------------------------
def _bad(v) -> bool:
    if v is None or v in ("", POLICY.symbol, "–", "-"):
        return False
    x = float(str(v).replace(",", ""))
    return 1 <= x <= POLICY.suppress_max or x % POLICY.round_to != 0


def _count_cols(name: str) -> list[str]:
    return list(POLICY.table_spec(name).get("counts", []))


@pytest.mark.parametrize("name", RUNS)
def test_no_count_n_or_person_cluster_of_1_to_7_in_tables_exports_or_report(request, name):
    run = _run(request, name)
    for t, df in run["published"].items():
        if t == "disclosure_log":
            continue
        for c in _count_cols(t):
            if c in df.columns:
                assert not [v for v in df[c].to_list() if _bad(v)], (t, c)
        # every integer-looking column called n, n_* or *_count is a count
        for c in df.columns:
            if c == "n" or c.startswith("n_") or c.endswith("_count"):
                assert c in _count_cols(t) or c in POLICY.passthrough or c in ("n_periods",), (t, c)
        csv = pl.read_csv(run["exports"]["csv"][t], infer_schema=False)
        for c in _count_cols(t):
            if c in csv.columns:
                assert not [v for v in csv[c].to_list() if _bad(v)], ("csv", t, c)
    for t in ("topic_prevalence", "sentiment_by_group", "text_effects", "score_effects"):
        if t in run["published"]:
            assert {"n_clusters", "n_groups"} & set(_count_cols(t)), t
    counts = {c for t in POLICY.raw.get("tables", {}) for c in _count_cols(t)}
    for art in run["artifacts"]:  # Prefect artifacts: their tables' count columns
        for row in art.table or []:
            for col, v in row.items():
                if col in counts:
                    assert not _bad(v), ("artifact", art.key, col, v)
    for table in re.findall(r"<table[^>]*>(.*?)</table>", run["report"], re.DOTALL):
        header = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.DOTALL)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.DOTALL):
            cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            for col, v in zip(header, cells):
                if col in counts:
                    assert not _bad(v), ("report", col, v)


@pytest.mark.parametrize("name", RUNS)
def test_exports_hold_exactly_the_published_tables(request, name):
    run = _run(request, name)
    for t, df in run["published"].items():
        csv = pl.read_csv(run["exports"]["csv"][t], infer_schema=False)
        for c in _count_cols(t):
            if c in df.columns:
                assert csv[c].fill_null("").to_list() == df[c].fill_null("").to_list(), (t, c)


def _static_numbers() -> set[str]:
    """Numbers written in the checks' fixed wording (expectation suites, ingest checks): '5..VSM', '99'."""
    import json

    from tasks.core.paths import PROJECT_ROOT
    from tasks.validation.rules import INGEST_EXPECTATIONS

    texts = list(INGEST_EXPECTATIONS.values())
    for f in (PROJECT_ROOT / "expectations").glob("*.json"):
        texts += [(e.get("meta") or {}).get("reason", "") for e in json.loads(f.read_text())["expectations"]]
    return {n for t in texts for n in NUMBER_RX.findall(t)}


NUMBER_RX = re.compile(r"\d[\d,]*")


@pytest.mark.parametrize("name", RUNS)
def test_the_published_validation_tables_give_back_no_exact_count(request, name):
    """The gate's published rows carry counts only as protected counts: no exact figure in a reason, no
    percentage from exact counts (it would give back a rounded or suppressed count), no raw value."""
    run = _run(request, name)
    exact = run["results"]["validation"]
    assert exact.filter(pl.col("expectation") == "row_count_drift")["detail"].str.contains(r"\d").all()
    assert "unexpected_percent" in exact.columns   # the results keep them; publishing drops them
    allowed = _static_numbers()
    for t in ("validation", "quarantine_summary"):
        df = run["published"][t]
        assert {"detail", "unexpected_percent", "sample_ids"}.isdisjoint(df.columns), t
        for reason in df["reason"].drop_nulls().to_list():
            assert set(NUMBER_RX.findall(reason)) <= allowed, (t, reason)
    v = run["published"]["validation"]
    assert v.filter(pl.col("expectation") == "row_count_drift").height == exact.filter(
        pl.col("expectation") == "row_count_drift").height > 0
    # a reader's share: from the shown counts only
    for r in v.filter(pl.col("unexpected_count") != "0").iter_rows(named=True):
        assert r["unexpected_count"] == POLICY.symbol or not _bad(r["unexpected_count"]), r


@pytest.mark.parametrize("name", RUNS)
def test_rows_of_a_suppressed_group_show_no_statistics(request, name):
    run = _run(request, name)
    for t in ("topic_prevalence", "sentiment_by_group"):
        df = run["published"].get(t)
        if df is None:
            continue
        hidden = df.filter((pl.col("n") == POLICY.symbol) | (pl.col("n_clusters") == POLICY.symbol))
        for c in ("mean", "ci_low", "ci_high", "std_error"):
            assert hidden[c].drop_nulls().len() == 0, (t, c)
    s = run["published"].get("interview_scores")
    if s is not None:
        assert s.filter(pl.col("n") == POLICY.symbol)["value"].drop_nulls().len() == 0


# --------------------------------------------------------------------------
# Rates and ratios beside counts reproduce from the counts as shown
# --------------------------------------------------------------------------
def _num(v):
    try:
        return None if v is None else float(v)
    except ValueError:
        return None


def _rl(aw, sw, ab, sb):
    """WRES indicator 2 from four counts (0.5 added to each cell when one is 0), by hand."""
    cells = [aw, sw - aw, ab, sb - ab]
    if min(cells) == 0:
        cells = [x + 0.5 for x in cells]
    return (cells[0] / (cells[0] + cells[1])) / (cells[2] / (cells[2] + cells[3]))


@pytest.mark.parametrize("name", RUNS)
def test_wres_ratios_reproduce_from_the_shown_counts_in_table_and_report(request, name):
    from tasks.outputs.report.format import ratio

    run = _run(request, name)
    w = run["published"]["wres_indicator2"]
    checked = 0
    for r in w.iter_rows(named=True):
        counts = [_num(r[c]) for c in ("appointed_white", "shortlisted_white", "appointed_bme", "shortlisted_bme")]
        if r["relative_likelihood"] is None:
            continue
        assert None not in counts, r
        want = _rl(*counts)
        assert r["relative_likelihood"] == pytest.approx(want, rel=1e-12)
        if r["scope"] == "overall":  # the headline the report prints (summary and WRES section)
            assert f"{ratio(want)} times" in run["report"] or ratio(want) in run["report"], ratio(want)
        checked += 1
    assert checked >= 1
    overall = w.filter(pl.col("scope") == "overall").row(0, named=True)
    if overall["relative_likelihood"] is not None:  # the example: 220/1285 / 135/980 style check
        p_w = float(overall["appointed_white"]) / float(overall["shortlisted_white"])
        p_b = float(overall["appointed_bme"]) / float(overall["shortlisted_bme"])
        assert ratio(overall["relative_likelihood"]) == ratio(p_w / p_b)


@pytest.mark.parametrize("name", RUNS)
def test_impact_ratios_reproduce_from_the_shown_counts(request, name):
    run = _run(request, name)
    a = run["published"]["adverse_impact"]
    rows = a.rows(named=True)
    by = {(r["stage"], r["period"], r["grouping"], r["group"]): r for r in rows}
    checked = 0
    for r in rows:
        if r["impact_ratio"] is None:
            continue
        ref = by[(r["stage"], r["period"], r["grouping"], r["reference_group"])]
        want = (float(r["selected"]) / float(r["n"])) / (float(ref["selected"]) / float(ref["n"]))
        assert r["impact_ratio"] == pytest.approx(want, rel=1e-12)
        assert r["four_fifths_flag"] == (want < 0.8)
        checked += 1
    assert checked >= 5


# --------------------------------------------------------------------------
# Identifiers in free text
# --------------------------------------------------------------------------
def _text_columns(con, schema: str) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND data_type = 'VARCHAR'", [schema]).fetchall()
    return [(t, c) for t, c in rows]


def test_planted_references_are_redacted_before_staging(small_run):
    import duckdb

    planted = small_run["planted"]
    assert len(planted) > 1000
    con = duckdb.connect(str(small_run["db"]), read_only=True)
    try:
        texts = []
        for t in ("assessments", "ceo_letters"):
            col = [c for tt, c in _text_columns(con, "staging") if tt == t and c == "text"]
            assert col, t
            texts += [r[0] or "" for r in con.execute(f"SELECT text FROM staging.{t}").fetchall()]
        blob = "\n".join(texts)
        assert blob.count("[REFERENCE]") >= 0.99 * len(planted)
        found = [p for p in set(planted) if p in blob]
        recall = 1 - len(found) / len(set(planted))
        assert recall >= 0.99, found[:10]
        # nothing that looks like a record reference in any free text from staging on
        for schema in ("staging", "marts", "results", "published"):
            for t, c in _text_columns(con, schema):
                hits = con.execute(
                    f'SELECT count(*) FROM "{schema}"."{t}" WHERE length("{c}") > 40 '
                    f"AND regexp_matches(\"{c}\", '(VAC|APP|CAN|ESR)[-/ ]?[0-9]{{4,}}|NHSJ/[0-9]{{4}}/[0-9]{{3,}}')"
                ).fetchone()[0]
                assert hits == 0, (schema, t, c)
    finally:
        con.close()
    for p in Path(small_run["db"]).parent.rglob("*.parquet"):
        df = pl.read_parquet(p)
        for c, dt in df.schema.items():
            if dt == pl.Utf8:
                long = df[c].drop_nulls().filter(df[c].drop_nulls().str.len_chars() > 40)
                assert not long.str.contains(REF_RX.pattern).any(), (p.name, c)
    assert not REF_RX.search(small_run["report"])


@pytest.mark.slow
def test_a_third_trust_resists_the_attacker(tmp_path_factory):
    from extract_helpers import small_extracts

    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import build_marts

    d = tmp_path_factory.mktemp("attack_third")
    ex = small_extracts(d / "extracts", seed=11, applications=4000)
    db = d / "edi.duckdb"
    ingest_extracts(ex, db)
    build_marts(db)
    run = build_run(db, d / "run")
    res = attack(run["published"], run["results"])
    narrow = {c: iv for c, iv in res["intervals"].items() if iv[1] - iv[0] < WIDTH - 1e-6}
    assert res["suppressed"] > 20 and not narrow
    assert math.isfinite(res["relations"])
