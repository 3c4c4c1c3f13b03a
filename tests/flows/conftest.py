"""The flow tests' Prefect API: a local server started the way a CLI run starts one
(edi_recruit.server.ensure_local_api: a health wait with no fixed window, its own
PREFECT_HOME, the auth string), not Prefect's temporary test server, whose 120 s
start-up window a loaded machine can miss ("Timed out while attempting to connect
to ephemeral Prefect API server")."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from edi_recruit.server import ensure_local_api, stop_local_api

    home = tmp_path_factory.mktemp("flow_prefect")
    # this server lives for the module (stopped below) and nothing renews its lease while in-process
    # flows run: an idle limit shorter than the module (EDI_RECRUIT_API_IDLE_SECONDS) must not stop it
    mp = pytest.MonkeyPatch()
    mp.setenv("EDI_RECRUIT_API_IDLE_SECONDS", "3600")
    try:
        url, auth = ensure_local_api(home)
    finally:
        mp.undo()
    try:
        with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_API_AUTH_STRING: auth}):
            yield url
    finally:
        stop_local_api(home)
