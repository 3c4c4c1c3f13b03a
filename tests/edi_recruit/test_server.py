"""End to end against a real Prefect server (runs in the default suite, ~2 minutes).

Start `prefect server start` on a free loopback port with PREFECT_HOME in a tmp
dir, create the process work pool, deploy from prefect.yaml (`prefect deploy
--all`), trigger monthly-evaluation through the REST API, execute it with a
worker, poll the API until it completes, check the schedule, artifacts and the
DuckDB results of that run, stop the server.  The server requires its auth string
(edi_recruit.server.auth_string): a request without it is refused with 401.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from flow_helpers import registry_row, rows_for_run, small_trust

pytestmark = pytest.mark.server
AS_OF = "2024-01"


@pytest.fixture(scope="module")
def local_prefect(tmp_path_factory):
    from server_helpers import free_port

    from edi_recruit.server import LocalPrefect

    base = tmp_path_factory.mktemp("prefect")
    lp = LocalPrefect(base / "home", free_port())
    try:
        lp.start(log_dir=base / "logs")
        yield lp
    finally:
        lp.stop()
    assert lp.server.poll() is not None and lp.worker.poll() is not None


@pytest.fixture(scope="module")
def completed(local_prefect, tmp_path_factory) -> dict:
    from server_helpers import MONTHLY_DEPLOYMENT, create_flow_run, wait_flow_run

    base = tmp_path_factory.mktemp("server_run")
    trust = small_trust(base / "extracts")
    db, out = base / "edi.duckdb", base / "out"
    fr_id = create_flow_run(local_prefect.url, MONTHLY_DEPLOYMENT,
                            {"as_of": AS_OF, "extracts": str(trust), "db": str(db), "out_dir": str(out)})
    fr = wait_flow_run(local_prefect.url, fr_id, timeout=420)
    return {"flow_run": fr, "id": fr_id, "db": db, "out": out, "logs": Path(local_prefect.home).parent / "logs"}


def test_deployments_schedule_and_pool(local_prefect):
    from server_helpers import BACKFILL_DEPLOYMENT, MONTHLY_DEPLOYMENT

    from edi_recruit.server import WORK_POOL, api

    pool = api("GET", f"{local_prefect.url}/work_pools/{WORK_POOL}")
    assert pool["type"] == "process"
    monthly = api("GET", f"{local_prefect.url}/deployments/name/{MONTHLY_DEPLOYMENT}")
    [sched] = monthly["schedules"]
    assert sched["schedule"]["cron"] == "0 6 2 * *" and sched["schedule"]["timezone"] == "Europe/London"
    assert sched["active"] is True and monthly["work_pool_name"] == WORK_POOL
    assert "as_of" in monthly["parameter_openapi_schema"]["properties"]
    assert monthly["parameters"]["db"] == "data/edi_recruit.duckdb"
    backfill = api("GET", f"{local_prefect.url}/deployments/name/{BACKFILL_DEPLOYMENT}")
    assert backfill["schedules"] == [] and backfill["parameters"]["force"] is False
    assert {"start", "end"} <= set(backfill["parameter_openapi_schema"]["required"])


def test_triggered_run_completes_with_artifacts_and_results(completed, local_prefect):
    from server_helpers import artifacts_of

    from tasks.outputs.artifacts import KEY_NLP_PROGRESS, RUN_ARTIFACT_KEYS

    fr = completed["flow_run"]
    worker_log = (completed["logs"] / "worker.log")
    assert fr["state"]["type"] == "COMPLETED", (fr["state"], worker_log.read_text()[-3000:] if worker_log.exists() else "")
    assert fr["name"] == f"evaluate-{AS_OF}"
    keys = {a["key"] for a in artifacts_of(local_prefect.url, [completed["id"]]) if a.get("key")}
    assert set(RUN_ARTIFACT_KEYS) | {KEY_NLP_PROGRESS} <= keys
    # the run id in DuckDB is the Prefect flow-run id
    row = registry_row(completed["db"], completed["id"])
    assert row["status"] == "completed" and row["as_of"] == AS_OF
    counts = rows_for_run(completed["db"], completed["id"])
    for name in ("results.odds_ratios", "results.wres_indicator2", "published.funnel_counts"):
        assert counts[name] > 0, name
    assert (completed["out"] / completed["id"] / "report.html").is_file()


def test_the_api_refuses_a_request_without_the_auth_string(local_prefect):
    """serve requires authentication: no header or a wrong auth string gets 401, the stored one works."""
    import stat
    import urllib.error
    import urllib.request

    from edi_recruit.server import AUTH_FILE, api

    auth_file = Path(local_prefect.home) / AUTH_FILE
    assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600
    # the server's database holds flow-run parameters and logs: owner-only, in an owner-only folder,
    # although this test process (not the CLI) started it with its own umask
    assert stat.S_IMODE((Path(local_prefect.home) / "prefect.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(local_prefect.home).stat().st_mode) == 0o700
    auth = auth_file.read_text(encoding="utf-8").strip()
    assert auth == local_prefect.auth and len(auth.split(":", 1)[1]) >= 32
    url = f"{local_prefect.url}/flows/filter"
    bare = urllib.request.Request(url, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bare, timeout=30)
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as wrong:
        api("POST", url, {}, auth=auth[:-1] + ("x" if auth[-1] != "x" else "y"), attempts=1)
    assert wrong.value.code == 401
    flows = api("POST", url, {}, auth=auth, attempts=1)
    assert {"monthly-evaluation", "backfill"} <= {f["name"] for f in flows}
