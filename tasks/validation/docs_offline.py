"""Data Docs that work offline: every page rewritten so it loads nothing from the network.

GX 1.x renders Data Docs with Bootstrap 4, bootstrap-table, jQuery, Font Awesome, Vega and a logo from
CDNs and S3; offline a page is an unstyled list and the index's tables (built by bootstrap-table from
data in a script) are empty, and online every page view contacts third parties.  After GX builds the
site, :func:`make_offline` rewrites each HTML file under the docs folder:

* ``<link>`` and ``<script src>`` tags that point to ``http(s)://`` are removed;
* the index's tables are rendered as plain HTML from the columns and rows GX put in its
  ``bootstrapTable(...)`` call, and the jQuery scripts are replaced by a few lines of plain
  JavaScript (tabs, the "Failed only" filter, clickable rows);
* a local stylesheet covering the Bootstrap classes the pages use is inlined, with check and cross
  symbols for Font Awesome's icons;
* the logo points at the site's own ``static/images/logo-long.png``; links to greatexpectations.io
  become plain text; ``url(http...)`` in inline styles is dropped.

:func:`network_references` lists what a page still references on another host (the tests assert it
is empty).  Reads and writes only the docs folder; never touches GX's stores or the warehouse.
"""
from __future__ import annotations

import ast
import html
import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)


_EXTERNAL = r"https?://"
_LINK_TAG = re.compile(r"<link\b[^>]*\bhref=[\"']" + _EXTERNAL + r"[^>]*>\s*", re.IGNORECASE)
_SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc=[\"']" + _EXTERNAL + r"[^>]*>\s*</script>\s*", re.IGNORECASE)
_IMG_LOGO = re.compile(r"(<img\b[^>]*\bsrc=)[\"']" + _EXTERNAL + r"[^\"']*logo[^\"']*[\"']", re.IGNORECASE)
_ANCHOR = re.compile(r"<a\b[^>]*\bhref=[\"']" + _EXTERNAL + r"[^\"']*[\"'][^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_CSS_URL = re.compile(r"url\(\s*['\"]?" + _EXTERNAL + r"[^)]*\)", re.IGNORECASE)
_ATTR = re.compile(r"\s(?:src|href)=[\"']" + _EXTERNAL + r"[^\"']*[\"']", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>\s*", re.IGNORECASE | re.DOTALL)
_TABLE_INIT = re.compile(r"\$\('#([\w-]+)'\)\.bootstrapTable\(\s*Object\.assign\(\s*\{\s*columns:\s*(\[.*?\]),\s*"
                         r"data:\s*(\[.*?\]),\s*toolbar:", re.DOTALL)
_REF = re.compile(r"(?:\b(?:src|href)=[\"']|url\(\s*['\"]?)(" + _EXTERNAL + r"[^\"')\s]*)", re.IGNORECASE)
_STATIC_REF = re.compile(r"\b(src|href)=\"(?:\./|\.\./)*(static/[^\"]+)\"")
LOCAL_HOSTS = ("127.0.0.1", "localhost")
MARKER = "<!-- edi-recruit: offline -->"

OFFLINE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:14px;color:#212529;margin:0;
 background:#fff;line-height:1.45}
a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}
.navbar{display:flex;align-items:center;padding:6px 16px;background:#fff;border-bottom:1px solid #dee2e6}
.sticky-top{position:sticky;top:0;z-index:10}.d-flex{display:flex}.align-items-center{align-items:center}
.container-fluid{width:100%;box-sizing:border-box;padding-left:15px;padding-right:15px}
.row{display:flex;flex-wrap:wrap;margin-left:-15px;margin-right:-15px}
[class*="col-"]{box-sizing:border-box;padding-left:15px;padding-right:15px;width:100%}
@media(min-width:768px){.col-md-2{flex:0 0 16.67%;max-width:16.67%}.col-md-10{flex:0 0 83.33%;max-width:83.33%}
 .col-md-6{flex:0 0 50%;max-width:50%}.col-md-4{flex:0 0 33.33%;max-width:33.33%}.col-md-8{flex:0 0 66.67%;
 max-width:66.67%}.d-md-block{display:block!important}.d-md-inline-flex{display:inline-flex!important}}
.col-12{flex:0 0 100%;max-width:100%}
.p-0{padding:0!important}.px-0{padding-left:0!important;padding-right:0!important}.m-0{margin:0!important}
.pl-5{padding-left:2rem}.pr-5{padding-right:2rem}.pt-4{padding-top:1.2rem}.pb-4{padding-bottom:1.2rem}
.mb-1{margin-bottom:.25rem}.mb-2{margin-bottom:.5rem}.mb-3{margin-bottom:1rem}.mb-4{margin-bottom:1.5rem}
.ml-1{margin-left:.25rem}.ml-2{margin-left:.5rem}.mr-2{margin-right:.5rem}.mt-1{margin-top:.25rem}
.d-none{display:none}.float-left{float:left}.lead{font-size:1.1rem;font-weight:300}
h1,h2,h3,h4,h5,h6,.h6{margin:.4rem 0 .5rem;font-weight:600;line-height:1.2}h4{font-size:1.3rem}h5{font-size:1.1rem}
.alert{padding:.6rem 1rem;margin-bottom:1rem;border:1px solid transparent;border-radius:.25rem}
.alert-secondary{color:#383d41;background:#e2e3e5;border-color:#d6d8db}
.card{border:1px solid rgba(0,0,0,.125);border-radius:.25rem;margin-bottom:1rem;background:#fff}
.card-header{padding:.5rem .75rem;background:rgba(0,0,0,.03);border-bottom:1px solid rgba(0,0,0,.125)}
.card-body{padding:.75rem}.bg-light{background:#f8f9fa!important}.rounded{border-radius:.25rem}
.table,table{width:100%;border-collapse:collapse;margin-bottom:1rem}
.table td,.table th,table.ge-static-table td,table.ge-static-table th{padding:.35rem .5rem;
 border-top:1px solid #dee2e6;vertical-align:top;text-align:left}
.table thead th,table.ge-static-table thead th{border-bottom:2px solid #dee2e6;background:#f1f3f5}
table.ge-static-table tbody tr.clickable-row:hover{background:#eef4fb;cursor:pointer}
.table-responsive{overflow-x:auto}
.badge{display:inline-block;padding:.2em .45em;font-size:80%;font-weight:600;border-radius:.25rem}
.badge-secondary{color:#fff;background:#6c757d}.badge-info{color:#fff;background:#17a2b8}
.text-success{color:#1e7b34!important}.text-danger{color:#b02a37!important}.text-muted{color:#6c757d}
.btn{display:inline-block;padding:.25rem .6rem;border:1px solid transparent;border-radius:.25rem;cursor:pointer;
 font-size:.9rem}.btn-primary{color:#fff;background:#0b5cad}.btn-primary.active{background:#084a8a}
.btn-secondary{color:#fff;background:#6c757d}.btn-group{display:inline-flex;gap:2px}.btn input{display:none}
.nav{display:flex;flex-wrap:wrap;padding-left:0;margin:0;list-style:none}.nav-pills{flex-direction:column}
.nav-link{display:block;padding:.35rem .7rem}.nav-tabs{border-bottom:1px solid #dee2e6;margin-bottom:.8rem}
.nav-tabs .nav-link{border:1px solid transparent;border-radius:.25rem .25rem 0 0;margin-bottom:-1px}
.nav-tabs .nav-link.active{color:#495057;background:#fff;border-color:#dee2e6 #dee2e6 #fff}
.tab-pane{display:none}.tab-pane.active{display:block}
.breadcrumb{display:flex;list-style:none;padding:.3rem .8rem;margin:0 0 0 .5rem;border-radius:.25rem}
.breadcrumb-item+.breadcrumb-item::before{content:"/";padding:0 .4rem;color:#6c757d}
.fas{font-style:normal;font-weight:700}.fa-check-circle::before{content:"\\2714"}.fa-times::before{content:"\\2718"}
.fa-exclamation-triangle::before{content:"\\26A0"}.fa-question-circle::before{content:"?"}
.cooltip .top{display:none}.cooltip:hover .top{display:block;position:absolute;background:#fff;border:1px solid #ccc;
 padding:.4rem;white-space:pre;font-size:12px;z-index:5}
.collapse:not(.show){display:none}
[id$="-table-toolbar"],footer{display:none}
"""

OFFLINE_JS = """
(function(){
  function each(sel, fn){ Array.prototype.forEach.call(document.querySelectorAll(sel), fn); }
  each('a[data-toggle="tab"]', function(a){
    a.addEventListener('click', function(ev){
      ev.preventDefault();
      each('a[data-toggle="tab"]', function(o){ o.classList.remove('active'); });
      each('.tab-pane', function(p){ p.classList.remove('active', 'show'); });
      a.classList.add('active');
      var pane = document.querySelector(a.getAttribute('href'));
      if (pane) { pane.classList.add('active', 'show'); }
    });
  });
  each('a[data-toggle="collapse"]', function(a){
    a.addEventListener('click', function(ev){
      ev.preventDefault();
      var box = document.querySelector(a.getAttribute('href'));
      if (box) { box.classList.toggle('show'); a.setAttribute('aria-expanded', box.classList.contains('show')); }
    });
  });
  each('tr[data-href]', function(tr){
    tr.addEventListener('click', function(ev){
      if (ev.target.closest('a')) { return; }
      window.location = tr.getAttribute('data-href');
    });
  });
})();
function _edi_toggle(show){
  function each(sel, fn){ Array.prototype.forEach.call(document.querySelectorAll(sel), fn); }
  var disp = show ? '' : 'none';
  each('.hide-succeeded-validation-target-child', function(el){ el.parentNode.style.display = disp; });
  each('.hide-succeeded-validation-target', function(el){ el.style.display = disp; });
  each('.hide-succeeded-validations-column-section-target-child', function(el){
    var sec = el.parentNode.parentNode; sec.style.display = disp;
    each('a[href$="' + sec.id + '"]', function(a){ a.style.display = disp; });
  });
}
function showAllValidations(){ _edi_toggle(true); }
function hideSucceededValidations(){ _edi_toggle(false); }
"""


def _static_table(table_id: str, columns: list[dict], rows: list[dict]) -> str:
    """A bootstrap-table as plain HTML: the column titles, then one row per record (its cells are GX's HTML)."""
    fields = [c["field"] for c in columns]
    head = "".join(f"<th>{html.escape(str(c.get('title', c['field'])))}</th>" for c in columns)
    sort_key = "_run_time_sort" if rows and "_run_time_sort" in rows[0] else None
    if sort_key:
        rows = sorted(rows, key=lambda r: r.get(sort_key) or 0, reverse=True)
    body = []
    for r in rows:
        link = r.get("_table_row_link_path")
        attrs = f' class="clickable-row" data-href="{html.escape(link, quote=True)}"' if link else ""
        body.append(f"<tr{attrs}>" + "".join(f"<td>{r.get(f, '')}</td>" for f in fields) + "</tr>")
    return (f'<table id="{table_id}" class="ge-static-table table-sm"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _render_tables(page: str) -> str:
    """Replace each empty bootstrap-table and its jQuery initialiser by the table rendered as HTML."""
    for m in list(_TABLE_INIT.finditer(page)):
        table_id = m.group(1)
        try:
            columns, rows = ast.literal_eval(m.group(2)), ast.literal_eval(m.group(3))
        except (ValueError, SyntaxError) as exc:
            log.warning("Data Docs table %s left as it is: %s", table_id, type(exc).__name__)
            continue
        empty = re.compile(r"<table\s+id=\"" + re.escape(table_id) + r"\".*?</table>", re.DOTALL)
        page = empty.sub(lambda _m, c=columns, r=rows, t=table_id: _static_table(t, c, r), page, count=1)
    return page


def _drop_jquery_scripts(page: str) -> str:
    def keep(m: re.Match) -> str:
        code = m.group(1)
        return "" if ("$(" in code or "jQuery" in code or "bootstrapTable" in code or "vegaEmbed" in code) else m.group(0)

    return _SCRIPT.sub(keep, page)


def offline_page(page: str, root: str = "") -> str:
    """One Data Docs page with no network references (see the module docstring).

    ``root``: the relative path from the page's folder to the site's root ("" for the index,
    "../../../../" for a validation page); links into ``static/`` are made relative to it (GX gets the
    favicon's path wrong on deeper pages).
    """
    if MARKER in page:
        return page
    logo_src = f"{root}static/images/logo-long.png"
    page = _STATIC_REF.sub(lambda m: f'{m.group(1)}="{root}{m.group(2)}"', page)
    page = _LINK_TAG.sub("", page)
    page = _SCRIPT_SRC.sub("", page)
    page = _IMG_LOGO.sub(lambda m: f'{m.group(1)}"{logo_src}"', page)
    page = _ANCHOR.sub(lambda m: m.group(0) if _local(m.group(0)) else f"<span>{m.group(1)}</span>", page)
    page = _CSS_URL.sub("none", page)
    page = _render_tables(page)
    page = _drop_jquery_scripts(page)
    page = _ATTR.sub(lambda m: m.group(0) if _local(m.group(0)) else "", page)   # anything left on another host
    head = f"{MARKER}\n<style>{OFFLINE_CSS}</style>\n"
    page = page.replace("</head>", head + "</head>", 1) if "</head>" in page else head + page
    script = f"<script>{OFFLINE_JS}</script>\n"
    return page.replace("</body>", script + "</body>", 1) if "</body>" in page else page + script


def make_offline(docs_dir: str | Path) -> list[Path]:
    """Rewrite every HTML page (and stylesheet) under ``docs_dir`` for offline use; returns the files rewritten."""
    root = Path(docs_dir)
    done = []
    for path in sorted(root.rglob("*.html")):
        up = os.path.relpath(root, path.parent).replace(os.sep, "/")
        text = path.read_text(encoding="utf-8")
        new = offline_page(text, "" if up == "." else up + "/")
        if new != text:
            path.write_text(new, encoding="utf-8")
            done.append(path)
    for css in sorted(root.rglob("*.css")):   # GX's own stylesheets (dark-mode logo from S3)
        text = css.read_text(encoding="utf-8")
        if _CSS_URL.search(text):
            css.write_text(_CSS_URL.sub("none", text), encoding="utf-8")
            done.append(css)
    return done


def _local(text: str) -> bool:
    """Whether the first http(s) URL in ``text`` is on this machine."""
    m = re.search(_EXTERNAL + r"([^/:\"']+)", text, re.IGNORECASE)
    return bool(m) and m.group(1).lower() in LOCAL_HOSTS


def network_references(page: str) -> list[str]:
    """The http(s) URLs a page would load or link to on a host other than this machine."""
    return [u for u in _REF.findall(page) if not _local(u)]
