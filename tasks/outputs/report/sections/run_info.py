"""Sections 11-13: data quality, methods and caveats, run metadata.

Reads published validation, quarantine_summary and disclosure_log (through the
policy of :class:`tasks.outputs.published.PublishedRun`) and the run's
registry row (its ``status_dates`` adds a caveat when the export does not date
every status change).  The methods text summarises docs/methods.md; it states no figure.
"""
from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from tasks.core.display import display_group
from tasks.core.vocabulary import ETHNIC_CATEGORIES, STATUS_DATES_ABSENT, STATUS_DATES_PARTIAL
from tasks.outputs.report.format import NA, cols, esc, html_table, not_available
from tasks.outputs.report.sections.base import Ctx


# the data checks as a reader sees them: which table, which check, how it came out and what was done
QUALITY_COLUMNS = {"suite": "table", "expectation": "check", "severity": "severity", "success": "passed",
                   "element_count": "rows checked", "unexpected_count": "rows failing",
                   "action_taken": "action taken", "file_names": "files", "reason": "what the check found"}
QUARANTINE_COLUMNS = {"table_name": "table", "expectation": "check", "reason": "reason", "rows": "rows"}


def section_quality(c: Ctx) -> str:
    v, q = c.get("validation"), c.get("quarantine_summary")
    if v is None and q is None:
        return not_available("validation", "quarantine_summary")
    out = []
    if v is not None:
        out.append("<h3>Validation summary</h3>")
        if cols(v, "success"):
            passed = pl.col("success").cast(pl.Utf8).is_in(["true", "True", "1"])
            ok = v.filter(passed).height
            out.append(f"<p>{ok} of {v.height} checks passed. Checks that did not pass come first; the "
                       "workbook's validation sheet lists every check.</p>")
            v = v.sort(passed, maintain_order=True)
        out.append(html_table(v, list(QUALITY_COLUMNS), headers=QUALITY_COLUMNS))
    if q is not None:
        out.append("<h3>Quarantined rows by reason</h3>" + html_table(q, list(QUARANTINE_COLUMNS),
                                                                       headers=QUARANTINE_COLUMNS))
    return "".join(out)


def ethnic_codes_table() -> str:
    """The NHS Data Dictionary ethnic category codes with their meaning and WRES group (the glossary the
    tables' codes refer to; two-character codes such as AA are local codes within their first letter)."""
    rows = "".join(f"<tr><td>{esc(k)}</td><td class=\"t\">{esc(e.description)}</td><td class=\"t\">{esc(display_group(e.wres_group))}</td></tr>"
                   for k, e in ETHNIC_CATEGORIES.items())
    return ('<div class="scroll"><table><thead><tr><th>code</th><th>meaning</th><th>WRES group</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></div>"
            '<p class="note">Two-character codes (for example AA, CP) are a trust\'s local codes within the category '
            "of their first letter: AA is a local code within A (White - British).</p>")


def section_methods(c: Ctx) -> str:
    pol = c.policy
    return f"""
<h3>What the figures are</h3>
<ul>
<li><b>Funnel counts</b>: applications to senior posts (bands 8a-VSM) and how many were shortlisted, interviewed, offered and appointed, by WRES ethnicity group (White; BME; Unknown = not stated or not known).</li>
<li><b>Odds ratios</b>: logistic models of each stage, BME vs White, adjusted for band, sex, internal status and other features; standard errors clustered by vacancy; q-values control the false discovery rate (Benjamini-Hochberg). Contrasts give the BME-White gap with and without a letter to the CEO and a diverse panel.</li>
<li><b>WRES indicator 2</b>: relative likelihood of White shortlisted applicants being appointed compared with BME shortlisted applicants; 1 is parity, the non-adverse band is 0.80-1.25; applicants of unknown ethnicity and those who declined an offer are left out (NHS England technical guidance).</li>
<li><b>Adverse impact</b>: each group's selection rate divided by the highest group's (four-fifths rule, 29 CFR 1607.4(D)), with Fisher's exact test and shortfall; intersectional groups (ethnicity × sex) as in NYC Local Law 144 audits.</li>
<li><b>Text</b>: topics and tone of redacted interview assessments; adjusted comparisons control for the offer, interview score and band.</li>
<li><b>Representation</b>: BME share by band against the Model Employer target (the organisation's BME workforce share; NHS England 2019).</li>
<li><b>Interrupted time series</b>: segmented regression of the BME share of appointments around the programme start, Newey-West standard errors.</li>
</ul>
<h3>Caveats</h3>
<ul>
<li>These are observational comparisons: differences may reflect factors not recorded in the extracts.</li>
<li>Senior-grade numbers are small: many cells are suppressed and intervals are wide. "Not significant" is not evidence of no difference.</li>
<li>Statistics that could reveal a suppressed count (rates, relative likelihoods and impact ratios built from it) are withheld; regression estimates are shown but flagged when based on fewer than 10 events.</li>
<li>National WRES figures cover all bands of all trusts and are context, not a like-for-like benchmark.</li>
{status_dates_caveat(c.run.get("status_dates"))}
</ul>
<h3>NHS ethnic category codes</h3>
{ethnic_codes_table()}
<h3>Disclosure control</h3>
<p>Policy <b>{esc(pol.get('policy_version', NA))}</b>: {esc(pol.get('policy_summary', 'not recorded'))}.</p>
<p class="note">Full methods: docs/methods.md in the project repository.</p>"""


STATUS_DATES_CAVEATS = {
    STATUS_DATES_ABSENT: "The applications export has no status-change dates: each application's shortlisted, "
                         "interviewed, offered and appointed flags are its final values, so a month evaluated "
                         "later also counts outcomes decided after it.",
    STATUS_DATES_PARTIAL: "Some statuses in the applications export have no status-change date: those use their "
                          "final values, so a month evaluated later may count outcomes decided after it.",
}


def status_dates_caveat(status_dates: str | None) -> str:
    """A caveat line when the export does not date every status change (``results.runs.status_dates``)."""
    text = STATUS_DATES_CAVEATS.get(status_dates or "")
    return f"<li>{esc(text)}</li>" if text else ""


def section_metadata(c: Ctx) -> str:
    r, pol = c.run, c.policy
    items = [("run_id", r.get("run_id")), ("as_of", r.get("as_of")), ("flow", r.get("flow")), ("status", r.get("status")),
             ("started_at", r.get("started_at")), ("finished_at", r.get("finished_at")),
             ("code version", r.get("code_version")), ("input hash (SHA-256)", r.get("input_sha256")),
             ("status dates", r.get("status_dates")),
             ("SDC policy version", pol.get("policy_version")), ("SDC policy hash", pol.get("policy_sha256")),
             ("published tables", ", ".join(pol.get("tables", [])) or NA),
             ("report generated", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))]
    return "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(NA if v is None else v)}</dd>" for k, v in items) + "</dl>"
