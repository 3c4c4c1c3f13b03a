"""The report's inline stylesheet and chart palette (no font, image or stylesheet is ever fetched)."""
from __future__ import annotations

CSS = """
:root{--ink:#1d2733;--muted:#5b6776;--line:#d5dbe3;--accent:#005eb8;--warn:#b3261e;--ok:#1e7b34;--band:#e8f1fb}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:var(--ink);margin:0;line-height:1.45;background:#fff}
header{background:var(--accent);color:#fff;padding:1.2rem 2rem}
header h1{margin:0;font-size:1.5rem}header p{margin:.3rem 0 0;opacity:.9}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
nav ol{columns:2;font-size:.9rem;padding-left:1.2rem}
section{border-top:1px solid var(--line);padding:1rem 0 1.5rem}
h2{font-size:1.2rem;margin:.2rem 0 .6rem}h3{font-size:1rem;margin:1rem 0 .4rem}
table{border-collapse:collapse;font-size:.82rem;margin:.4rem 0 1rem;max-width:100%}
th,td{border:1px solid var(--line);padding:.2rem .45rem;text-align:right;vertical-align:top}
th{background:#f3f6f9;text-align:center}td.t{text-align:left}
.scroll{overflow-x:auto;max-height:32rem;overflow-y:auto}
.na{color:var(--muted);font-style:italic}
.note{color:var(--muted);font-size:.85rem}
.flag{color:var(--warn)}
.summary li{margin:.3rem 0}
svg{max-width:100%;height:auto;font-family:inherit}
svg text{font-size:11px;fill:var(--ink)}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
@media print{nav{display:none}section{break-inside:avoid-page}}
"""


PALETTE = ("#005eb8", "#d5281b", "#007f3b", "#7c2855", "#ed8b00", "#330072", "#00a499", "#425563")
