"""The disclosure-control policy: a versioned YAML file, loaded and checked.

Reads ``config/disclosure_policy.yaml`` (or another path); returns a frozen
:class:`Policy` whose properties name every threshold the cell and table rules
use, and whose ``sha256`` identifies it in the disclosure log.  Implements the
policy part of docs/methods.md section 5.  It never applies a rule.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from tasks.core.paths import CONFIG_DIR

DEFAULT_POLICY_PATH = CONFIG_DIR / "disclosure_policy.yaml"


@dataclass(frozen=True)
class Policy:
    """A loaded disclosure-control policy."""

    raw: dict
    version: str
    sha256: str
    path: str = ""

    # counts
    @property
    def suppress_min(self) -> float:
        return float(self.raw["counts"]["suppress_min"])

    @property
    def suppress_max(self) -> float:
        return float(self.raw["counts"]["suppress_max"])

    @property
    def symbol(self) -> str:
        return str(self.raw["counts"]["symbol"])

    @property
    def round_to(self) -> int:
        return int(self.raw["counts"]["round_to"])

    @property
    def rounding(self) -> str:
        return str(self.raw["counts"].get("rounding", "half_up"))

    # rates
    @property
    def min_denominator(self) -> float:
        return float(self.raw["rates"]["min_denominator"])

    @property
    def rate_decimals(self) -> int:
        return int(self.raw["rates"].get("decimals", 3))

    # secondary
    @property
    def min_suppressed_per_relation(self) -> int:
        return int(self.raw.get("secondary", {}).get("min_suppressed_per_relation", 2))

    @property
    def min_range(self) -> float:
        return float(self.raw.get("secondary", {}).get("min_range", 1))

    @property
    def prefer_nonzero(self) -> bool:
        return bool(self.raw.get("secondary", {}).get("prefer_nonzero", True))

    # estimates
    @property
    def min_events(self) -> float:
        return float(self.raw["estimates"]["min_events"])

    @property
    def small_events_flag(self) -> str:
        return str(self.raw["estimates"].get("flag", "small_n_events"))

    @property
    def withhold_derived(self) -> bool:
        return bool(self.raw.get("derived", {}).get("withhold_if_input_suppressed", True))

    @property
    def passthrough(self) -> frozenset[str]:
        return frozenset(self.raw.get("defaults", {}).get("passthrough", []))

    @property
    def drop(self) -> frozenset[str]:
        return frozenset(self.raw.get("defaults", {}).get("drop", []))

    @property
    def restricted_tables(self) -> frozenset[str]:
        """Result tables never published (document-level rows)."""
        return frozenset(self.raw.get("restricted_tables", []) or [])

    def table_spec(self, name: str) -> dict:
        return dict(self.raw.get("tables", {}).get(name) or {})

    def summary(self) -> str:
        """One line describing the rules, for the report and the disclosure log."""
        return (
            f"counts {self.suppress_min:g}-{self.suppress_max:g} shown as '{self.symbol}'; "
            f"other counts rounded to the nearest {self.round_to} ({self.rounding}); "
            f"rates from rounded figures where the rounded denominator >= {self.min_denominator:g}; "
            f"complementary suppression (>= {self.min_suppressed_per_relation} suppressed per total); "
            f"estimates flagged when events < {self.min_events:g}"
        )


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and check a policy YAML (default ``config/disclosure_policy.yaml``)."""
    p = Path(path) if path else DEFAULT_POLICY_PATH
    text = p.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return policy_from_dict(raw, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), path=str(p))


def policy_from_dict(raw: dict, sha256: str | None = None, path: str = "") -> Policy:
    for section, keys in {
        "counts": ("suppress_min", "suppress_max", "symbol", "round_to"),
        "rates": ("min_denominator",),
        "estimates": ("min_events",),
    }.items():
        if section not in raw:
            raise ValueError(f"disclosure policy lacks the '{section}' section")
        for key in keys:
            if key not in raw[section]:
                raise ValueError(f"disclosure policy lacks {section}.{key}")
    if "policy_version" not in raw:
        raise ValueError("disclosure policy lacks policy_version")
    if raw["counts"].get("rounding", "half_up") not in ("half_up", "half_even"):
        raise ValueError("counts.rounding must be half_up or half_even")
    if int(raw["counts"]["round_to"]) < 1:
        raise ValueError("counts.round_to must be >= 1")
    if sha256 is None:
        sha256 = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
    return Policy(raw=raw, version=str(raw["policy_version"]), sha256=sha256, path=path)

