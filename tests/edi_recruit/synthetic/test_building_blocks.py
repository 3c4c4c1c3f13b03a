"""Unit tests of the generator's building blocks, on hand-computed cases.

Covers draws.py (streams, categorical draws, segments), columns.py (raw-export
spellings), people.py (codes, NHS numbers), plan.py (argument checks and the
calendar), effects.py (typed views) and sinks.py (writer headers).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from edi_recruit.synthetic import columns, draws, people
from edi_recruit.synthetic.effects import STAGE_PARAMETERS, PlantedEffects, ScoreParameters, resolve_effects
from edi_recruit.synthetic.plan import Calendar, TrustSpec
from edi_recruit.synthetic.sinks import DOCUMENTS_HEADER, PII_HEADER, TRUST_TABLES, TrustWriter
from tasks.core import vocabulary as V


# ------------------------------------------------------------------ draws
def test_stream_is_seeded_per_key():
    a = draws.stream(3, draws.STREAM_PLAN).random(4)
    assert np.array_equal(a, draws.stream(3, draws.STREAM_PLAN).random(4))
    assert not np.array_equal(a, draws.stream(3, draws.STREAM_WORKFORCE).random(4))
    assert not np.array_equal(a, draws.stream(4, draws.STREAM_PLAN).random(4))


def test_segment_positions_and_offsets():
    assert draws.segment_positions([2, 0, 3]).tolist() == [0, 1, 0, 1, 2]
    assert draws.offsets([2, 0, 3]).tolist() == [0, 2, 2, 5]


def test_pick_respects_degenerate_probabilities():
    rng = np.random.default_rng(0)
    assert set(draws.pick(rng, [0.0, 1.0, 0.0], 50).tolist()) == {1}
    rows = draws.pick_rows(rng, np.array([[1.0, 0.0], [0.0, 3.0]]))
    assert rows.tolist() == [0, 1]


def test_sigmoid_closed_form():
    assert draws.sigmoid(np.array([0.0]))[0] == 0.5
    assert draws.sigmoid(np.log(3.0)) == pytest.approx(0.75)


# ---------------------------------------------------------------- columns
def test_raw_spellings():
    assert columns.ref("VAC-", [1, 123], 6).to_pylist() == ["VAC-000001", "VAC-000123"]
    assert columns.dates(np.array(["2022-06-01"], "datetime64[D]")).to_pylist() == ["01/06/2022"]
    assert columns.yn([True, False]).to_pylist() == ["Y", "N"]
    assert columns.band_labels(["8a", "VSM"]).to_pylist() == ["Band 8a", "VSM"]
    assert [V.SEXES[i] for i in columns.sex_index([True, False])] == ["Female", "Male"]
    assert columns.or_null(np.array([True, False]), pa.array(["x", "y"])).to_pylist() == ["x", None]


# ----------------------------------------------------------------- people
def test_nhs_numbers_pass_modulus_11():
    rng = np.random.default_rng(1)
    for _ in range(50):
        s = people.draw_nhs_number(rng)
        d = [int(c) for c in s.replace(" ", "")]
        assert len(s) == 12 and s[3] == " " and s[7] == " "
        check = 11 - sum(x * (10 - i) for i, x in enumerate(d[:9])) % 11
        assert d[9] == (0 if check == 11 else check)


def test_codes_follow_flags():
    rng = np.random.default_rng(2)
    n = 2000
    bme = rng.random(n) < 0.5
    unknown = rng.random(n) < 0.1
    code = people.draw_codes(rng, bme & ~unknown, unknown)
    assert (~people.CODE_KNOWN[code] == unknown).all()
    assert (people.CODE_BME[code] == (bme & ~unknown)).all()


# ------------------------------------------------------------------- plan
def test_spec_checks_and_calendar():
    spec = TrustSpec.checked(seed=1, applications=500, fmt="csv", period_start="2021-11",
                             period_end="2022-02", programme_start="2022-01")
    cal = Calendar.of(spec)
    assert cal.n_months == 4 and cal.programme_month == 2
    assert cal.labels() == ["2021-11", "2021-12", "2022-01", "2022-02"]
    assert cal.month_len.tolist() == [30, 31, 31, 28]
    with pytest.raises(ValueError, match="at most 240 months"):
        TrustSpec.checked(seed=1, applications=500, fmt="csv", period_start="2000-01", period_end="2020-12",
                          programme_start="2001-01")
    with pytest.raises(ValueError, match="seed"):
        TrustSpec.checked(seed=True, applications=500, fmt="csv", period_start="2021-11",
                          period_end="2022-02", programme_start="2022-01")


# ---------------------------------------------------------------- effects
def test_planted_effects_fill_unplanted_terms_with_zero():
    eff = PlantedEffects.from_spec(resolve_effects({"models": {V.STAGE_OFFER: {"terms": {V.TERM_BME: -1}}}}))
    assert eff.terms[V.STAGE_OFFER][V.TERM_BME] == -1.0
    assert all(isinstance(v, float) for t in eff.terms.values() for v in t.values())
    prm = ScoreParameters.from_effects(eff)
    assert set(vars(prm)) == set(STAGE_PARAMETERS[V.STAGE_INTERVIEW_SCORE])
    assert eff.parameters(V.STAGE_OFFER) == {}


# ------------------------------------------------------------------ sinks
def test_writer_opens_every_table_and_truth_csv(tmp_path):
    w = TrustWriter(tmp_path / "t", "csv")
    w.close()
    assert set(w.files()) == set(TRUST_TABLES) and all(p.exists() for p in w.files().values())
    assert (tmp_path / "t" / "truth_pii.csv").read_text(encoding="utf-8") == ",".join(PII_HEADER) + "\n"
    assert (tmp_path / "t" / "truth_documents.csv").read_text(encoding="utf-8") == ",".join(DOCUMENTS_HEADER) + "\n"
    assert w.row_counts() == {t: 0 for t in TRUST_TABLES}
