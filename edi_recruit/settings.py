"""Process-wide settings applied before Prefect is imported.

Prefect telemetry and analytics are switched off for every entry point
(CLI, flows, tests), whatever the working directory.  Values already set in
the environment win, except that telemetry can never be switched on here.
"""
from __future__ import annotations

import os

PRIVACY_ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
}
DEFAULTS_ENV = {
    # the UI may not fetch anything from the network either
    "PREFECT_UI_SERVE_BASE": "/",
    "PREFECT_LOGGING_LEVEL": "INFO",
    # the ephemeral API starts in a subprocess; on a busy 2-core machine it needs more than the default 20 s
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def apply() -> None:
    for k, v in PRIVACY_ENV.items():
        os.environ[k] = v
    for k, v in DEFAULTS_ENV.items():
        os.environ.setdefault(k, v)


apply()
