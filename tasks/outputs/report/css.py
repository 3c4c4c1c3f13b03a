"""The report's inline stylesheet and colours (no font, image or stylesheet is ever fetched).

Colours: one colour per group everywhere, from the Okabe-Ito palette (safe for
the common colour-vision deficiencies): :func:`group_colour`.  "Adverse" is
never a group colour: it is a hatch pattern with a dark outline
(:data:`ADVERSE_FILL`, defined once per chart by :data:`ADVERSE_DEFS`) and the
word "adverse" beside the mark, so it survives printing in grey.  Series that
are not groups (before / after, fitted lines, the programme start) use
:data:`NEUTRAL` shades.
"""
from __future__ import annotations

from tasks.core.vocabulary import CENSUS_GROUPS, WRES_BME, WRES_UNKNOWN, WRES_WHITE

# Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}


# One colour per group.  WRES groups first; census groups keep White's colour for White and give each
# BME census group its own; "Not stated" shares Unknown's grey.
GROUP_COLOURS: dict[str, str] = {
    WRES_WHITE: OKABE_ITO["blue"],
    WRES_BME: OKABE_ITO["orange"],
    WRES_UNKNOWN: "#8C8C8C",
    "Mixed": OKABE_ITO["reddish_purple"],
    "Asian": OKABE_ITO["bluish_green"],
    "Black": OKABE_ITO["vermillion"],
    "Other": OKABE_ITO["sky_blue"],
    "Not stated": "#8C8C8C",
}
assert set(CENSUS_GROUPS) <= set(GROUP_COLOURS)


# Colours of series that are not groups
NEUTRAL: dict[str, str] = {"main": "#1d2733", "before": "#5b6776", "after": "#1d2733", "start": "#1d2733",
                           "band": "#eef2f6"}


ADVERSE_STROKE = "#1d2733"


ADVERSE_FILL = "url(#adverse-hatch)"


def adverse_defs(uid: str = "adverse-hatch") -> str:
    """The hatch pattern that marks an adverse value (put once in each chart that uses it)."""
    return (f'<defs><pattern id="{uid}" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{ADVERSE_STROKE}" stroke-width="2.5"/></pattern></defs>')


def group_colour(group: str | None) -> str:
    """The one colour of a group (WRES or census; "White x Female" takes its ethnic group's colour)."""
    if group is None:
        return NEUTRAL["main"]
    g = str(group).split(" x ")[0].split(",")[0].strip()
    return GROUP_COLOURS.get(g, NEUTRAL["main"])


CSS = """
:root{--ink:#1d2733;--muted:#5b6776;--line:#d5dbe3;--accent:#005eb8;--band:#eef2f6}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:var(--ink);margin:0;line-height:1.45;background:#fff}
header{background:var(--accent);color:#fff;padding:1rem 2rem}
header h1{margin:0;font-size:1.45rem}header p{margin:.3rem 0 0;opacity:.95}
main{max-width:1180px;margin:0 auto;padding:.6rem 2rem 3rem}
nav ol{columns:3;font-size:.85rem;padding-left:1.2rem;margin:.4rem 0}
section{border-top:1px solid var(--line);padding:.8rem 0 1.4rem}
h2{font-size:1.2rem;margin:.2rem 0 .6rem}h3{font-size:1rem;margin:1rem 0 .4rem}
table{border-collapse:collapse;font-size:.82rem;margin:.4rem 0 1rem;max-width:100%}
th,td{border:1px solid var(--line);padding:.2rem .45rem;text-align:right;vertical-align:top}
th{background:#f3f6f9;text-align:center}td.t{text-align:left}
.scroll{overflow-x:auto;max-height:32rem;overflow-y:auto}
.na{color:var(--muted);font-style:italic}
.note{color:var(--muted);font-size:.85rem}
.summary li{margin:.3rem 0}
table.verdicts{font-size:.84rem;width:100%;margin:.2rem 0 .6rem}table.verdicts td,table.verdicts th{padding:.15rem .4rem}
table.verdicts td.m{font-size:.78rem;color:var(--muted)}table.verdicts th small{font-weight:400;color:var(--muted)}
nav summary{cursor:pointer;font-size:.9rem;color:var(--muted)}
table.verdicts td{text-align:left}table.verdicts td.n{text-align:right;white-space:nowrap}
.verdict{font-weight:700;white-space:nowrap;padding:.05rem .4rem;border-radius:.2rem;border:1px solid var(--ink)}
.verdict.better{background:#ffffff}.verdict.worse{background:#ffffff;border-width:2px;text-decoration:underline}
.verdict.nochange{border-style:dashed;font-weight:600}
.verdict.na{border:none;font-style:italic;font-weight:400}
.power{color:var(--muted);font-size:.8rem;display:block}
svg{max-width:100%;height:auto;font-family:inherit}
svg text{font-size:11px;fill:var(--ink)}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle;border:1px solid #1d2733}
.sw.adverse{background:repeating-linear-gradient(45deg,#fff 0 2px,#1d2733 2px 4px)}
details.technical summary{cursor:pointer;font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
@media print{nav{display:none}section{break-inside:avoid-page}}
"""


# Neutral series colours in order (charts whose series are not groups)
PALETTE = (NEUTRAL["main"], NEUTRAL["before"], "#a0a8b3")
