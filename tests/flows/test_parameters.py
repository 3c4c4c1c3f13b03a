"""The flows' parameters are defined once (flows/parameters.py): the flow signatures, their
documentation, prefect.yaml's header and the run configuration agree."""
from __future__ import annotations

import inspect

import pytest

from tasks.core.paths import PROJECT_ROOT


@pytest.mark.parametrize("flow_name, group", [("monthly", "MONTHLY_PARAMETERS"), ("backfill", "BACKFILL_PARAMETERS")])
def test_flow_signature_matches_the_parameter_definitions(flow_name, group):
    from flows import parameters
    from flows.backfill import backfill
    from flows.monthly_evaluation import monthly_evaluation

    fn = {"monthly": monthly_evaluation, "backfill": backfill}[flow_name].fn
    sig = inspect.signature(fn).parameters
    defined = getattr(parameters, group)
    assert set(sig) == {p.name for p in defined}
    for p in defined:
        if p.name not in ("start", "end"):
            assert sig[p.name].default == p.default, p.name
        assert f"{p.name}: {p.doc}" in fn.__doc__


def test_prefect_yaml_documents_every_parameter():
    from flows.parameters import ALL_PARAMETERS

    header = "\n".join(ln for ln in (PROJECT_ROOT / "prefect.yaml").read_text().splitlines() if ln.startswith("#"))
    missing = [p.name for p in ALL_PARAMETERS if f"#   {p.name}" not in header and f", {p.name}" not in header]
    assert missing == []


def test_deployment_defaults_match_the_flow_defaults():
    import yaml

    from flows.parameters import DEFAULTS

    spec = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())
    for dep in spec["deployments"]:
        for name, value in dep["parameters"].items():
            assert DEFAULTS[name] == value, (dep["name"], name)


def test_backfill_months_resolve_to_what_a_monthly_run_records(tmp_path):
    """A backfill hands each nested monthly run parameters that resolve to the same recorded params."""
    from flows.parameters import resolve

    mapping = tmp_path / "m.yaml"
    mapping.write_text("x: 1\n")
    backfill_cfg = resolve(start="2024-01", end="2024-02", force=True, concurrency=3, window="programme_to_date",
                           mapping=[str(mapping)], params={"its_frequency": "quarter"})
    monthly_cfg = resolve(as_of="2024-02", **backfill_cfg.flow_parameters())
    assert backfill_cfg.for_month("2024-02").run_params() == monthly_cfg.run_params()
