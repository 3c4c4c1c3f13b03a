"""edi-recruit: monthly evaluation of an NHS trust's inclusive senior-recruitment programme."""
from edi_recruit import settings as _settings  # noqa: F401  (telemetry off before Prefect loads)
