"""The one configuration object of an evaluation run, resolved once.

:func:`resolve_config` reads, in this order of precedence,

1. explicit arguments (the CLI's options, the flows' parameters),
2. environment variables (read when it is called, never at import time),
3. defaults,

and returns a frozen :class:`RunConfig`.  The monthly and backfill flows, the
CLI, :meth:`RunConfig.run_params` (what ``results.runs`` records) and the
backfill skip rule all use that object; nothing else reads these settings.

Environment variables:

=================================== ==============================================
``EDI_RECRUIT_DUCKDB_MEMORY_LIMIT`` DuckDB ``memory_limit`` (default ``4GB``)
``EDI_RECRUIT_DUCKDB_THREADS``      DuckDB ``threads`` (default: DuckDB's own)
``EDI_RECRUIT_TRUST``               the trust's short name in export file names (default ``trust``)
``EDI_FUNNEL_STATSMODELS_MAX_ROWS`` analysis parameter ``funnel_statsmodels_max_rows``
``EDI_FUNNEL_CL_STATSMODELS_MAX_ROWS`` analysis parameter ``funnel_cl_statsmodels_max_rows``
=================================== ==============================================

The analysis parameters (:data:`ANALYSIS_PARAMS`) become ``RunContext.params``.
Only the keys that were set are passed on: an analysis applies its own default
for a missing key, so a run with no parameters computes exactly what it always
did.  An unknown key, or a value of the wrong type, raises :class:`ConfigError`.
This module never opens the warehouse and never imports an analysis.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.core.months import month_str, parse_month
from tasks.core.paths import MAPPINGS_DIR, PROJECT_ROOT
from tasks.core.run_context import WINDOWS, RunContext
from tasks.core.vocabulary import DEFAULT_PROGRAMME_START

DEFAULT_EXTRACTS = "data/extracts"
DEFAULT_DB = "data/edi_recruit.duckdb"
DEFAULT_OUT = "out"
DEFAULT_WINDOW = "all_to_date"
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"   # DuckDB's own default is 80% of RAM: bound it so a large ingest spills
ENV_DUCKDB_MEMORY_LIMIT = "EDI_RECRUIT_DUCKDB_MEMORY_LIMIT"
ENV_DUCKDB_THREADS = "EDI_RECRUIT_DUCKDB_THREADS"
ENV_TRUST, DEFAULT_TRUST = "EDI_RECRUIT_TRUST", "trust"   # the trust's short name in export file names

UNKNOWN_PARAM = "unknown analysis parameter {key!r}; known: {known}"
BAD_PARAM = "analysis parameter {key}: {problem}"
BAD_ASSIGNMENT = "expected key=value, got {text!r}"


class ConfigError(ValueError):
    """A setting that cannot be used (unknown key, wrong type, missing file)."""


# ---------------------------------------------------------------- value parsers
def _int(value: Any, *, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    try:
        n = int(str(value).replace("_", "")) if not isinstance(value, int) else value
    except ValueError:
        raise ValueError(f"expected a whole number, got {value!r}") from None
    if n < minimum:
        raise ValueError(f"expected a whole number >= {minimum}, got {n}")
    return n


def _positive_int(value: Any) -> int:
    return _int(value, minimum=1)


def _non_negative_int(value: Any) -> int:
    return _int(value, minimum=0)


def _int_list(value: Any) -> list[int]:
    items = [v for v in str(value).split(",") if v.strip()] if isinstance(value, str) else list(value)
    if not items:
        raise ValueError("expected at least one whole number")
    return [_positive_int(str(v).strip()) for v in items]


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty text, got {value!r}")
    return value.strip()


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


@dataclass(frozen=True)
class ParamSpec:
    """One analysis parameter: how to read it, where an analysis uses it, and its environment variable."""

    parse: Callable[[Any], Any]
    doc: str
    env: str | None = None


ANALYSIS_PARAMS: dict[str, ParamSpec] = {
    # tasks/analyses/text/analysis.py
    "text_k_range": ParamSpec(_int_list, "topic counts K tried, e.g. 4,6,8 (default 4..12)"),
    "text_topic_method": ParamSpec(_text, "topic model: nmf (default) or lda"),
    "text_seed": ParamSpec(_int, "topic-model seed (default 20240101)"),
    "text_spacy_model": ParamSpec(_text, "installed spaCy pipeline for lemmas (default: the blank English one)"),
    "text_batch_size": ParamSpec(_positive_int, "documents per spaCy batch (default 1000)"),
    "text_n_process": ParamSpec(_positive_int, "spaCy processes (default 1)"),
    "text_fit_max_docs": ParamSpec(_positive_int, "documents sampled to fit the topic model (default 50000)"),
    "text_reredact": ParamSpec(_bool, "redact the texts again before analysis (default true)"),
    "text_assessment_unit": ParamSpec(_text, "assessment (default) or application: one document per ..."),
    # tasks/analyses/scores_and_triangulation/analysis.py
    "its_frequency": ParamSpec(_text, "interrupted time series periods: month (default) or quarter"),
    "its_maxlags": ParamSpec(_non_negative_int, "Newey-West lags (default: the rule of thumb)"),
    # tasks/analyses/funnel_statistics/odds_ratios.py
    "funnel_statsmodels_max_rows": ParamSpec(
        _non_negative_int, "above this many pattern rows the logit uses the own fast path (default 2000000)",
        env="EDI_FUNNEL_STATSMODELS_MAX_ROWS"),
    "funnel_cl_statsmodels_max_rows": ParamSpec(
        _non_negative_int, "above this many informative rows the conditional logit uses own code (default 2000)",
        env="EDI_FUNNEL_CL_STATSMODELS_MAX_ROWS"),
}


def parse_param(key: str, value: Any) -> Any:
    """One analysis parameter, checked and typed; :class:`ConfigError` for an unknown key or a bad value."""
    spec = ANALYSIS_PARAMS.get(key)
    if spec is None:
        raise ConfigError(UNKNOWN_PARAM.format(key=key, known=", ".join(sorted(ANALYSIS_PARAMS))))
    try:
        return spec.parse(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(BAD_PARAM.format(key=key, problem=exc)) from None


def parse_assignments(items: list[str] | None) -> dict[str, Any]:
    """``["text_seed=3", "its_frequency=quarter"]`` (the CLI's ``--param``) -> checked parameters."""
    out: dict[str, Any] = {}
    for text in items or []:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ConfigError(BAD_ASSIGNMENT.format(text=text))
        out[key.strip()] = parse_param(key.strip(), value)
    return out


def analysis_params(explicit: Mapping[str, Any] | None, env: Mapping[str, str]) -> dict[str, Any]:
    """Explicit parameters over environment variables; keys never set are left out (analysis default)."""
    out = {key: parse_param(key, env[spec.env]) for key, spec in ANALYSIS_PARAMS.items()
           if spec.env and env.get(spec.env)}
    out.update({key: parse_param(key, value) for key, value in (explicit or {}).items()})
    return dict(sorted(out.items()))


# ---------------------------------------------------------------- mappings
def default_mapping_paths() -> list[Path]:
    """Every ``mappings/*.yaml``, sorted: the ingest default."""
    return sorted(MAPPINGS_DIR.glob("*.yaml"))


def resolve_mapping_paths(mapping: list[str] | None) -> tuple[Path, ...]:
    paths = [Path(m) for m in mapping] if mapping else default_mapping_paths()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ConfigError(f"mapping file not found: {missing[0]}")
    return tuple(sorted({p.resolve() for p in paths}))


def _recorded_path(path: Path) -> str:
    """A path as results.runs records it: relative to the project when inside it (stable across checkouts)."""
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- the object
@dataclass(frozen=True)
class RunConfig:
    """Everything a run is configured with (see module docstring for where each value comes from)."""

    extracts: str = DEFAULT_EXTRACTS
    db: str = DEFAULT_DB
    out_dir: str = DEFAULT_OUT
    as_of: str | None = None
    programme_start: str = DEFAULT_PROGRAMME_START
    window: str = DEFAULT_WINDOW
    mapping_paths: tuple[Path, ...] = ()
    redaction_model: str | None = None
    policy: str | None = None
    report: bool = True
    exports: bool = True
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def for_month(self, as_of: str) -> RunConfig:
        return dataclasses.replace(self, as_of=month_str(parse_month(as_of)))

    def run_params(self) -> dict[str, Any]:
        """What results.runs records for the run (and what backfill's skip rule compares)."""
        return {"as_of": self.as_of, "programme_start": self.programme_start, "window": self.window,
                "mapping": [_recorded_path(p) for p in self.mapping_paths],
                "redaction_model": self.redaction_model, "policy": str(self.policy) if self.policy else None,
                "params": dict(self.params)}

    def run_context(self, run_id: str) -> RunContext:
        if self.as_of is None:
            raise ConfigError("a run context needs the month (as_of)")
        return RunContext(db_path=str(self.db), run_id=run_id, as_of=self.as_of, out_dir=str(self.out_dir),
                          programme_start=self.programme_start, window=self.window, params=dict(self.params))

    def flow_parameters(self) -> dict[str, Any]:
        """The monthly flow's parameters (without as_of) that resolve to this same configuration."""
        return {"extracts": self.extracts, "db": self.db, "out_dir": self.out_dir,
                "programme_start": self.programme_start, "window": self.window,
                "mapping": [str(p) for p in self.mapping_paths], "redaction_model": self.redaction_model,
                "policy": self.policy, "params": dict(self.params), "report": self.report, "exports": self.exports}

    def duckdb_settings(self) -> dict[str, str]:
        return duckdb_settings(memory_limit=self.duckdb_memory_limit, threads=self.duckdb_threads)


def duckdb_settings(*, memory_limit: str | None = None, threads: int | None = None,
                    env: Mapping[str, str] | None = None) -> dict[str, str]:
    """DuckDB's ``memory_limit`` and ``threads``: explicit values over the environment over the defaults."""
    env = os.environ if env is None else env
    out = {"memory_limit": memory_limit or env.get(ENV_DUCKDB_MEMORY_LIMIT) or DEFAULT_DUCKDB_MEMORY_LIMIT}
    threads_value = threads if threads is not None else env.get(ENV_DUCKDB_THREADS)
    if threads_value:
        out["threads"] = str(threads_value)
    return out


def resolve_config(
    *,
    extracts: str | Path | None = None,
    db: str | Path | None = None,
    out_dir: str | Path | None = None,
    as_of: str | None = None,
    programme_start: str | None = None,
    window: str | None = None,
    mapping: list[str | Path] | None = None,
    redaction_model: str | None = None,
    policy: str | Path | None = None,
    report: bool = True,
    exports: bool = True,
    duckdb_memory_limit: str | None = None,
    duckdb_threads: int | None = None,
    params: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> RunConfig:
    """Resolve a run's configuration once (explicit > ``env`` (default: os.environ, read now) > defaults).

    Raises :class:`ConfigError` for an unknown analysis parameter, a bad value,
    an unknown window or a missing mapping file.
    """
    env = dict(os.environ) if env is None else dict(env)
    window = window or DEFAULT_WINDOW
    if window not in WINDOWS:
        raise ConfigError(f"window must be one of {', '.join(WINDOWS)}; got {window!r}")
    resources = duckdb_settings(memory_limit=duckdb_memory_limit, threads=duckdb_threads, env=env)
    try:
        threads = _positive_int(resources["threads"]) if "threads" in resources else None
    except ValueError as exc:
        raise ConfigError(f"{ENV_DUCKDB_THREADS}: {exc}") from None
    return RunConfig(
        extracts=str(extracts or DEFAULT_EXTRACTS), db=str(db or DEFAULT_DB), out_dir=str(out_dir or DEFAULT_OUT),
        as_of=month_str(parse_month(as_of)) if as_of else None,
        programme_start=month_str(parse_month(programme_start or DEFAULT_PROGRAMME_START)),
        window=window, mapping_paths=resolve_mapping_paths([str(m) for m in mapping] if mapping else None),
        redaction_model=redaction_model or None, policy=str(policy) if policy else None,
        report=bool(report), exports=bool(exports),
        duckdb_memory_limit=resources["memory_limit"],
        duckdb_threads=threads,
        params=analysis_params(params, env),
    )


def trust_label(env: Mapping[str, str] | None = None) -> str:
    """The trust's short name for file names (``EDI_RECRUIT_TRUST``, e.g. ``RGT``), as letters, digits and '-'."""
    import re

    env = os.environ if env is None else env
    slug = re.sub(r"[^A-Za-z0-9]+", "-", env.get(ENV_TRUST) or "").strip("-")[:40]
    return slug or DEFAULT_TRUST
