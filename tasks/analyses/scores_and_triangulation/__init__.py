"""The ``scores_and_triangulation`` analysis: interview scores, representation, programme impact.

Owns docs/methods.md sections 3 (interview scores) and 4 (representation and
programme impact); the intervals it uses are in :mod:`tasks.stats.intervals`
and WRES indicator 2 is :func:`tasks.analyses.funnel_statistics.wres.relative_likelihood`.

==================== ==============================================================
module               owns
==================== ==============================================================
``analysis``         ``analyse(ctx)``: reads the marts, returns the five result tables
``interview_scores`` sheet rule, candidate scores, group comparisons, the result tables
``score_models``     adjusted score gaps (MixedLM, cluster OLS, by period), panel homophily
``representation``   BME share by band and month, representation ratio
``programme_impact`` shares and WRES indicator 2 by period, the interrupted time series
==================== ==============================================================
"""
