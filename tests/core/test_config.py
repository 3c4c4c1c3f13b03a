"""The one configuration object: precedence (explicit > environment > default), analysis parameters
refused when unknown or mistyped, mapping defaults, and what results.runs records."""
from __future__ import annotations

import json

import pytest

from tasks.core import config as C
from tasks.core.paths import MAPPINGS_DIR


def test_defaults_with_an_empty_environment():
    cfg = C.resolve_config(env={})
    assert (cfg.extracts, cfg.db, cfg.out_dir) == (C.DEFAULT_EXTRACTS, C.DEFAULT_DB, C.DEFAULT_OUT)
    assert cfg.window == C.DEFAULT_WINDOW and cfg.as_of is None and cfg.policy is None
    assert cfg.report and cfg.exports
    assert cfg.duckdb_memory_limit == C.DEFAULT_DUCKDB_MEMORY_LIMIT and cfg.duckdb_threads is None
    assert cfg.params == {}          # analyses apply their own defaults: a run computes what it always did
    assert cfg.duckdb_settings() == {"memory_limit": "4GB"}


def test_explicit_beats_environment_beats_default():
    env = {C.ENV_DUCKDB_MEMORY_LIMIT: "2GB", C.ENV_DUCKDB_THREADS: "3",
           "EDI_FUNNEL_STATSMODELS_MAX_ROWS": "1000", "EDI_FUNNEL_CL_STATSMODELS_MAX_ROWS": "7"}
    from_env = C.resolve_config(env=env)
    assert from_env.duckdb_memory_limit == "2GB" and from_env.duckdb_threads == 3
    assert from_env.params == {"funnel_cl_statsmodels_max_rows": 7, "funnel_statsmodels_max_rows": 1000}
    assert from_env.duckdb_settings() == {"memory_limit": "2GB", "threads": "3"}
    explicit = C.resolve_config(env=env, duckdb_memory_limit="1GB", duckdb_threads=1,
                                params={"funnel_statsmodels_max_rows": "5"})
    assert explicit.duckdb_memory_limit == "1GB" and explicit.duckdb_threads == 1
    assert explicit.params == {"funnel_cl_statsmodels_max_rows": 7, "funnel_statsmodels_max_rows": 5}


def test_environment_is_read_when_resolving_not_at_import(monkeypatch):
    monkeypatch.setenv(C.ENV_DUCKDB_MEMORY_LIMIT, "3GB")
    assert C.resolve_config().duckdb_memory_limit == "3GB"
    monkeypatch.delenv(C.ENV_DUCKDB_MEMORY_LIMIT)
    assert C.resolve_config().duckdb_memory_limit == C.DEFAULT_DUCKDB_MEMORY_LIMIT


def test_analysis_parameters_are_typed():
    cfg = C.resolve_config(env={}, params={"text_k_range": "4, 6,8", "text_reredact": "false", "its_maxlags": "0",
                                           "its_frequency": "quarter", "text_seed": 3})
    assert cfg.params == {"its_frequency": "quarter", "its_maxlags": 0, "text_k_range": [4, 6, 8],
                          "text_reredact": False, "text_seed": 3}
    assert C.parse_assignments(["text_k_range=4,5", "text_n_process=2"]) == {"text_k_range": [4, 5],
                                                                            "text_n_process": 2}
    ctx = cfg.for_month("2024-01").run_context("r1")
    assert ctx.param("text_k_range") == [4, 6, 8] and ctx.from_json(ctx.to_json()).params == ctx.params


@pytest.mark.parametrize("params, message", [
    ({"text_k": "4"}, "unknown analysis parameter 'text_k'"),
    ({"text_seed": "x"}, "analysis parameter text_seed: expected a whole number"),
    ({"text_batch_size": 0}, "analysis parameter text_batch_size: expected a whole number >= 1"),
    ({"text_reredact": "perhaps"}, "analysis parameter text_reredact: expected true or false"),
    ({"text_k_range": ""}, "analysis parameter text_k_range: expected at least one whole number"),
])
def test_unknown_or_bad_analysis_parameters_are_refused(params, message):
    with pytest.raises(C.ConfigError, match=message):
        C.resolve_config(env={}, params=params)


def test_bad_assignment_and_bad_environment_are_refused():
    with pytest.raises(C.ConfigError, match="expected key=value"):
        C.parse_assignments(["text_seed"])
    with pytest.raises(C.ConfigError, match="unknown analysis parameter 'nope'"):
        C.parse_assignments(["nope=1"])
    with pytest.raises(C.ConfigError, match="funnel_statsmodels_max_rows"):
        C.resolve_config(env={"EDI_FUNNEL_STATSMODELS_MAX_ROWS": "many"})
    with pytest.raises(C.ConfigError, match="window must be one of"):
        C.resolve_config(env={}, window="forever")


def test_mapping_default_is_every_mappings_yaml(tmp_path):
    cfg = C.resolve_config(env={})
    expected = tuple(sorted(p.resolve() for p in MAPPINGS_DIR.glob("*.yaml")))
    assert cfg.mapping_paths == expected and len(expected) >= 1
    assert cfg.run_params()["mapping"] == sorted(f"mappings/{p.name}" for p in expected)
    own = tmp_path / "b.yaml"
    own.write_text("x: 1\n")
    other = tmp_path / "a.yaml"
    other.write_text("x: 1\n")
    cfg = C.resolve_config(env={}, mapping=[str(own), str(other)])
    assert cfg.mapping_paths == (other.resolve(), own.resolve())
    with pytest.raises(C.ConfigError, match="mapping file not found"):
        C.resolve_config(env={}, mapping=[str(tmp_path / "missing.yaml")])


def test_run_params_are_the_same_for_the_same_inputs_in_any_order(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("x: 1\n")
    b.write_text("x: 1\n")
    p1 = C.resolve_config(as_of="2024-01", mapping=[b, a], params={"its_maxlags": 2, "text_seed": 1}, env={})
    p2 = C.resolve_config(as_of="2024-01", mapping=[a, b], params={"text_seed": "1", "its_maxlags": "2"}, env={})
    assert p1.run_params() == p2.run_params()
    assert p1.run_params()["mapping"] == [str(a.resolve()), str(b.resolve())]
    assert json.loads(json.dumps(p1.run_params()))["params"] == {"its_maxlags": 2, "text_seed": 1}


def test_flow_parameters_resolve_to_the_same_configuration():
    cfg = C.resolve_config(env={}, window="last_12_months", params={"its_frequency": "quarter"}, report=False)
    again = C.resolve_config(env={}, **cfg.flow_parameters())
    assert again == cfg
    assert cfg.for_month("2024-02").run_params() == again.for_month("2024-02").run_params()
