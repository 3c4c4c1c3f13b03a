"""Model specifications: term names from the vocabulary."""
from __future__ import annotations

import polars as pl

from tasks.analyses.funnel_statistics import specs
from tasks.core.vocabulary import band_term, interaction


def test_band_terms_use_vocabulary_reference():
    df = pl.DataFrame({"band": ["8a", "8b", "VSM", "8b"]})
    terms, _, _ = specs.design(df, specs.Spec((), (specs.BAND_CAT,)))
    assert terms == ["intercept", band_term("8b"), band_term("VSM")]
    assert interaction("bme", "letter_to_ceo") in [interaction(*i) for i in specs.BME_INTERACTIONS]
