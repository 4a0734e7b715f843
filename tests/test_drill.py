"""Smoke tests of bench/drill.py's parts (the drill itself runs for minutes, outside the suite)."""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pytest
from conftest import free_port
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import drill


@Request.application
def tiny_site(request: Request) -> Response:
    if request.path == "/boom":
        return Response("database is locked", status=500)
    return Response("ok")


@pytest.fixture
def tiny_server():
    port = free_port()
    server = make_server("127.0.0.1", port, tiny_site, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    thread.join()
    server.server_close()


def test_the_load_counts_every_request_and_every_error_by_route(tiny_server):
    report = drill.load(tiny_server, {"fine": ["/"], "broken": ["/boom"]}, 0.5, 3)
    rows = {row["route"]: row for row in report.rows()}

    assert rows["fine"]["requests"] > 0 and rows["fine"]["errors"] == 0
    assert rows["broken"]["errors"] == rows["broken"]["requests"] > 0
    assert rows["broken"]["error_kinds"] == {"500": rows["broken"]["requests"]}
    assert rows["all"]["requests"] == rows["fine"]["requests"] + rows["broken"]["requests"]
    assert rows["all"]["p50_ms"] <= rows["all"]["p99_ms"]


def test_a_refused_connection_is_an_error_not_a_crash():
    report = drill.load(free_port(), {"nobody": ["/"]}, 0.2, 1)
    (row, _) = report.rows()
    assert row["errors"] == row["requests"] > 0
    assert set(row["error_kinds"]) == {"ConnectionRefusedError"}


@pytest.mark.parametrize(
    ("ordered", "q", "expected"),
    [([1.0], 0.99, 1.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 3.0), ([*range(100)], 0.99, 99)],
)
def test_quantiles(ordered, q, expected):
    assert drill._quantile(ordered, q) == expected


def test_a_live_backup_restores_every_row(app, create_opportunity, database_url, tmp_path):
    needed = ["sqlite3"] if database_url.startswith("sqlite") else ["pg_dump", "pg_restore"]
    missing = [tool for tool in needed if not shutil.which(tool)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    for n in range(3):
        create_opportunity(f"Fellowship {n}", countries=("KE",))

    backup = drill.backup_and_restore(database_url, tmp_path)

    assert backup["same"], backup
    assert backup["restored"]["opportunities"] == 3
    assert backup["restored"]["opportunity_countries"] == 3
