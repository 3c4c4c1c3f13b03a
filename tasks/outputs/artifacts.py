"""What a run shows in the Prefect UI: artifacts built from PUBLISHED tables only.

The builders here are pure functions over polars frames read from
``published.<name>`` through :mod:`tasks.outputs.published` (disclosure-controlled;
they carry pseudonymous codes and aggregate figures only, never personal data).
Stages, terms, models and bands are shown in words (:mod:`tasks.core.display` helpers),
stages in funnel order; raw model names stay in the report's technical appendix and the exports.
A browser blocks ``file://`` links from the Prefect UI (an http page), so the links artifact links
over http to the outputs server beside the Prefect server (:mod:`edi_recruit.outputs_server`, started by
``edi-recruit serve`` and by the CLI's local API) and, in any case, shows each output's path and the
run's data-quality outcome inline.  The flow
(flows/monthly_evaluation.py) calls :func:`build_run_artifacts` and hands the
result to thin Prefect calls (:func:`emit`).

Every artifact has a fixed key, so the UI keeps its history across runs:

* ``evaluation-summary``    markdown: the headline findings of the run;
* ``key-odds-ratios``       table: BME odds ratios of the main models and the
                             programme-feature contrasts, by stage;
* ``wres-indicator2-by-band`` table: WRES indicator 2 (relative likelihood of
                             White vs BME shortlisted applicants being appointed) by band;
* ``evaluation-links``      markdown: the report, workbook and Data Docs (http links when the
                             outputs server runs, paths always) and the data checks inline;
* ``nlp-progress``           progress of the text analysis (during the run);
* ``backfill-progress``      progress of a backfill.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tasks.core.display import display_band, display_model, display_stage, display_term
from tasks.core.vocabulary import (
    ANALYSIS_MAIN,
    CONTRAST_PREFIX,
    FUNNEL_STAGES,
    INTERACTION_TERMS,
    SENIOR_BANDS,
    TERM_BME,
    TERM_DIVERSE_PANEL,
    TERM_LETTER_TO_CEO,
    TERM_POST_PROGRAMME,
    TOTAL_LABEL,
    contrast_terms,
)
from tasks.outputs import published
from tasks.outputs.report.format import cols

log = logging.getLogger(__name__)


KEY_SUMMARY = "evaluation-summary"


KEY_ODDS_RATIOS = "key-odds-ratios"


KEY_WRES_BY_BAND = "wres-indicator2-by-band"


KEY_LINKS = "evaluation-links"


KEY_NLP_PROGRESS = "nlp-progress"


KEY_BACKFILL_PROGRESS = "backfill-progress"


RUN_ARTIFACT_KEYS: tuple[str, ...] = (KEY_SUMMARY, KEY_ODDS_RATIOS, KEY_WRES_BY_BAND, KEY_LINKS)


KEY_TERMS: tuple[str, ...] = (TERM_BME, *INTERACTION_TERMS)


# The order rows are shown in: the BME term, the contrasts within each programme feature, the interactions
KEY_TERM_ORDER: tuple[str, ...] = (TERM_BME, *contrast_terms((TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL,
                                                                TERM_POST_PROGRAMME)), *INTERACTION_TERMS)


def _rank(order: tuple[str, ...], value) -> int:
    return order.index(value) if value in order else len(order)


WRES_NON_ADVERSE = (0.80, 1.25)


ARTIFACT_TABLES: tuple[str, ...] = ("odds_ratios", "wres_indicator2", "funnel_counts", "adverse_impact", "validation")


@dataclass
class Artifact:
    key: str
    kind: str            # markdown | table | link
    description: str
    markdown: str | None = None
    table: list[dict] = field(default_factory=list)
    link: str | None = None


# ---------------------------------------------------------------- formatting
def _num(v, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)  # published values may be text (a suppression marker)


def _p(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def _ci(lo, hi) -> str:
    if lo is None or hi is None:
        return "–"
    return f"{_num(lo)}–{_num(hi)}"


# ---------------------------------------------------------------- tables
def key_odds_ratios(odds: pl.DataFrame | None) -> list[dict]:
    """Rows of the key odds ratios: the BME term, its interactions with the
    programme features, and the BME contrasts within features, from the main models."""
    if not cols(odds, "stage", "term", "odds_ratio"):
        return []
    df = odds
    if "analysis" in df.columns:
        df = df.filter(pl.col("analysis") == ANALYSIS_MAIN)
    df = df.filter(pl.col("term").is_in(list(KEY_TERMS)) | pl.col("term").str.starts_with(CONTRAST_PREFIX))
    recs = list(df.iter_rows(named=True))
    models = list(dict.fromkeys(r.get("model") for r in recs))   # first appearance
    recs.sort(key=lambda r: (_rank(FUNNEL_STAGES, r.get("stage")), models.index(r.get("model")),
                             _rank(KEY_TERM_ORDER, r.get("term")), str(r.get("term"))))
    rows = []
    for r in recs:
        rows.append({
            "stage": display_stage(r.get("stage")), "model": display_model(r.get("model")),
            "comparison": display_term(r.get("term")),
            "odds ratio": _num(r.get("odds_ratio")), "95% CI": _ci(r.get("ci_low"), r.get("ci_high")),
            "p": _p(r.get("p_value")), "q (BH)": _p(r.get("q_value")),
            "n": _num(r.get("n_obs")), "flags": r.get("flags") or "",
        })
    return rows


def wres_by_band(wres: pl.DataFrame | None) -> list[dict]:
    """WRES indicator 2 by band (and overall), as published."""
    if not cols(wres, "scope", "scope_value", "relative_likelihood"):
        return []
    recs = list(wres.filter(pl.col("scope").is_in(["overall", "band"])).iter_rows(named=True))
    recs.sort(key=lambda r: (r["scope"] == "overall", _rank(SENIOR_BANDS, r["scope_value"]), str(r["scope_value"])))
    rows = []
    for r in recs:
        rows.append({
            "band": "All senior bands (8a-VSM)" if r["scope"] == "overall" else display_band(r["scope_value"]),
            "shortlisted White": _num(r.get("shortlisted_white")),
            "appointed White": _num(r.get("appointed_white")),
            "shortlisted BME": _num(r.get("shortlisted_bme")),
            "appointed BME": _num(r.get("appointed_bme")),
            "relative likelihood": _num(r.get("relative_likelihood")),
            "95% CI": _ci(r.get("ci_low"), r.get("ci_high")),
            "within 0.80–1.25": _num(r.get("in_non_adverse_band")) if r.get("in_non_adverse_band") is not None else "–",
            "flags": r.get("flags") or "",
        })
    return rows


# ---------------------------------------------------------------- summary
def _wres_sentence(wres: pl.DataFrame | None) -> str | None:
    if not cols(wres, "scope", "relative_likelihood"):
        return None
    overall = wres.filter(pl.col("scope") == "overall")
    if overall.height == 0:
        return None
    r = overall.row(0, named=True)
    rl = r.get("relative_likelihood")
    if rl is None:
        return "WRES indicator 2 (all senior bands): not published for this run (small numbers)."
    lo, hi = WRES_NON_ADVERSE
    verdict = ("within the non-adverse range 0.80–1.25" if lo <= rl <= hi else
               "above 1.25: White shortlisted applicants were more likely to be appointed" if rl > hi else
               "below 0.80: BME shortlisted applicants were more likely to be appointed")
    return (f"WRES indicator 2 (all senior bands): relative likelihood **{_num(rl)}** "
            f"(95% CI {_ci(r.get('ci_low'), r.get('ci_high'))}, p {_p(r.get('p_value'))}), {verdict}.")


def _bme_sentences(odds: pl.DataFrame | None) -> list[str]:
    if not cols(odds, "stage", "term", "odds_ratio"):
        return []
    df = odds
    if "analysis" in df.columns:
        df = df.filter(pl.col("analysis") == ANALYSIS_MAIN)
    df = df.filter(pl.col("term") == TERM_BME)
    out = []
    seen = set()
    for r in sorted(df.iter_rows(named=True), key=lambda r: _rank(FUNNEL_STAGES, r["stage"])):
        if r["stage"] in seen or r.get("odds_ratio") is None:
            continue
        seen.add(r["stage"])
        q = r.get("q_value")
        sig = "significant after BH correction" if q is not None and q < 0.05 else "not significant after BH correction"
        out.append(f"{display_stage(r['stage'])}: BME vs White adjusted odds ratio **{_num(r['odds_ratio'])}** "
                   f"(95% CI {_ci(r.get('ci_low'), r.get('ci_high'))}; {sig}).")
    return out


def _funnel_sentence(counts: pl.DataFrame | None) -> str | None:
    if not cols(counts, "band", "wres_group", "applications", "appointed"):
        return None
    tot = counts.filter((pl.col("band") == TOTAL_LABEL) & (pl.col("wres_group") == TOTAL_LABEL))
    if tot.height == 0:
        return None
    r = tot.row(0, named=True)
    return (f"Applications in scope: {_num(r.get('applications'))}; appointed: {_num(r.get('appointed'))} "
            "(published counts, rounded and suppressed under the disclosure policy).")


def summary_markdown(as_of: str, run_id: str, tables: dict[str, pl.DataFrame], *,
                     code_version: str | None = None, input_sha256: str | None = None) -> str:
    """Headline findings of a run, from its published tables."""
    lines = [f"# Senior recruitment evaluation: {as_of}", ""]
    lines.append(f"Run `{run_id}`" + (f", code `{code_version}`" if code_version else "")
                 + (f", extract set `{input_sha256[:12]}`" if input_sha256 else "") + ".")
    lines.append("")
    lines.append("## Headline findings")
    items = []
    w = _wres_sentence(tables.get("wres_indicator2"))
    if w:
        items.append(w)
    items.extend(_bme_sentences(tables.get("odds_ratios")))
    f = _funnel_sentence(tables.get("funnel_counts"))
    if f:
        items.append(f)
    if not items:
        items.append("No published findings for this run.")
    lines.extend(f"- {s}" for s in items)
    lines.append("")
    lines.append("All figures come from the disclosure-controlled `published.*` tables; "
                 "see the report for methods and caveats.")
    return "\n".join(lines) + "\n"


OUTPUTS_HINT = ("Links open over http from the outputs server that `edi-recruit serve` (and the CLI's local API) "
                "starts beside the Prefect server (a browser does not open links to local files from this page).")


NO_OUTPUTS_SERVER = ("No outputs server serves these folders, so open the paths above from a file browser; "
                     "`edi-recruit serve` makes them links.")


def _data_checks(validation: pl.DataFrame | None) -> list[str]:
    """The run's data checks inline, one row per extract table: checks run, failed by severity."""
    if not cols(validation, "suite", "severity", "success"):
        return []
    lines = ["", "## Data checks (the Data Docs in brief)", "",
             "| table | checks | failed: critical | failed: row-level | failed: warning |", "|---|---|---|---|---|"]
    for suite in sorted(validation["suite"].drop_nulls().unique().to_list()):
        df = validation.filter(pl.col("suite") == suite)
        failed = df.filter(~pl.col("success").fill_null(False))
        n = {sev: failed.filter(pl.col("severity") == sev).height for sev in ("critical", "row-level", "warning")}
        lines.append(f"| {suite} | {df.height} | {n['critical']} | {n['row-level']} | {n['warning']} |")
    return lines


def links_markdown(report: str | None, exports: str | None, data_docs: str | None, db: str, run_id: str,
                   tables: dict[str, pl.DataFrame] | None = None, *, env: dict | None = None) -> str:
    """Where the run's outputs are: an http link for each output the outputs server serves, its path
    always, and the data checks inline.  Never a ``file://`` link (blocked from an http page)."""
    from edi_recruit.outputs_server import link as http_link

    linked = False

    def item(label: str, path: str | None, what: str) -> str:
        nonlocal linked
        if not path:
            return f"- **{label}**: not produced in this run"
        p = Path(path).resolve()
        url = http_link(p, env)
        linked = linked or bool(url)
        head = f"[{label}]({url})" if url else f"**{label}**"
        return f"- {head} ({what}): `{p}`"

    lines = [
        "# Outputs of this run", "",
        item("HTML report", report, "the findings, methods and caveats; one self-contained page"),
        item("Excel workbook", exports, "README, data dictionary and every published table; CSV and Parquet beside it"),
        item("Data Docs", data_docs, "every data check, page by page; open offline"),
        (f"- **Warehouse**: `{Path(db).resolve()}`; this run's rows: `WHERE run_id = '{run_id}'` "
         "in `results.*` / `published.*`, latest per month in `results.latest_*`."),
        "",
        OUTPUTS_HINT if linked else NO_OUTPUTS_SERVER,
    ]
    lines += _data_checks((tables or {}).get("validation"))
    return "\n".join(lines) + "\n"


def build_run_artifacts(as_of: str, run_id: str, tables: dict[str, pl.DataFrame], *, db: str,
                        report: str | None = None, exports: str | None = None,
                        data_docs: str | None = None, code_version: str | None = None,
                        input_sha256: str | None = None) -> list[Artifact]:
    """All per-run artifacts (pure)."""
    return [
        Artifact(KEY_SUMMARY, "markdown", f"Headline findings, {as_of}",
                 markdown=summary_markdown(as_of, run_id, tables, code_version=code_version,
                                           input_sha256=input_sha256)),
        Artifact(KEY_ODDS_RATIOS, "table", f"Key BME odds ratios by stage, {as_of}",
                 table=key_odds_ratios(tables.get("odds_ratios"))),
        Artifact(KEY_WRES_BY_BAND, "table", f"WRES indicator 2 by band, {as_of}",
                 table=wres_by_band(tables.get("wres_indicator2"))),
        Artifact(KEY_LINKS, "markdown", f"Report, workbook and Data Docs, {as_of}",
                 markdown=links_markdown(report, exports, data_docs, db, run_id, tables)),
    ]


def backfill_markdown(rows: list[dict]) -> str:
    """A backfill's outcome per month: month, action (ran/skipped/failed), run_id."""
    lines = ["# Backfill", "", "| month | action | run | note |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['as_of']} | {r['action']} | `{r.get('run_id') or ''}` | {r.get('note') or ''} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- reading published tables
def load_published(db: str, run_id: str, names: tuple[str, ...] = ARTIFACT_TABLES) -> dict[str, pl.DataFrame]:
    """The run's rows of the published tables the artifacts use (missing tables are skipped).

    Read by :func:`tasks.outputs.published.load_published`, the outputs' one reader.
    """
    return published.load_published(db, run_id, names)


# ---------------------------------------------------------------- Prefect (thin)
def emit(artifacts: list[Artifact]) -> list[str]:
    """Create the artifacts in the current Prefect run; returns their keys."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    keys = []
    for a in artifacts:
        if a.kind == "markdown":
            create_markdown_artifact(markdown=a.markdown or "", key=a.key, description=a.description)
        elif a.kind == "table":
            create_table_artifact(table=a.table or [{"note": "no rows published"}], key=a.key,
                                  description=a.description)
        keys.append(a.key)
    return keys


class ProgressArtifact:
    """A keyed Prefect progress artifact; call it with (fraction, message).

    Failures to talk to the API are logged and swallowed: progress display must
    never fail a run.  Updates are throttled to whole percents.
    """

    def __init__(self, key: str, description: str):
        self.key, self.description, self._id, self._last = key, description, None, -1
        try:
            from prefect.artifacts import create_progress_artifact

            self._id = create_progress_artifact(progress=0.0, key=key, description=description)
        except Exception as exc:  # noqa: BLE001
            log.warning("progress artifact %s unavailable: %s", key, type(exc).__name__)

    def __call__(self, fraction: float, message: str | None = None) -> None:
        pct = int(round(max(0.0, min(1.0, float(fraction))) * 100))
        if self._id is None or pct == self._last:
            return
        self._last = pct
        try:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(self._id, progress=float(pct),
                                     description=f"{self.description}: {message}" if message else None)
        except Exception as exc:  # noqa: BLE001
            log.warning("progress update failed: %s", type(exc).__name__)
