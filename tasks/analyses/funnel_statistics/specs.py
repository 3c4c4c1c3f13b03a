"""Model specifications of the funnel stages: which terms each model has, and the design matrix.

Reads the term names and reference levels of :mod:`tasks.core.vocabulary`;
returns term names and polars expressions (one Float64 0/1 column per term).
Implements the "Stage models" table of docs/methods.md section 1.2.  Never
fits anything (:mod:`tasks.analyses.funnel_statistics.fits` does).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import polars as pl

from tasks.core.vocabulary import (
    AGE_BANDS,
    CONTRAST_LEVELS,
    DIRECTORATES,
    REFERENCE_AGE_BAND,
    REFERENCE_BAND,
    TERM_BME,
    TERM_DISABILITY,
    TERM_DIVERSE_PANEL,
    TERM_FEMALE,
    TERM_INTERCEPT,
    TERM_INTERNAL,
    TERM_LETTER_TO_CEO,
    TERM_MANAGER_BME,
    TERM_MANAGER_FEMALE,
    TERM_POST_PROGRAMME,
    WORKFORCE_BANDS,
    age_band_term,
    band_term,
    interaction,
)

try:  # added to the vocabulary by the generator's author
    from tasks.core.vocabulary import WORKFORCE_REFERENCE_BAND
except ImportError:  # pragma: no cover
    WORKFORCE_REFERENCE_BAND = "7"


# Term names of levels that have no helper in the vocabulary
DIRECTORATE_COLUMN = "directorate"


TERM_DISABILITY_NOT_DECLARED = "disability_not_declared"


def directorate_term(name: str) -> str:
    """Term of a directorate dummy, ``directorate=<name>`` (same pattern as band_term)."""
    return f"{DIRECTORATE_COLUMN}={name}"


@dataclass(frozen=True)
class Categorical:
    column: str
    reference: str
    term: Callable[[str], str]
    order: tuple[str, ...] = ()


BAND_CAT = Categorical("band", REFERENCE_BAND, band_term, WORKFORCE_BANDS)


AGE_CAT = Categorical("age_band", REFERENCE_AGE_BAND, age_band_term, AGE_BANDS)


DIRECTORATE_CAT = Categorical(DIRECTORATE_COLUMN, DIRECTORATES[0], directorate_term, DIRECTORATES)


WORKFORCE_BAND_CAT = Categorical("band", WORKFORCE_REFERENCE_BAND, band_term, WORKFORCE_BANDS)


@dataclass(frozen=True)
class Spec:
    """Which terms a model has.  Binary term names are also the column names."""

    binary: tuple[str, ...] = ()
    categorical: tuple[Categorical, ...] = ()
    interactions: tuple[tuple[str, str], ...] = ()
    intercept: bool = True

    def without(self, *names: str) -> "Spec":
        return Spec(
            tuple(b for b in self.binary if b not in names),
            tuple(c for c in self.categorical if c.column not in names),
            tuple(i for i in self.interactions if i[0] not in names and i[1] not in names),
            self.intercept,
        )


def _levels(df: pl.DataFrame, cat: Categorical) -> tuple[str, list[str]]:
    present = [v for v in df.get_column(cat.column).drop_nulls().unique().to_list()]
    ordered = [v for v in cat.order if v in present] + sorted(v for v in present if v not in cat.order)
    if not ordered:
        return cat.reference, []
    ref = cat.reference if cat.reference in ordered else max(
        ordered, key=lambda v: (df.get_column(cat.column) == v).sum()
    )
    return ref, [v for v in ordered if v != ref]


def design(df: pl.DataFrame, spec: Spec) -> tuple[list[str], list[pl.Expr], list[str]]:
    """Term names, polars expressions (Float64 0/1 columns named by term) and the source columns used."""
    terms: list[str] = []
    exprs: list[pl.Expr] = []
    used: list[str] = []
    if spec.intercept:
        terms.append(TERM_INTERCEPT)
        exprs.append(pl.lit(1.0).alias(TERM_INTERCEPT))
    for b in spec.binary:
        terms.append(b)
        exprs.append(pl.col(b).cast(pl.Float64).alias(b))
        used.append(b)
    for cat in spec.categorical:
        _, levels = _levels(df, cat)
        used.append(cat.column)
        for lev in levels:
            t = cat.term(lev)
            terms.append(t)
            exprs.append((pl.col(cat.column) == lev).cast(pl.Float64).alias(t))
    for a, b in spec.interactions:
        t = interaction(a, b)
        terms.append(t)
        exprs.append((pl.col(a).cast(pl.Float64) * pl.col(b).cast(pl.Float64)).alias(t))
        used += [a, b]
    return terms, exprs, list(dict.fromkeys(used))


def present(df: pl.DataFrame, spec: Spec) -> Spec:
    """Drop binary terms whose columns are missing from the frame (e.g. older marts)."""
    missing = [b for b in spec.binary if b not in df.columns]
    return spec.without(*missing) if missing else spec


# --------------------------------------------------------------------------
# Stage model specifications
# --------------------------------------------------------------------------
PROGRAMME_FEATURES: tuple[str, ...] = (TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME)


BME_INTERACTIONS = ((TERM_BME, TERM_LETTER_TO_CEO), (TERM_BME, TERM_DIVERSE_PANEL), (TERM_BME, TERM_POST_PROGRAMME))


APPLICANT_BINARY = (TERM_BME, TERM_FEMALE, TERM_INTERNAL, TERM_DISABILITY, TERM_DISABILITY_NOT_DECLARED)


VACANCY_BINARY = (TERM_MANAGER_BME, TERM_MANAGER_FEMALE, TERM_DIVERSE_PANEL, TERM_LETTER_TO_CEO, TERM_POST_PROGRAMME)


SPEC_INDIVIDUAL = Spec(APPLICANT_BINARY + VACANCY_BINARY, (BAND_CAT, AGE_CAT), BME_INTERACTIONS)


SPEC_CONDITIONAL = Spec(APPLICANT_BINARY, (AGE_CAT,), BME_INTERACTIONS, intercept=False)


SPEC_APPLY_POOL = Spec((TERM_LETTER_TO_CEO, TERM_DIVERSE_PANEL, TERM_POST_PROGRAMME), (BAND_CAT, DIRECTORATE_CAT))


SPEC_APPLY_WORKFORCE = Spec(
    (TERM_BME, TERM_FEMALE, TERM_POST_PROGRAMME), (WORKFORCE_BAND_CAT, DIRECTORATE_CAT),
    ((TERM_BME, TERM_POST_PROGRAMME),),
)


# within-band strata: main effects only (small samples)
SPEC_STRATUM_INDIVIDUAL = Spec((TERM_BME, TERM_FEMALE, TERM_INTERNAL))


SPEC_STRATUM_CONDITIONAL = Spec((TERM_BME, TERM_FEMALE, TERM_INTERNAL), intercept=False)


CONTRASTS: tuple[tuple[str, int], ...] = tuple(
    (f, lev) for f in PROGRAMME_FEATURES for lev in CONTRAST_LEVELS
)
