"""A national set of synthetic trusts with a known between-trust spread (tau) of each planted effect.

Reads the planted means (effects/default.yaml, or the caller's effects deep-merged
over it) and writes, under ``out_dir``:

* ``<code>/extracts/``: one synthetic trust per code (:func:`edi_recruit.synthetic.generate_trust`,
  its own seed and size), with that trust's own ``truth.json``;
* ``manifest.yaml``: the national run's manifest (:mod:`tasks.national.manifest`), each trust with
  its own warehouse path ``<code>/warehouse.duckdb``;
* ``truth.json``: the national answer key: the means and tau of every varied term, the adoption
  shift, and every trust's code, region, size, seed, adoption and planted terms.

The model (docs/synthetic-data.md, "A national set of trusts"):

* trust i's planted term ``beta_i = mu + tau * z_i + shift * adopted_i``, ``z_i ~ N(0, 1)``,
  independent across trusts and terms (:data:`DEFAULT_TAU` lists the varied terms);
* ``shift`` is :data:`DEFAULT_ADOPTION_SHIFT`: in a trust that adopted the rule, the offer-stage
  ``bme:post_programme`` term is that much higher (the national comparison of adopters with
  non-adopters recovers it);
* adoption of each rule (:data:`tasks.national.manifest.RULES`) is Bernoulli(``adoption_rate``);
* size: applications ``round(applications * exp(size_sd * z - size_sd^2 / 2))``, at least
  :data:`MIN_APPLICATIONS` (a lognormal around the requested mean);
* regions cycle through :data:`tasks.core.vocabulary.NHS_REGIONS` in a seeded random order.

Every draw comes from ``numpy.random.default_rng([seed, NATIONAL_STREAM])``, in the order
regions, adoption, sizes, z; trust i's own generator seed is ``seed * 1000 + i``.  The pipeline
never reads either truth file.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edi_recruit.synthetic.effects import resolve_effects
from edi_recruit.synthetic.generator import generate_trust
from tasks.core.vocabulary import (
    NHS_REGIONS,
    STAGE_APPLY_WORKFORCE,
    STAGE_OFFER,
    STAGE_SHORTLIST,
    TERM_BME,
    TERM_BME_X_LETTER,
    TERM_BME_X_PANEL,
    TERM_BME_X_POST,
    TERM_DIVERSE_PANEL,
    TERM_LETTER_TO_CEO,
)
from tasks.national.manifest import RULES, write_manifest

NATIONAL_STREAM = 16


MIN_APPLICATIONS = 300


DEFAULT_TAU: dict[str, dict[str, float]] = {
    STAGE_SHORTLIST: {TERM_BME: 0.10, TERM_BME_X_PANEL: 0.10, TERM_BME_X_POST: 0.10},
    STAGE_OFFER: {TERM_BME: 0.15, TERM_BME_X_LETTER: 0.20, TERM_BME_X_PANEL: 0.10, TERM_BME_X_POST: 0.10},
    STAGE_APPLY_WORKFORCE: {TERM_BME: 0.10, TERM_BME_X_POST: 0.10},
}


DEFAULT_ADOPTION_SHIFT: dict[str, float] = {TERM_LETTER_TO_CEO: 0.0, TERM_DIVERSE_PANEL: 0.3}


SHIFTED = (STAGE_OFFER, TERM_BME_X_POST)


@dataclass(frozen=True)
class NationalSummary:
    out_dir: Path
    manifest: Path
    truth: Path
    trusts: int
    applications: int


def trust_code(index: int) -> str:
    """The synthetic trust codes S001, S002, ... (S: synthetic; never a real NHS organisation code)."""
    return f"S{index + 1:03d}"


def draw_national(*, trusts: int, seed: int, applications: int, size_sd: float, adoption_rate: float,
                  tau: dict, means: dict, adoption_shift: dict) -> list[dict]:
    """Every trust's region, adoption, size, seed and planted terms (no file written)."""
    if trusts < 1:
        raise ValueError("trusts must be at least 1")
    if applications < MIN_APPLICATIONS:
        raise ValueError(f"applications must be at least {MIN_APPLICATIONS}")
    rng = np.random.default_rng([seed, NATIONAL_STREAM])
    order = rng.permutation(len(NHS_REGIONS))
    regions = [NHS_REGIONS[order[i % len(NHS_REGIONS)]] for i in range(trusts)]
    adopt = {r: rng.random(trusts) < adoption_rate for r in RULES}
    sizes = np.maximum(MIN_APPLICATIONS, np.round(
        applications * np.exp(size_sd * rng.standard_normal(trusts) - size_sd ** 2 / 2))).astype(int)
    pairs = [(stage, term) for stage in tau for term in tau[stage]]
    z = rng.standard_normal((trusts, len(pairs)))
    out = []
    for i in range(trusts):
        planted: dict[str, dict[str, float]] = {}
        for j, (stage, term) in enumerate(pairs):
            value = means[stage][term] + tau[stage][term] * z[i, j]
            if (stage, term) == SHIFTED:
                value += sum(adoption_shift.get(r, 0.0) for r in RULES if adopt[r][i])
            planted.setdefault(stage, {})[term] = round(float(value), 6)
        out.append({"trust_code": trust_code(i), "region": regions[i], "seed": seed * 1000 + i,
                    "applications": int(sizes[i]), "adopts": {r: bool(adopt[r][i]) for r in RULES},
                    "planted": planted})
    return out


def generate_national(out_dir, *, trusts: int = 10, seed: int = 1, applications: int = 8000,
                      size_sd: float = 0.5, adoption_rate: float = 0.5, tau: dict | None = None,
                      adoption_shift: dict | None = None, effects: dict | None = None, as_of: str = "2024-01",
                      fmt: str = "csv", progress: Callable[[int, int], None] | None = None) -> NationalSummary:
    """Write ``trusts`` synthetic trusts, their manifest and the national truth.json under ``out_dir``.

    ``tau`` and ``adoption_shift`` default to :data:`DEFAULT_TAU` and :data:`DEFAULT_ADOPTION_SHIFT`;
    ``effects`` (a ``models:`` mapping) changes the means, as for one trust.  ``progress(done, total)``
    is called after each trust.
    """
    tau = DEFAULT_TAU if tau is None else tau
    shift = DEFAULT_ADOPTION_SHIFT if adoption_shift is None else adoption_shift
    base = resolve_effects(effects)
    means = {stage: {term: float(base["models"][stage]["terms"].get(term, 0.0)) for term in tau[stage]}
             for stage in tau}
    plan = draw_national(trusts=trusts, seed=seed, applications=applications, size_sd=size_sd,
                         adoption_rate=adoption_rate, tau=tau, means=means, adoption_shift=shift)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, t in enumerate(plan):
        code = t["trust_code"]
        trust_effects = {"models": {**(effects or {}).get("models", {})}}
        for stage, terms in t["planted"].items():
            stage_spec = dict(trust_effects["models"].get(stage) or {})
            stage_spec["terms"] = {**(stage_spec.get("terms") or {}), **terms}
            trust_effects["models"][stage] = stage_spec
        generate_trust(out / code / "extracts", seed=t["seed"], applications=t["applications"],
                       effects=trust_effects, fmt=fmt)
        rows.append({"trust_code": code, "region": t["region"], "extracts": f"{code}/extracts",
                     "db": f"{code}/warehouse.duckdb",
                     **{f"adopts_{r}": "yes" if t["adopts"][r] else "no" for r in RULES}})
        if progress:
            progress(i + 1, len(plan))
    manifest = write_manifest(out / "manifest.yaml", as_of=as_of, trusts=rows)
    truth = {"seed": seed, "as_of": as_of, "trusts_requested": trusts, "applications_mean": applications,
             "size_sd": size_sd, "adoption_rate": adoption_rate, "means": means, "tau": tau,
             "adoption_shift": {"stage": SHIFTED[0], "term": SHIFTED[1], "by_rule": shift},
             "trusts": plan}
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return NationalSummary(out, manifest, truth_path, len(plan), int(sum(t["applications"] for t in plan)))
