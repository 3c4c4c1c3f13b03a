"""`edi-recruit run` side by side with an analyst's pandas + statsmodels notebook, on the same extracts.

    nice -n 10 .venv/bin/python benchmarks/bench_vs_notebook.py --sizes 8000 100000 [1000000] [--reps 2]
    nice -n 10 .venv/bin/python benchmarks/bench_vs_notebook.py --sizes 100000 --second-month

What is compared.  :func:`notebook` below is the project's own honest version of what a competent
analyst writes in one notebook (issue 15): read the eight Parquet extracts, derive the WRES groups,
join applications to vacancies, managers and panels, fit the funnel logits (shortlisting and
appointment from shortlisting, cluster-robust by vacancy, with the programme interaction), the
offer-stage conditional logit by vacancy (statsmodels ``ConditionalLogit``), WRES indicator 2 and
the four-fifths ratios, VADER per sentence of every text, NMF with K=8 on TF-IDF of each corpus,
MixedLM of normalised interview scores (random intercept per vacancy) and workforce representation.
It has no validation, pseudonymisation, redaction, disclosure control, registry, report, exports or
orchestration.  ``edi-recruit run`` does all of those (report and exports on, the default).

How.  Each size's extracts are generated once (seed 7, Parquet; generation is not timed).  Every
measured run is a child process reaped with ``os.wait4``, which gives its wall time, its CPU
(user + system, including its own children) and its peak RSS.  The two contestants alternate
(rep 0: pipeline first; rep 1: notebook first, ...), each pipeline run on a fresh warehouse.  The
CLI reaches a persistent local Prefect API (edi_recruit.server) that is started and warmed before
the first measurement under its own ``PREFECT_HOME`` and stopped at the end; its CPU is not
counted (it is a shared service, like a database server).  The 1-minute load average is printed
before and after every run: the machine is shared, so compare ratios taken at similar load.

``--second-month``: on one warehouse, run ``--as-of`` the month before the last, then the last
month, and print the second run's wall time as a share of the first's (issue 15's warm month).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WHITE_CODES = ("A", "B", "C")
UNKNOWN_CODES = ("Z", "99", "")


# ------------------------------------------------------------------------------------------------
# The analyst's notebook (pandas + statsmodels formulas; no project code)
# ------------------------------------------------------------------------------------------------
def notebook(extracts: Path) -> dict:
    """Run the notebook's steps on the Parquet extracts in ``extracts``; return a few headline numbers."""
    import re

    import numpy as np
    import pandas as pd
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer
    from statsmodels.discrete.conditional_models import ConditionalLogit
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    out: dict = {}
    rd = lambda name: pd.read_parquet(extracts / f"{name}.parquet")
    apps, vac, mgr, panel = rd("applications"), rd("vacancies"), rd("hiring_managers"), rd("panel_members")
    scores, assess, letters, wf = rd("interview_scores"), rd("assessments"), rd("ceo_letters"), rd("workforce")

    def wres(code: pd.Series) -> pd.Series:
        c = code.fillna("").astype(str).str.strip().str.upper()
        return pd.Series(np.select([c.isin(WHITE_CODES), c.isin(UNKNOWN_CODES)], ["White", "Unknown"], "BME"),
                         index=code.index)

    yn = lambda s: (s.fillna("N").astype(str).str.upper().str[0] == "Y").astype(int)
    apps["wres"] = wres(apps["Ethnic Origin"])
    apps["bme"] = np.where(apps["wres"] == "Unknown", np.nan, (apps["wres"] == "BME").astype(float))
    apps["female"] = (apps["Gender"] == "Female").astype(int)
    apps["internal"] = yn(apps["Internal Applicant"])
    for col, name in (("Shortlisted", "shortlisted"), ("Interviewed", "interviewed"), ("Offered", "offered"),
                      ("Offer Declined", "declined"), ("Appointed", "appointed")):
        apps[name] = yn(apps[col])
    vac["band"] = vac["Pay Band"].str.replace("Band ", "", regex=False)
    vac["advert"] = pd.to_datetime(vac["Advert Date"], format="%d/%m/%Y")
    vac["post_programme"] = (vac["advert"] >= "2022-06-01").astype(int)
    vac["letter_to_ceo"] = yn(vac["CEO Letter Required"])
    mgr["manager_bme"] = (wres(mgr["Ethnic Origin"]) == "BME").astype(int)
    panel["member_bme"] = (wres(panel["Ethnic Origin"]) == "BME").astype(int)
    panel["member_female"] = (panel["Gender"] == "Female").astype(int)
    pv = panel.groupby("Vacancy Reference").agg(panel_bme=("member_bme", "max"), panel_female=("member_female", "max"))
    pv["diverse_panel"] = pv["panel_bme"] * pv["panel_female"]
    df = (apps.merge(vac, on="Vacancy Reference", how="left")
          .merge(mgr[["Manager Ref", "manager_bme"]], left_on="Recruiting Manager Ref", right_on="Manager Ref", how="left")
          .merge(pv[["diverse_panel"]], left_on="Vacancy Reference", right_index=True, how="left"))
    df["diverse_panel"] = df["diverse_panel"].fillna(0)
    df["vac"] = df["Vacancy Reference"].astype("category").cat.codes
    known = df[df["bme"].notna()].copy()
    wd = known["Withdrawn Stage"].fillna("")

    # funnel logits, cluster-robust by vacancy
    rhs = "bme * post_programme + female + internal + C(band) + C(Q('Age Band'))"
    sl = known[wd != "Application"]
    m_sl = smf.glm(f"shortlisted ~ {rhs}", data=sl, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": sl["vac"]})
    ap = known[(known["shortlisted"] == 1) & ~((known["offered"] == 1) & (known["declined"] == 1))]
    m_ap = smf.glm(f"appointed ~ {rhs} + diverse_panel + manager_bme", data=ap, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": ap["vac"]})
    out["or_shortlist_bme"] = float(np.exp(m_sl.params["bme"]))
    out["or_appoint_bme"] = float(np.exp(m_ap.params["bme"]))

    # offer stage: conditional logit by vacancy
    of = known[(known["interviewed"] == 1) & (wd != "Interview")].copy()
    of["bme_post"] = of["bme"] * of["post_programme"]
    cl = ConditionalLogit(of["offered"].to_numpy(float), of[["bme", "bme_post", "female", "internal"]].to_numpy(float),
                          groups=of["vac"].to_numpy()).fit(disp=0)
    out["or_offer_bme"] = float(np.exp(cl.params[0]))

    # WRES indicator 2 and four-fifths
    g = ap[ap["wres"] != "Unknown"].groupby("wres")["appointed"].mean()
    out["wres_indicator_2"] = float(g["White"] / g["BME"])
    ff = {}
    for stage, pop in (("shortlisted", df[df["Withdrawn Stage"].fillna("") != "Application"]),
                       ("offered", df[df["interviewed"] == 1]), ("appointed", df[df["shortlisted"] == 1])):
        rates = pop.groupby(["band", "wres"])[stage].mean().unstack()
        ff[stage] = rates.div(rates.max(axis=1), axis=0)
    out["four_fifths_flags"] = int(sum((f < 0.8).sum().sum() for f in ff.values()))

    # VADER per sentence of every text
    va = SentimentIntensityAnalyzer()
    split = re.compile(r"(?<=[.!?])\s+")
    for name, frame, col in (("assessments", assess, "Assessment Text"), ("letters", letters, "Letter Text")):
        frame["sentiment"] = [
            float(np.mean([va.polarity_scores(s)["compound"] for s in split.split(t)])) if t else np.nan
            for t in frame[col].fillna("")
        ]
        out[f"mean_sentiment_{name}"] = float(frame["sentiment"].mean())
        # NMF with K=8 on TF-IDF
        vec = TfidfVectorizer(stop_words="english", min_df=5, max_df=0.6, sublinear_tf=True)
        X = vec.fit_transform(frame[col].fillna(""))
        W = NMF(n_components=8, init="nndsvda", random_state=0, max_iter=400).fit_transform(X)
        frame["topic"] = W.argmax(axis=1)
    a = assess.merge(df[["Application Ref", "bme"]], on="Application Ref", how="left")
    out["sentiment_gap_bme"] = float(a.groupby("bme")["sentiment"].mean().diff().iloc[-1])

    # interview scores: normalised per sheet, candidate mean, MixedLM with a vacancy intercept
    sheets = scores.groupby(["Application Ref", "Panel Member Ref"], as_index=False)[["Score", "Max Score"]].sum()
    sheets["norm"] = sheets["Score"] / sheets["Max Score"]
    cand = sheets.groupby("Application Ref", as_index=False)["norm"].mean()
    cand = cand.merge(known[["Application Ref", "bme", "female", "internal", "band", "vac"]], on="Application Ref")
    mm = smf.mixedlm("norm ~ bme + female + internal + C(band)", data=cand, groups=cand["vac"]).fit(reml=True)
    out["score_gap_bme"] = float(mm.params["bme"])

    # representation: BME share of the workforce by band and month; appointments against the latest month
    wf["wres"] = wres(wf["Ethnic Origin"])
    wf["band"] = wf["Pay Band"].str.replace("Band ", "", regex=False)
    k = wf[wf["wres"] != "Unknown"]
    share = k.assign(b=(k["wres"] == "BME").astype(int)).groupby(["Snapshot Month", "band"])["b"].mean().unstack()
    latest = share.iloc[-1]
    appointed = known[known["appointed"] == 1].groupby("band")["bme"].mean()
    out["representation_ratio_8a"] = float(appointed.get("8a", np.nan) / latest.get("8a", np.nan))
    return out


# ------------------------------------------------------------------------------------------------
# Measuring
# ------------------------------------------------------------------------------------------------
def load1() -> float:
    return os.getloadavg()[0]


def measure(cmd: list[str], env: dict | None = None, log: Path | None = None) -> dict:
    """Run ``cmd`` as a child; wall, CPU (user+sys of it and its reaped children), peak RSS (MB)."""
    before = load1()
    t0 = time.perf_counter()
    with open(log or os.devnull, "wb") as fh:
        p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed ({status}): {' '.join(cmd)}; log: {log}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss": ru.ru_maxrss / 1024, "load": (before, load1())}


def ensure_extracts(n: int, base: Path) -> Path:
    d = base / f"extracts_{n}"
    if not (d / "applications.parquet").exists():
        subprocess.run([sys.executable, "-m", "edi_recruit.cli", "generate", "--out", str(d), "--seed", "7",
                        "--applications", str(n), "--format", "parquet"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    return d


def pipeline_cmd(extracts: Path, db: Path, out: Path, as_of: str) -> list[str]:
    return [sys.executable, "-m", "edi_recruit.cli", "run", "--extracts", str(extracts), "--db", str(db),
            "--as-of", as_of, "--out", str(out)]


def row(label: str, m: dict) -> str:
    return (f"| {label} | {m['wall']:.1f} | {m['cpu']:.1f} | {m['rss']:,.0f} | "
            f"{m['load'][0]:.2f} → {m['load'][1]:.2f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8000, 100000])
    ap.add_argument("--reps", type=int, default=2, help="alternating repetitions per size")
    ap.add_argument("--work", type=Path, default=None, help="folder for extracts and warehouses (default: a temp dir)")
    ap.add_argument("--as-of", default="2024-01", help="the run's month (default: the generator's last month)")
    ap.add_argument("--second-month", action="store_true",
                    help="also time the month before --as-of then --as-of on one warehouse")
    ap.add_argument("--only", choices=["pipeline", "notebook"], default=None)
    ap.add_argument("--notebook-in-process", type=Path, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.notebook_in_process:
        print(notebook(a.notebook_in_process))
        return 0
    work = a.work or Path(tempfile.mkdtemp(prefix="bench_vs_notebook_"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PREFECT_HOME=str(work / "prefect_home"))
    from edi_recruit.server import ensure_local_api, stop_local_api

    print(f"# bench_vs_notebook {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True, check=False).stdout.strip()}")
    os.environ["PREFECT_HOME"] = env["PREFECT_HOME"]
    ensure_local_api(env["PREFECT_HOME"])
    try:
        for n in a.sizes:
            ex = ensure_extracts(n, work)
            res: dict[str, list[dict]] = {"pipeline": [], "notebook": []}
            print(f"\n## {n:,} applications\n\n| run | wall (s) | CPU (s) | peak RSS (MB) | load 1 min before → after |"
                  "\n|---|---|---|---|---|", flush=True)
            for rep in range(a.reps):
                order = ["pipeline", "notebook"] if rep % 2 == 0 else ["notebook", "pipeline"]
                for who in order:
                    if a.only and who != a.only:
                        continue
                    if who == "pipeline":
                        db = work / f"wh_{n}_{rep}" / "edi.duckdb"
                        shutil.rmtree(db.parent, ignore_errors=True)
                        db.parent.mkdir(parents=True)
                        m = measure(pipeline_cmd(ex, db, work / f"out_{n}_{rep}", a.as_of), env,
                                    work / f"pipeline_{n}_{rep}.log")
                    else:
                        m = measure([sys.executable, __file__, "--notebook-in-process", str(ex)], env,
                                    work / f"notebook_{n}_{rep}.log")
                    res[who].append(m)
                    print(row(f"{who} (rep {rep})", m), flush=True)
            if res["pipeline"] and res["notebook"]:
                med = {w: {k: statistics.median(x[k] for x in v) for k in ("wall", "cpu", "rss")}
                       for w, v in res.items()}
                p, nb = med["pipeline"], med["notebook"]
                print(f"\nmedian pipeline / notebook: wall {p['wall'] / nb['wall']:.2f}×, "
                      f"CPU {p['cpu'] / nb['cpu']:.2f}×, peak RSS {p['rss'] / nb['rss']:.2f}×", flush=True)
            if a.second_month:
                y, mth = map(int, a.as_of.split("-"))
                prev = f"{y - (mth == 1)}-{12 if mth == 1 else mth - 1:02d}"
                db = work / f"wh_{n}_months" / "edi.duckdb"
                shutil.rmtree(db.parent, ignore_errors=True)
                db.parent.mkdir(parents=True)
                m1 = measure(pipeline_cmd(ex, db, work / f"out_{n}_m1", prev), env, work / f"month1_{n}.log")
                m2 = measure(pipeline_cmd(ex, db, work / f"out_{n}_m2", a.as_of), env, work / f"month2_{n}.log")
                print(row(f"pipeline month 1 ({prev})", m1))
                print(row(f"pipeline month 2 ({a.as_of}, same warehouse)", m2))
                print(f"\nsecond month / first month: wall {m2['wall'] / m1['wall']:.0%}, "
                      f"CPU {m2['cpu'] / m1['cpu']:.0%}", flush=True)
    finally:
        stop_local_api(env["PREFECT_HOME"])
    print(f"\nwork folder: {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
