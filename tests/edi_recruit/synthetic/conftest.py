"""Session fixtures of the synthetic-generator tests: a default trust (csv) and a 200k-application trust (parquet)."""
from __future__ import annotations

import pytest

from edi_recruit.synthetic import generate_trust

RECOVERY_N = 200_000


@pytest.fixture(scope="session")
def small_trust(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen_small")
    summary = generate_trust(out, seed=7, applications=8000)
    return summary


@pytest.fixture(scope="session")
def big_trust(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen_big")
    summary = generate_trust(out, seed=7, applications=RECOVERY_N, fmt="parquet")
    return summary
