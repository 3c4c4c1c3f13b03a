"""Statistical disclosure control (SDC) for published tables.

The policy is a versioned YAML file (``config/disclosure_policy.yaml``).  Its
default follows NHS Digital's HES/ECDS method (September 2018): below national
level, counts of 1-7 are shown as ``*``; other counts are rounded to the
nearest 5; rates are computed from the rounded figures and shown only where
the rounded denominator passes a threshold; complementary ("secondary")
suppression ensures that row and column totals cannot reveal a suppressed
cell; regression estimates and confidence intervals are not suppressed but
are flagged when based on fewer than 10 events.

Each result table has a spec in the policy (``tables:``) naming its count,
rate, estimate and derived columns and its additive structure (which rows are
totals of which).  Columns a spec does not name fall back to conservative
defaults: integers are treated as counts, floats as estimates.

The public entry point is :func:`protect_table`, a pure function on a polars
frame; :mod:`tasks.publish` applies it to every result table of a run.  The
package implements docs/methods.md section 5:

=============== ===========================================================
``policy``      the policy file: :class:`Policy`, :func:`load_policy`
``cells``       primary suppression and rounding of one count or rate
``secondary``   complementary suppression and its linear-programming audit
``tables``      :func:`protect_table`: column roles, cases, the report, ratios
                recomputed from the shown counts
``relations``   the linked problem: every published count cell of a run and
                the relations between them
                (:func:`~tasks.privacy.disclosure.relations.build_problem`)
``feasible``    the attacker's feasible intervals (linear programs) over them
``linked``      one suppression decision over every published table of a run
                (:func:`~tasks.privacy.disclosure.linked.plan_suppression`);
                docs/disclosure.md
=============== ===========================================================
"""
from __future__ import annotations

from tasks.privacy.disclosure.cells import is_primary, publish_count, publish_rate, round_count, round_rate
from tasks.privacy.disclosure.policy import DEFAULT_POLICY_PATH, Policy, load_policy, policy_from_dict
from tasks.privacy.disclosure.secondary import Relation, complementary_suppression
from tasks.privacy.disclosure.tables import (
    FLAG_WITHHELD,
    SDC_FLAGS_COLUMN,
    SdcReport,
    column_roles,
    protect_table,
)

__all__ = [
    "DEFAULT_POLICY_PATH", "FLAG_WITHHELD", "SDC_FLAGS_COLUMN", "Policy", "Relation", "SdcReport", "column_roles",
    "complementary_suppression", "is_primary", "load_policy", "policy_from_dict", "protect_table", "publish_count",
    "publish_rate", "round_count", "round_rate",
]
