"""The documentation stays true to the code: planted parameters, CLI commands, links."""
from __future__ import annotations

import re

import yaml

from edi_recruit.cli import build_parser
from tasks.core.paths import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"


def _norm(text: str) -> str:
    return text.replace("\u2212", "-")


def test_every_planted_parameter_is_documented_with_its_default():
    doc = _norm((DOCS / "synthetic-data.md").read_text(encoding="utf-8"))
    effects = yaml.safe_load((PROJECT_ROOT / "effects" / "default.yaml").read_text())
    for stage, spec in effects["models"].items():
        m = re.search(rf"^#+ [^\n]*{re.escape(stage)}[^\n]*\n(.*?)(?=^#+ |\Z)", doc, re.S | re.M)
        assert m, f"docs/synthetic-data.md has no section for stage {stage}"
        section = m.group(1)
        defaults = "\n".join(ln for ln in section.splitlines() if "efaults" in ln) or section
        for term, value in (spec.get("terms") or {}).items():
            label = term.split("=", 1)[1] if term.startswith(("band=", "bme:theme=")) else term
            if float(value) == 0 and "others 0" in defaults:
                continue
            assert label in section, f"{stage}: term {term} is not documented"
            v = float(value)
            shown = {f"{v:g}", f"{v:.2f}".rstrip("0").rstrip("."), f"{abs(v):g}"}
            hits = [h for cand in dict.fromkeys([term, label])
                    for h in re.finditer(rf"(?<![\w:=]){re.escape(cand)}(?![\w:=])", defaults)]
            if not hits:
                continue  # documented in prose only (e.g. computed stages)
            assert any(any(x in defaults[h.end():h.end() + 12] for x in shown) for h in hits), \
                f"{stage}: default of {term} ({value}) not shown next to it"
        for param in (spec.get("parameters") or {}):
            assert param in section, f"{stage}: parameter {param} is not documented"


def test_readme_lists_every_cli_subcommand():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    choices = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    for name in choices:
        assert f"edi-recruit {name}" in readme, f"README's CLI reference lacks `edi-recruit {name}`"
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block


def test_doc_links_resolve():
    for md in [PROJECT_ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(((?:docs/)?[\w\-./]+\.md)(?:#[\w\-]+)?\)", md.read_text(encoding="utf-8")):
            base = PROJECT_ROOT if md.name == "README.md" else md.parent
            assert (base / target).exists(), f"{md.name} links to missing {target}"


def test_ci_runs_the_readme_test_command():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^test: .*\n\t.*pytest", makefile, re.M)
