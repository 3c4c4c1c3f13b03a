"""MixedLM's warnings never reach a run's log, whatever the analyses' threads do with the warning filters."""
from __future__ import annotations

import threading
import warnings

from statsmodels.tools.sm_exceptions import ConvergenceWarning

from tasks.analyses.scores_and_triangulation import score_models

MIXEDLM = "statsmodels.regression.mixed_linear_model"


def _warn_from(module: str) -> None:
    warnings.warn_explicit("The MLE may be on the boundary of the parameter space.", ConvergenceWarning,
                           filename=module.replace(".", "/") + ".py", lineno=1, module=module)


def test_mixedlm_warnings_are_ignored_while_another_thread_swaps_the_filters():
    """Another thread's catch_warnings() block (as every analysis thread has) restores the filters it saved;
    the filter a fit installs first is in that saved copy, so a MixedLM warning stays silent."""
    score_models.quiet_mixedlm_warnings()   # what _fit_mixedlm does before fitting
    entered, release = threading.Event(), threading.Event()

    def other_thread():
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            entered.set()
            release.wait(5)

    t = threading.Thread(target=other_thread)
    t.start()
    entered.wait(5)
    release.set()
    t.join()
    with warnings.catch_warnings(record=True) as seen:
        _warn_from(MIXEDLM)
        _warn_from("statsmodels.discrete.discrete_model")   # control: other models' warnings still show
    assert [w.filename for w in seen] == ["statsmodels/discrete/discrete_model.py"]


def test_the_filter_is_one_entry_however_many_fits():
    for _ in range(3):
        score_models.quiet_mixedlm_warnings()
    mine = [f for f in warnings.filters if getattr(f[3], "pattern", f[3]) == score_models.MIXEDLM_WARNINGS_MODULE]
    assert len(mine) == 1 and mine[0][0] == "ignore"
