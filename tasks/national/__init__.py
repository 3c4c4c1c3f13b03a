"""The national evaluation's statistics: pooling trust-level results across many trusts (issue 16).

This package owns the pure statistical core of the national run, functions over
numbers and polars frames that never read files, the warehouse or Prefect state:

* :mod:`tasks.national.meta_analysis`: random-effects meta-analysis of one model
  term across trusts (REML, DerSimonian-Laird cross-check, z or Hartung-Knapp
  interval, tau^2, I^2, Q, prediction interval);
* :mod:`tasks.national.adoption`: the pooled effect in trusts that adopt a rule
  against those that do not (subgroup Q test and meta-regression);
* :mod:`tasks.national.wres_pooled`: WRES indicator 2 of summed trust counts,
  with its Katz interval, by WRES year (1 April - 31 March) and region;
* :mod:`tasks.national.funnel_plot`: the Spiegelhalter (2005) funnel plot of
  each trust's indicator 2 against its shortlisted BME count, with 95% and
  99.8% control limits, optional overdispersion, and each trust's flag.

The national flow, the manifest, the Dask runner and the national report live
elsewhere and only call these functions.
"""
