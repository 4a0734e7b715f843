"""A smoke run of `bench/alerts.py` with small numbers, so the benchmark cannot rot unnoticed.

It measures nothing here (speeds belong in docs/performance.md): it checks that every step
runs and that the engine sent every email it was given.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_alerts_bench_runs_end_to_end():
    result = subprocess.run(
        [
            *(sys.executable, "bench/alerts.py"),
            *("--subscribers", "300", "--deadlines", "120", "--emails", "40", "--runs", "2"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    assert figures["engine_emails"] == 40
    assert len(figures["steady_runs_seconds"]) == 2
    assert figures["raw_floor_emails_per_second"] > 0 and figures["naive_emails_per_second"] > 0
