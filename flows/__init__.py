"""Prefect flows: orchestration only.  The logic lives in tasks/."""
from edi_recruit import settings as _settings  # noqa: F401  (telemetry off before Prefect loads)
