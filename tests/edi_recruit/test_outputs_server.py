"""The outputs server: a run's published outputs over http on 127.0.0.1, behind the Prefect login, nothing else."""
from __future__ import annotations

import base64
import urllib.error
import urllib.request

import pytest

from edi_recruit.outputs_server import OutputsServer, link, outputs_env, servable

AUTH = "edi-recruit:s3cret"


@pytest.fixture
def run(tmp_path):
    run = tmp_path / "out" / "0a1b2c3d-run"
    for d in ("results", "csv", "parquet", "gx", "data_docs/validations/x"):
        (run / d).mkdir(parents=True)
    files = {"report.html": "<html>report</html>", "edi-recruit_RGT_2024-01_0a1b2c3d.xlsx": "PK",
             "csv/funnel_counts.csv": "a,b", "parquet/odds_ratios.parquet": "PAR1",
             "data_docs/index.html": "<html>docs</html>", "data_docs/validations/x/v.html": "<html>v</html>",
             "results/odds_ratios.parquet": "undisclosed", "gx/validations.json": "{}"}
    for name, text in files.items():
        (run / name).write_text(text)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "report.html").write_text("not a run folder")
    return run


def test_only_published_outputs_under_a_root_are_servable(run, tmp_path):
    roots = [tmp_path]
    for ok in ("report.html", "edi-recruit_RGT_2024-01_0a1b2c3d.xlsx", "csv/funnel_counts.csv",
               "parquet/odds_ratios.parquet", "data_docs/index.html", "data_docs/validations/x/v.html"):
        assert servable((run / ok).resolve(), roots), ok
    for no in ("results/odds_ratios.parquet", "gx/validations.json"):
        assert not servable((run / no).resolve(), roots), no
    assert not servable((tmp_path / "data" / "report.html").resolve(), roots)    # not in a run folder
    assert not servable((run / "report.html").resolve(), [tmp_path / "elsewhere"])  # outside the roots


def _get(url: str, auth: str | None = AUTH) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}
                                 if auth else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_the_server_serves_outputs_to_the_prefect_login_only(run, tmp_path):
    server = OutputsServer(0, AUTH, roots=[tmp_path]).start()
    try:
        env = outputs_env(server.url, [tmp_path])
        url = link(run / "report.html", env)
        assert url == server.url + (run / "report.html").resolve().as_posix()
        assert _get(url) == (200, b"<html>report</html>")
        assert _get(url, auth=None)[0] == 401 and _get(url, auth="edi-recruit:wrong")[0] == 401
        assert _get(server.url + (run / "results" / "odds_ratios.parquet").as_posix())[0] == 404
        assert _get(server.url + (run / "csv" / ".." / "results" / "odds_ratios.parquet").as_posix())[0] == 404
        assert _get(server.url + (run.parent).as_posix())[0] == 404                 # no listings
        assert _get(server.url + "/etc/passwd")[0] == 404
        docs = link(run / "data_docs" / "validations" / "x" / "v.html", env)
        assert _get(docs) == (200, b"<html>v</html>")
        assert link(run / "results" / "odds_ratios.parquet", env) is None and link(run / "report.html", {}) is None
    finally:
        server.stop()
