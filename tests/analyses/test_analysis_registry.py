"""The analysis registry: every analysis registered under its package's name, no package hidden."""
from __future__ import annotations

import importlib
import types

import tasks.analyses as analyses


def test_each_analysis_is_the_analyse_function_of_the_module_named_after_it():
    assert list(analyses.ANALYSES) == ["funnel_counts", "funnel_statistics", "text", "scores_and_triangulation"]
    for name, fn in analyses.ANALYSES.items():
        module = fn.__module__
        assert fn.__name__ == "analyse"
        assert module in (f"tasks.analyses.{name}", f"tasks.analyses.{name}.analysis"), (name, module)


def test_registering_does_not_hide_the_subpackages():
    """``import tasks.analyses.text.tables as t`` binds through the attribute ``tasks.analyses.text``: it must
    be the package, not the package's ``analysis`` module."""
    for name in ("funnel_statistics", "text", "scores_and_triangulation"):
        attr = getattr(analyses, name)
        assert isinstance(attr, types.ModuleType) and hasattr(attr, "__path__"), name
        assert attr is importlib.import_module(f"tasks.analyses.{name}")
    import tasks.analyses.text.tables as tables

    assert tables.__name__ == "tasks.analyses.text.tables"
