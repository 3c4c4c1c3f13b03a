"""One lock for ``warnings.catch_warnings`` blocks around statsmodels fits.

``catch_warnings`` swaps process-global state and the analyses run in threads,
so every estimator that silences statsmodels' warnings holds this lock while
it does.  Used by :mod:`tasks.stats.logit` and :mod:`tasks.stats.conditional_logit`.
"""
from __future__ import annotations

import threading

WARNINGS_LOCK = threading.RLock()
