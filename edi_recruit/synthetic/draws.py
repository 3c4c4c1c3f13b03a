"""Random-draw helpers shared by the generator's stage modules.

Reads nothing.  Returns numpy arrays: one random stream per purpose (see
"Determinism" in docs/synthetic-data.md), vectorised categorical draws and
segment positions.  Each helper consumes its stream in a fixed order; the
stage modules rely on that order, so never reorder a draw in here.
"""
from __future__ import annotations

import numpy as np

from edi_recruit.synthetic.design import AGE_P_SENIOR

STREAM_PLAN = 0
STREAM_WORKFORCE = 1
STREAM_EXTERNAL_ALLOCATION = 2
STREAM_CHUNK_BASE = 1000  # vacancy chunk c draws from stream 1000 + c
STREAM_STATUS_BASE = 2000  # chunk c's status-change dates draw from stream 2000 + c (added later: own stream)


def stream(seed: int, key: int) -> np.random.Generator:
    """The random stream ``key`` of a trust: PCG64(SeedSequence(seed, spawn_key=(key,)))."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def pick(rng, p, n):
    """Vectorised categorical draw with fixed probabilities."""
    c = np.cumsum(np.asarray(p, dtype=float))
    c /= c[-1]
    return np.minimum(np.searchsorted(c, rng.random(n), side="right"), len(c) - 1)


def pick_rows(rng, P):
    """Categorical draw per row of a probability matrix."""
    c = np.cumsum(P, axis=1)
    c /= c[:, -1:]
    u = rng.random(len(P))[:, None]
    return np.minimum((u >= c).sum(axis=1), P.shape[1] - 1)


def pick_age_bands(rng, age_group: np.ndarray) -> np.ndarray:
    """Age-band index per person from AGE_P_SENIOR, by age group (0 young, 1 mid, 2 top bands)."""
    age = np.zeros(len(age_group), np.int64)
    for g in range(3):
        m = age_group == g
        age[m] = pick(rng, AGE_P_SENIOR[g], int(m.sum()))
    return age


def segment_positions(counts):
    """For segments of the given lengths, the position of each element within its segment."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def offsets(counts) -> np.ndarray:
    """Start offsets of consecutive segments of the given lengths, with the total appended."""
    return np.concatenate([[0], np.cumsum(counts)])
