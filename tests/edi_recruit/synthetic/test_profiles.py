"""The demo profile: sized like the published study's trust, evaluated at the last month of its data, and large
enough that its first screen shows the letter effect (slow); a small trust's first screen says it is too small
(fast honest version in CI).  Also the power figure at the demo's counts against simulation (slow, methods 1.8)."""
from __future__ import annotations

import inspect
import math

import polars as pl
import pytest

from edi_recruit.synthetic.profiles import DEMO, last_data_month
from tasks.core.vocabulary import TERM_LETTER_TO_CEO
from tasks.outputs.report.sections.base import Ctx
from tasks.outputs.report.verdicts import BETTER, NO_CHANGE, STUDY_EFFECT_SIZE, rule_rows


def test_demo_profile_is_the_study_period_and_leaves_the_generator_default_alone():
    from edi_recruit.synthetic.generator import generate_trust

    assert (DEMO.period_start, DEMO.period_end) == ("2021-09", "2024-01")
    default = inspect.signature(generate_trust).parameters["applications"].default
    assert default == 8000 and DEMO.applications >= 4 * default
    assert DEMO.generator_arguments()["applications"] == DEMO.applications


def test_last_data_month_is_the_latest_date_of_any_dated_column(tmp_path):
    (tmp_path / "applications.csv").write_text(
        "Application Ref,Date Applied,Appointed Date,Ethnic Origin\n"
        "APP-1,03/01/2024,,A\nAPP-2,28/01/2024,02/04/2024,H\nAPP-3,not a date,,Z\n", encoding="utf-8")
    (tmp_path / "ceo_letters.csv").write_text("Vacancy Reference,Date Written\nVAC-1,31/03/2024\n", encoding="utf-8")
    (tmp_path / "truth_documents.csv").write_text("Date Written\n01/01/2030\n", encoding="utf-8")  # never read
    (tmp_path / "hiring_managers.csv").write_text("Manager Ref\nMGR-1\n", encoding="utf-8")
    assert last_data_month(tmp_path) == "2024-04"
    (tmp_path / "applications.csv").unlink()
    assert last_data_month(tmp_path) == "2024-03"
    assert last_data_month(tmp_path / "nothing") is None


def _letter_row(ctx) -> object:
    from tasks.analyses.funnel_statistics.analysis import analyse

    out = analyse(ctx)
    return rule_rows(Ctx({"odds_ratios": out["odds_ratios"]}, {}, {}))[0]


def test_a_small_trust_says_it_cannot_detect_a_study_sized_letter_effect(warehouse_ctx):
    """Fast honest version: the 8,000-application trust misses the planted OR 1.7, and its first screen says why."""
    letter = _letter_row(warehouse_ctx)
    assert letter.key == TERM_LETTER_TO_CEO and letter.change.present
    assert letter.verdict == NO_CHANGE  # the CI includes 1 at this size (seed 7)
    assert letter.mdor > STUDY_EFFECT_SIZE and "Too few data" in letter.power_note


@pytest.fixture(scope="module")
def demo_trust(tmp_path_factory):
    from edi_recruit.synthetic.generator import generate_trust, load_effects

    out = tmp_path_factory.mktemp("demo") / "extracts"
    generate_trust(out, seed=7, effects=load_effects(None), **DEMO.generator_arguments())
    return out


@pytest.mark.slow
def test_the_demo_first_screen_shows_the_letter_effect_with_a_ci_excluding_1(demo_trust, tmp_path):
    from tasks.core.run_context import RunContext
    from tasks.ingest.staging import ingest_extracts
    from tasks.marts import build_marts

    db = tmp_path / "demo.duckdb"
    ingest_extracts(demo_trust, db)
    build_marts(db)
    ctx = RunContext(db_path=str(db), run_id="demo", as_of=last_data_month(demo_trust), out_dir=str(tmp_path / "o"))
    letter = _letter_row(ctx)
    assert letter.verdict == BETTER and letter.change.lo > 1, letter.change
    assert abs(math.log(letter.change.est) - 0.55) < 2 * letter.change.std_error  # the planted 0.55 (OR 1.73)


def _offer_counts(extracts) -> dict:
    """BME and White candidates in the offer stage's population (interviewed, not withdrawn at interview) and the
    White offer rate, from the demo's own applications export."""
    from tasks.core.vocabulary import wres_group

    a = pl.read_csv(extracts / "applications.csv", infer_schema=False,
                    columns=["Ethnic Origin", "Interviewed", "Offered", "Withdrawn Stage"])
    a = a.filter((pl.col("Interviewed") == "Y") & (pl.col("Withdrawn Stage").fill_null("") != "interview"))
    a = a.with_columns(pl.col("Ethnic Origin").map_elements(wres_group, return_dtype=pl.String).alias("g"))
    white, bme = a.filter(pl.col("g") == "White"), a.filter(pl.col("g") == "BME")
    return {"trials_group": bme.height, "trials_reference": white.height,
            "rate_reference": (white["Offered"] == "Y").mean()}


@pytest.mark.slow
def test_mdor_at_the_demo_counts_is_within_10_percent_of_200_replicate_simulation(demo_trust):
    from tasks.stats.power import mdor_from_counts, simulated_mdor

    counts = _offer_counts(demo_trust)
    formula = mdor_from_counts(**counts)
    simulated = simulated_mdor(**counts, replicates=200, seed=2024)
    print(f"offer stage of the demo: {counts}; MDOR formula {formula:.3f}, simulation (200 replicates) {simulated:.3f}")
    assert simulated == pytest.approx(formula, rel=0.10)
