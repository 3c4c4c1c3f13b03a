"""The ``funnel_statistics`` analysis: odds ratios by stage, WRES indicator 2, adverse impact.

Owns the recruitment knowledge of docs/methods.md section 1; the estimators
it calls (logit, conditional logit, Firth, intervals, BH) are in :mod:`tasks.stats`.

================= ================================================================
module            owns
================= ================================================================
``analysis``      ``analyse(ctx)``: reads the marts, returns the three result tables
``populations``   who is at risk at each stage (section 1.1)
``specs``         model specifications, design matrix, contrasts asked for (1.2)
``fits``          ``Fit``, engine choice, robustness flags (1.2, 1.4)
``odds_ratios``   the ``odds_ratios`` table: rows, contrasts, q-value families (1.3, 1.4)
``wres``          WRES indicator 2 and its one ``relative_likelihood`` (1.5)
``adverse_impact`` four-fifths rule by stage and grouping (1.6)
================= ================================================================
"""
