"""End-to-end: the national flow on a real Dask LocalCluster (2 worker processes), 6 small generated trusts,
one of them with a malformed extract (issue 16 acceptance).

One national run (module fixture) against the flow tests' local Prefect API; the tests read what it wrote:
the national_results tables, each trust's own warehouse and key, and the national report and workbook.
The trusts are small (about 1,600 applications: the smallest at which a trust's overall WRES counts are
usually above the suppression threshold, so the funnel has points) so that the run fits the CI budget; the statistical
recovery over many seeds is the slow study in tests/national/test_recovery_study.py.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest

TRUSTS, APPLICATIONS, SEED, BROKEN = 6, 1600, 21, "S003"


@pytest.fixture(scope="module")
def national(harness, tmp_path_factory):
    from edi_recruit.synthetic.national import generate_national
    from flows.national_evaluation import national_evaluation
    from tasks.national.store import load_national_run

    base = tmp_path_factory.mktemp("national")
    summary = generate_national(base / "trusts", trusts=TRUSTS, seed=SEED, applications=APPLICATIONS, size_sd=0.1)
    # a malformed extract: the applications export is not a Trac export at all
    (base / "trusts" / BROKEN / "extracts" / "applications.csv").write_text("not,a,trac\nexport,at,all\n")
    result = national_evaluation(manifest=str(summary.manifest), national_db=str(base / "national.duckdb"),
                                 out_dir=str(base / "out"), n_workers=2)
    run, tables = load_national_run(base / "national.duckdb", result["run_id"])
    truth = json.loads(summary.truth.read_text())
    return {"result": result, "run": run, "tables": tables, "truth": truth, "base": base}


def test_the_malformed_trust_is_reported_and_the_others_complete(national):
    runs = national["tables"]["trust_runs"]
    status = dict(zip(runs["trust_code"], runs["status"]))
    assert status == {f"S{i:03d}": ("failed" if f"S{i:03d}" == BROKEN else "completed") for i in range(1, TRUSTS + 1)}
    reason = runs.filter(pl.col("trust_code") == BROKEN)["reason"][0]
    assert "applications.csv" in reason and "\n" not in reason
    assert national["run"]["status"] == "completed"
    assert (national["run"]["trusts_completed"], national["run"]["trusts_failed"]) == (TRUSTS - 1, 1)
    # the failed trust contributes nothing national
    for name in ("trust_estimates", "funnel"):
        assert BROKEN not in national["tables"][name]["trust_code"].to_list()


def test_each_trust_ran_on_a_dask_worker_with_its_own_warehouse_and_key(national):
    runs = national["tables"]["trust_runs"].filter(pl.col("status") == "completed")
    pids = {w.rsplit(":", 1)[1] for w in runs["worker"]}
    assert str(os.getpid()) not in pids and len(pids) == 2   # two worker processes, neither this one
    keys = []
    for code in runs["trust_code"]:
        db = national["base"] / "trusts" / code / "warehouse.duckdb"
        assert db.exists()
        keys.append(Path(f"{db}.key").read_text().strip())   # the warehouse's own key, not the test environment's
    assert len(set(keys)) == len(keys) and os.environ["EDI_RECRUIT_PSEUDONYM_KEY"] not in keys


def test_only_published_figures_are_combined(national):
    from tasks.national.collect import KEY_MODELS, published_count
    from tasks.outputs.published import load_run

    runs = national["tables"]["trust_runs"].filter(pl.col("status") == "completed")
    est, months = national["tables"]["trust_estimates"], []
    for code, rid in zip(runs["trust_code"], runs["trust_run_id"]):
        published = load_run(national["base"] / "trusts" / code / "warehouse.duckdb", rid).tables
        odds = published["odds_ratios"].filter((pl.col("analysis") == "main") & (pl.col("stage") == "offer")
                                               & (pl.col("model") == KEY_MODELS["offer"]) & (pl.col("term") == "bme"))
        mine = est.filter((pl.col("trust_code") == code) & (pl.col("stage") == "offer") & (pl.col("term") == "bme"))
        assert mine["estimate"].to_list() == odds["estimate"].to_list()
        w = published["wres_indicator2"].filter(pl.col("scope") == "month")
        months += [[published_count(v) for v in r] for r in
                   w.select("shortlisted_white", "appointed_white", "shortlisted_bme", "appointed_bme").iter_rows()]
    complete = [r for r in months if None not in r]
    total = national["tables"]["wres_indicator2"].filter((pl.col("wres_year") == "All") & (pl.col("region") == "All"))
    assert total["shortlisted_bme"][0] == sum(r[2] for r in complete)
    assert total["rows_excluded"][0] == len(months) - len(complete)


def test_pooled_estimates_cover_the_planted_means(national):
    pooled = national["tables"]["pooled_effects"].filter(pl.col("method") == "reml")
    done = set(national["tables"]["trust_runs"].filter(pl.col("status") == "completed")["trust_code"])
    planted = [t for t in national["truth"]["trusts"] if t["trust_code"] in done]
    checked = 0
    for r in pooled.iter_rows(named=True):
        values = [t["planted"].get(r["stage"], {}).get(r["term"]) for t in planted]
        if r["ci_low"] is None or None in values:
            continue
        mean = float(np.mean(values))
        assert r["ci_low"] <= mean <= r["ci_high"], (r["stage"], r["term"], r["estimate"], mean)
        checked += 1
    assert checked >= 6   # every varied term of shortlist, offer and apply_workforce with k >= 1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # statsmodels takes sqrt of its untruncated tau^2
def test_dl_rows_match_statsmodels_combine_effects(national):
    from statsmodels.stats.meta_analysis import combine_effects

    est = national["tables"]["trust_estimates"].filter(pl.col("usable"))
    dl = national["tables"]["pooled_effects"].filter(pl.col("method") == "dl")
    for r in dl.filter(pl.col("k") >= 2).iter_rows(named=True):
        part = est.filter((pl.col("stage") == r["stage"]) & (pl.col("term") == r["term"]))
        res = combine_effects(part["estimate"].to_numpy(), part["std_error"].to_numpy() ** 2, method_re="chi2")
        if res.tau2 > 0:
            mean, se, tau2 = res.mean_effect_re, res.sd_eff_w_re, res.tau2
        else:   # statsmodels leaves the DL moment untruncated; truncated at 0 it is the fixed-effect estimate
            mean, se, tau2 = res.mean_effect_fe, res.sd_eff_w_fe, 0.0
        assert r["estimate"] == pytest.approx(mean, rel=1e-9, abs=1e-12)
        assert r["std_error"] == pytest.approx(se, rel=1e-9)
        assert r["tau2"] == pytest.approx(tau2, rel=1e-9, abs=1e-12)


def test_funnel_limits_match_the_closed_form(national):
    f = national["tables"]["funnel"]
    plotted = f.filter(pl.col("log_relative_likelihood").is_not_null())
    assert plotted.height >= 1   # a trust whose overall counts were suppressed (often as a complement) is not plotted
    complete = f.drop_nulls(["shortlisted_white", "appointed_white", "shortlisted_bme", "appointed_bme"])
    p_w = complete["appointed_white"].sum() / complete["shortlisted_white"].sum()
    p_b = complete["appointed_bme"].sum() / complete["shortlisted_bme"].sum()
    theta0 = math.log(p_w / p_b)
    for r in plotted.iter_rows(named=True):
        s0 = math.sqrt((1 - p_w) / (p_w * r["shortlisted_white"]) + (1 - p_b) / (p_b * r["shortlisted_bme"]))
        assert r["lower_95"] == pytest.approx(theta0 - 1.959963985 * s0, rel=1e-8)
        assert r["upper_95"] == pytest.approx(theta0 + 1.959963985 * s0, rel=1e-8)
        assert r["lower_998"] == pytest.approx(theta0 - 3.090232306 * s0, rel=1e-8)
        assert r["upper_998"] == pytest.approx(theta0 + 3.090232306 * s0, rel=1e-8)
    mix = complete["shortlisted_white"].sum() / complete["shortlisted_bme"].sum()
    for r in national["tables"]["funnel_curve"].iter_rows(named=True):   # the drawn curve, at the national mix
        x = r["shortlisted_bme"]
        s0 = math.sqrt((1 - p_w) / (p_w * mix * x) + (1 - p_b) / (p_b * x))
        assert (r["lower_95"], r["upper_998"]) == (pytest.approx(theta0 - 1.959963985 * s0, rel=1e-8),
                                                   pytest.approx(theta0 + 3.090232306 * s0, rel=1e-8))


def test_national_report_and_workbook(national):
    from openpyxl import load_workbook

    out = national["result"]["outputs"]
    html = Path(out["report"]).read_text(encoding="utf-8")
    assert html.count('data-limit="') == 5 and BROKEN in html          # the funnel's 4 limits + national line
    assert "http://" not in html.replace("http://www.w3.org", "")       # nothing fetched
    for planted in national["truth"]["trusts"]:                          # trust codes only, never trust names
        assert planted["region"] in html or planted["trust_code"] == BROKEN
    wb = load_workbook(out["workbook"], read_only=True)
    assert {"pooled_effects", "funnel", "wres_indicator2", "adoption", "trust_runs"} <= set(wb.sheetnames)


# ---------------------------------------------------------------- national disclosure attack
WRES_COUNTS = ("shortlisted_white", "appointed_white", "shortlisted_bme", "appointed_bme")
PARTITIONS = ("month", "band", "directorate", "programme_period")


def _interval(shown: str | None) -> tuple[float, float | None]:
    """What a reader knows of a published count: 0 exactly, a rounded value +/- 2.5, or (suppressed) >= 0."""
    from tasks.national.collect import published_count

    v = published_count(shown)
    if v is None:
        return 0.0, None
    return (0.0, 0.0) if v == 0 else (max(0.0, v - 2.5), v + 2.5)


def _attack_one_trust(published: pl.DataFrame, true: pl.DataFrame, national_equations: list[tuple[list, float]]):
    """Min and max of every suppressed count of one trust's WRES table (a linear program per cell), for a reader
    who knows every published row, the tables' additive relations and the national equations given; the true
    counts (results.*) only decide which relations hold, and must lie inside every interval."""
    from scipy.optimize import linprog

    keys = [(r["scope"], r["scope_value"]) for r in published.iter_rows(named=True)]
    var = {(k, c): i for i, (k, c) in enumerate((k, c) for k in keys for c in WRES_COUNTS)}
    truth = {((r["scope"], r["scope_value"]), c): float(r[c]) for r in true.iter_rows(named=True) for c in WRES_COUNTS}
    bounds = [None] * len(var)
    for r in published.iter_rows(named=True):
        for c in WRES_COUNTS:
            bounds[var[((r["scope"], r["scope_value"]), c)]] = _interval(r[c])
    eq_rows, eq_rhs = [], []
    overall = ("overall", "all")
    for scope in PARTITIONS:
        members = [k for k in keys if k[0] == scope]
        for c in WRES_COUNTS:
            if members and sum(truth[(k, c)] for k in members) == truth[(overall, c)]:   # a relation that holds
                row = np.zeros(len(var))
                for k in members:
                    row[var[(k, c)]] = 1
                row[var[(overall, c)]] = -1
                eq_rows.append(row)
                eq_rhs.append(0.0)
    for cells, value in national_equations:
        row = np.zeros(len(var))
        for cell in cells:
            row[var[cell]] = 1
        eq_rows.append(row)
        eq_rhs.append(value)
    ub_rows = []
    for k in keys:   # appointed <= shortlisted in each group
        for a, s in (("appointed_white", "shortlisted_white"), ("appointed_bme", "shortlisted_bme")):
            row = np.zeros(len(var))
            row[var[(k, a)]], row[var[(k, s)]] = 1, -1
            ub_rows.append(row)
    widths = {}
    for (k, c), i in var.items():
        if bounds[i][1] is not None:
            continue
        ends = []
        for sign in (1, -1):
            obj = np.zeros(len(var))
            obj[i] = sign
            res = linprog(obj, A_ub=np.array(ub_rows), b_ub=np.zeros(len(ub_rows)),
                          A_eq=np.array(eq_rows) if eq_rows else None, b_eq=np.array(eq_rhs) if eq_rows else None,
                          bounds=bounds, method="highs")
            assert res.status in (0, 3), res.message          # 3: unbounded, no relation caps the cell
            ends.append(sign * res.fun if res.status == 0 else sign * -math.inf)
        lo, hi = ends
        assert lo - 1e-6 <= truth[(k, c)] <= hi + 1e-6    # the reader's model is right about the truth
        widths[(k, c)] = hi - lo
    return widths


def test_national_outputs_narrow_no_suppressed_trust_cell(national):
    """A reader holds every trust's published WRES table and the national outputs.  National figures are sums
    of published values of unsuppressed rows only, so they add no equation on a suppressed cell; had the national
    run summed true counts, the difference would be such an equation (added below) and the interval would shrink.
    Every suppressed cell keeps an interval at least the policy's protection width (or, where the trust's own
    tables already allow less, exactly what they allow: the national outputs never narrow it)."""
    from tasks.national.collect import published_count
    from tasks.outputs.published import load_run
    from tasks.privacy.disclosure.policy import load_policy
    from tasks.warehouse.connection import reading

    min_range = load_policy().min_range
    wres_nat, funnel = national["tables"]["wres_indicator2"], national["tables"]["funnel"]
    runs = national["tables"]["trust_runs"].filter(pl.col("status") == "completed")
    published, true = {}, {}
    for code, rid in zip(runs["trust_code"], runs["trust_run_id"]):
        db = national["base"] / "trusts" / code / "warehouse.duckdb"
        published[code] = load_run(db, rid).tables["wres_indicator2"]
        with reading(db) as con:
            true[code] = pl.from_arrow(con.sql(
                "SELECT * FROM results.wres_indicator2 WHERE run_id = $rid", params={"rid": rid}).to_arrow_table())
    regions = dict(zip(runs["trust_code"], runs["region"]))
    equations: dict[str, list] = {code: [] for code in published}
    # national WRES rows by (WRES year, region): compare with the sum of published unsuppressed month rows
    from tasks.national.wres_pooled import wres_year

    for r in wres_nat.iter_rows(named=True):
        cells, shown_sum = [], {c: 0 for c in WRES_COUNTS}
        for code, pub in published.items():
            if r["region"] != "All" and regions[code] != r["region"]:
                continue
            for m in pub.filter(pl.col("scope") == "month").iter_rows(named=True):
                if r["wres_year"] != "All" and wres_year(m["scope_value"]) != r["wres_year"]:
                    continue
                vals = [published_count(m[c]) for c in WRES_COUNTS]
                cells.append((code, ("month", m["scope_value"])))
                if None not in vals:
                    for c, v in zip(WRES_COUNTS, vals):
                        shown_sum[c] += v
        for c in WRES_COUNTS:
            if r[c] != shown_sum[c]:   # not a function of published values: a reader's equation on true counts
                for code in published:
                    mine = [(k, c) for cc, k in cells if cc == code]
                    if mine:
                        equations[code].append((mine, float(r[c]) - 0.0))
    # the funnel's per-trust counts against the trust's published overall row
    for r in funnel.iter_rows(named=True):
        pub = published[r["trust_code"]].filter(pl.col("scope") == "overall").row(0, named=True)
        for c in WRES_COUNTS:
            if r[c] != published_count(pub[c]):
                equations[r["trust_code"]].append(([(("overall", "all"), c)], float(r[c])))
    checked = 0
    for code, pub in published.items():
        alone = _attack_one_trust(pub, true[code], [])
        attacked = _attack_one_trust(pub, true[code], equations[code]) if equations[code] else alone
        for cell, width in attacked.items():
            assert width >= min(min_range, alone[cell]) - 1e-6, (code, cell, width, alone[cell])
            checked += 1
    assert checked > 0
    assert all(not eqs for eqs in equations.values()), "national outputs are not functions of published values"


@pytest.mark.slow
def test_an_existing_cluster_given_by_its_address_runs_the_trusts(harness, tmp_path):
    """``dask_address`` (``edi-recruit national --dask-address``): the trusts run on a cluster this run did
    not start (its own scheduler and worker processes), and the national run completes (slow: a second
    national run; the CI module above covers the LocalCluster path)."""
    from distributed import Client, LocalCluster

    from edi_recruit.synthetic.national import generate_national
    from flows.national_evaluation import national_evaluation
    from tasks.national.store import load_national_run

    summary = generate_national(tmp_path / "trusts", trusts=2, seed=SEED, applications=800, size_sd=0.1)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        worker_pids = {str(pid) for pid in client.run(os.getpid).values()}
        result = national_evaluation(manifest=str(summary.manifest), national_db=str(tmp_path / "national.duckdb"),
                                     out_dir=str(tmp_path / "out"), dask_address=cluster.scheduler_address,
                                     outputs=False)
    run, tables = load_national_run(tmp_path / "national.duckdb", result["run_id"])
    runs = tables["trust_runs"]
    assert run["status"] == "completed" and runs["status"].to_list() == ["completed", "completed"]
    assert {w.rsplit(":", 1)[1] for w in runs["worker"]} == worker_pids   # that cluster's worker ran them
    assert run["dask_address"] == cluster.scheduler_address
