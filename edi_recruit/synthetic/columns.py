"""Arrow column builders: how raw export values are spelled (dates, Y/N, references, band labels).

Reads nothing and draws nothing (except :func:`digits`, which takes a stream).
Returns pyarrow string arrays in the raw-export formats listed under "Raw
values look like a real export" in docs/synthetic-data.md.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def strings(values) -> pa.Array:
    return pa.array(list(values), pa.string())


def take(values: pa.Array, idx) -> pa.Array:
    return values.take(pa.array(np.asarray(idx, dtype=np.int64)))


def digits(rng, n, *, width: int) -> pa.Array:
    """``n`` random strings of ``width`` decimal digits (leading zeros kept)."""
    return pc.utf8_lpad(pa.array(rng.integers(0, 10 ** width, n, dtype=np.int64)).cast(pa.string()), width, "0")


def ref(prefix: str, ints, width: int) -> pa.Array:
    """References such as ``VAC-000123``: the prefix and the integer left-padded to ``width``."""
    s = pc.utf8_lpad(pa.array(np.asarray(ints, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), s, "")


def join(*parts) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def dates(d) -> pa.Array:
    """``dd/mm/yyyy`` strings of day dates."""
    a = pa.array(np.asarray(d, dtype="datetime64[D]"))
    return pc.strftime(a.cast(pa.timestamp("s")), format="%d/%m/%Y")


YN = strings(["N", "Y"])


def yn(b) -> pa.Array:
    return take(YN, np.asarray(b, dtype=np.int8))


def band_labels(bands) -> pa.Array:
    """Export labels of pay bands: ``Band 8a`` ..., and ``VSM`` as it is."""
    return strings([f"Band {x}" if x != "VSM" else "VSM" for x in bands])


def sex_index(female) -> np.ndarray:
    """Index into ``vocabulary.SEXES`` (Female first) of each person."""
    return np.where(female, 0, 1)


def or_null(mask, values: pa.Array) -> pa.Array:
    """``values`` where ``mask`` is true, null elsewhere."""
    return pc.if_else(pa.array(mask), values, pa.nulls(len(mask), pa.string()))
