"""The report's first screen: is the programme closing the gap at each stage, and do its two rules work?

Reads the rows of :mod:`tasks.outputs.report.verdicts` (published odds_ratios,
wres_indicator2, score_effects, national_reference).  Draws two tables: one
verdict row per funnel stage (``tr[data-stage]``) and one per programme rule
(``tr[data-rule]``), each with the before and after figures and their 95% CIs,
the change with its CI, the verdict word (``data-verdict``) and, where the
change could not have been detected, the power sentence.  Words come from
:mod:`tasks.core.display`; no model term is printed.
"""
from __future__ import annotations

from tasks.core.display import INTERVIEW_GAP_CHANGE, PROGRAMME_RULE_MEANING
from tasks.outputs.report.format import NA, esc, ratio
from tasks.outputs.report.sections.base import Ctx
from tasks.outputs.report.verdicts import (
    BETTER,
    NO_CHANGE,
    NOT_ESTIMATED,
    WORSE,
    Estimate,
    VerdictRow,
    rule_rows,
    stage_rows,
)

VERDICT_CLASS = {BETTER: "better", WORSE: "worse", NO_CHANGE: "nochange", NOT_ESTIMATED: "na"}


# A shape beside each verdict word, so that it reads without colour
VERDICT_MARK = {BETTER: "▲ ", WORSE: "▼ ", NO_CHANGE: "● ", NOT_ESTIMATED: ""}


RULE_VERDICT_WORDS = {BETTER: "raises BME candidates' odds", WORSE: "lowers BME candidates' odds",
                      NO_CHANGE: "no detectable effect", NOT_ESTIMATED: "not estimated"}


def _fig(e: Estimate, fmt=ratio, unit: str = "") -> str:
    if not e.present:
        return f'<span class="na">{NA}</span>'
    ci = f"<br><small>95% CI {fmt(e.lo)} to {fmt(e.hi)}</small>" if e.lo is not None and e.hi is not None else ""
    return f"<b>{esc(fmt(e.est))}{unit}</b>{ci}"


def _points(v: float | None) -> str:
    return NA if v is None else f"{v:+.1f}"


def _verdict(row: VerdictRow, words: dict[str, str] | None = None) -> str:
    word = (words or {}).get(row.verdict, row.verdict)
    extra = f'<span class="power">{esc(row.power_note)}</span>' if row.power_note else ""
    notes = "".join(f'<span class="power">{esc(n)}</span>' for n in row.notes if row.key != "appointment")
    return (f'<span class="verdict {VERDICT_CLASS[row.verdict]}">{VERDICT_MARK[row.verdict]}{esc(word)}</span>'
            f"{extra}{notes}")


def _national(row: VerdictRow) -> str:
    if row.benchmark is None:
        return f'<span class="na" title="NHS England publishes no national figure for this stage">{NA}</span>'
    b = row.benchmark
    trust = "".join(f"{esc(n)}<br>" for n in row.notes)
    if b.value is None:
        return f'{trust}<span class="na">{esc(b.note)}</span>'
    return f"{trust}<b>England {esc(ratio(b.value))}</b><br><small>{esc(b.note)}</small>"


def stages_table(rows: list[VerdictRow]) -> str:
    head = ("<tr><th>Stage</th><th>What is compared</th><th>Before the programme</th><th>After it started</th>"
            "<th>Change (after ÷ before)</th><th>Verdict for BME candidates</th><th>National figure, same WRES year</th></tr>")
    body = []
    for r in rows:
        if r.key == "interview":
            before, after = _fig(r.before, _points, " points"), _fig(r.after, _points, " points")
            change = _fig(r.change, _points, " points") + f"<br><small>({esc(INTERVIEW_GAP_CHANGE)})</small>"
        else:
            before, after, change = _fig(r.before), _fig(r.after), _fig(r.change)
        body.append(f'<tr class="verdict-row" data-stage="{esc(r.key)}" data-verdict="{esc(r.verdict)}">'
                    f'<th scope="row">{esc(r.words)}</th><td class="m">{esc(r.measure)}</td><td class="n">{before}</td>'
                    f'<td class="n">{after}</td><td class="n">{change}</td><td>{_verdict(r)}</td>'
                    f"<td>{_national(r)}</td></tr>")
    return f'<table class="verdicts" id="verdicts-stages"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def rules_table(rows: list[VerdictRow]) -> str:
    head = ("<tr><th>Programme rule</th><th>BME vs White odds of an offer where it did not apply</th>"
            "<th>where it applied</th><th>Effect on BME odds (ratio)</th><th>Verdict</th>"
            "<th>Published study</th></tr>")
    body = []
    for r in rows:
        study = (f"<b>OR ≈ {r.study:.1f}</b><br><small>BME candidates' odds of an offer</small>" if r.study
                 else '<span class="na">no published estimate for this rule</span>')
        body.append(f'<tr class="verdict-row" data-rule="{esc(r.key)}" data-verdict="{esc(r.verdict)}">'
                    f'<th scope="row">{esc(r.words)}<br><small>{esc(PROGRAMME_RULE_MEANING.get(r.key, ""))}</small></th>'
                    f'<td class="n">{_fig(r.before)}</td><td class="n">{_fig(r.after)}</td>'
                    f'<td class="n">{_fig(r.change)}</td><td>{_verdict(r, RULE_VERDICT_WORDS)}</td><td>{study}</td></tr>')
    return f'<table class="verdicts" id="verdicts-rules"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


def first_screen(c: Ctx) -> str:
    """The two verdict tables and the note on how to read them."""
    return ('<div id="first-screen"><h3>Is the programme closing the gap at each stage?</h3>'
            + stages_table(stage_rows(c))
            + '<h3>Do the programme\'s two rules work?</h3>' + rules_table(rule_rows(c))
            + '<p class="note">Odds ratios compare BME with White candidates: below 1, BME candidates were less likely '
              "to progress. A verdict is <b>better</b> or <b>worse</b> only when the 95% confidence interval of the change "
              "excludes 1 (no change); otherwise it is <b>no detectable change</b>. Where a change as large as the "
              "published study's could have been missed, the row gives the smallest odds ratio these data could detect "
              "at 80% power (methods, section 1.8). National figures are NHS England's WRES indicator 2 for all trusts "
              "(all bands) in the same WRES year (1 April to 31 March); the trust's figures cover senior bands only.</p>"
              "</div>")
