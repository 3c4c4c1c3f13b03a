"""Multiple testing: Benjamini-Hochberg adjusted p-values (q-values).

Reads p-values, returns q-values; the families (which p-values are adjusted
together) are chosen by the analyses (docs/methods.md sections 1.4, 1.5, 1.6
and 2).  Missing p-values (None or NaN) stay missing and do not count in the
family size.
"""
from __future__ import annotations

from typing import Literal, Sequence

import numpy as np

BHArithmetic = Literal["rank_scaled", "ecdf"]


def bh_qvalues(p_values: Sequence[float | None], *, arithmetic: BHArithmetic = "rank_scaled") -> list[float | None]:
    """Benjamini-Hochberg q-values of one family, in the order given.

    q_(i) = min over j >= i of p_(j) * m / j, capped at 1, for the m finite
    p-values sorted ascending; None or NaN in, None out.

    ``arithmetic`` picks the floating-point form of ``p * m / j``:
    ``"rank_scaled"`` computes ``p * m / j`` (funnel models, WRES, adverse
    impact); ``"ecdf"`` computes ``p / (j / m)`` exactly as statsmodels'
    ``multipletests(method="fdr_bh")`` does (text analysis).  They differ in the
    last bit only; the option keeps every published q-value unchanged.
    """
    idx = [i for i, v in enumerate(p_values) if v is not None and np.isfinite(v)]
    out: list[float | None] = [None] * len(p_values)
    m = len(idx)
    if m == 0:
        return out
    vals = np.array([p_values[i] for i in idx], dtype=float)
    order = np.argsort(vals)
    if arithmetic == "ecdf":
        ranked = vals[order] / (np.arange(1, m + 1) / float(m))
    else:
        ranked = vals[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.minimum(q, 1.0)
    for pos, o in enumerate(order):
        out[idx[o]] = float(q[pos])
    return out
