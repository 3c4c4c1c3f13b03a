"""Generated trusts shared by the calibration and recovery tests (one ingest each per session).

Seeds and sizes are the pre-registered ones of replicates.py; see
test_calibration.py and test_funnel_recovery.py for the rules that judge them.
"""
from __future__ import annotations

from datetime import date

import pytest
import replicates as R


@pytest.fixture(scope="session")
def default_generated(tmp_path_factory):
    """(funnel mart, workforce mart, truth) of the default-effects calibration trust."""
    return R.read_trust(tmp_path_factory.mktemp("default_generated"), R.DEFAULT_TRUST_SEED,
                        applications=R.DEFAULT_APPLICATIONS)


@pytest.fixture(scope="session")
def default_replicates(default_generated):
    """Its ``R.DEFAULT_REPLICATES`` independent replicates (apply_pool, shortlist, offer, apply_workforce fits)."""
    af, wf, truth = default_generated
    start = date.fromisoformat(truth["programme_start"] + "-01")
    return R.replicate_fits(af, wf, truth, n=R.DEFAULT_REPLICATES, seed=R.DEFAULT_SPLIT_SEED,
                            stages=R.CALIBRATION_STAGES, programme_start=start)
