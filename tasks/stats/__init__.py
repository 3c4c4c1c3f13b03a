"""Estimators with no recruitment knowledge: they read numbers and arrays, never marts, terms or stages.

================================ ===========================================================
module                           owns
================================ ===========================================================
:mod:`tasks.stats.logit`         grouped binomial logit: IRLS, statsmodels GLM path, cluster
                                 sandwich, separation LP test, independent columns
:mod:`tasks.stats.conditional_logit` conditional logit: data preparation, exact recursion,
                                 Newton, statsmodels path, within-stratum differences
:mod:`tasks.stats.firth`         Firth's penalised logit and conditional logit
:mod:`tasks.stats.intervals`     Wald, Wilson, t interval of a mean, Katz log ratio of proportions
:mod:`tasks.stats.multiple_testing` Benjamini-Hochberg q-values
:mod:`tasks.stats.clustered`     group means and OLS with cluster-robust (CR1) SEs
:mod:`tasks.stats.fixed_effects` two-way fixed-effects demeaning (alternating projections)
================================ ===========================================================

Each statistic has one implementation here; the analyses in :mod:`tasks.analyses`
choose populations, model specifications and families and call these.  The
methods are documented in docs/methods.md, "Where the estimators live", and
in the sections of the analyses that use them.
"""
