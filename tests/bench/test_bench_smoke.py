"""Smoke run of the benchmarks at the ``small`` scale: every figure is produced, every request answered 2xx.

No timing is asserted (CI machines are shared); the table is printed for the log. Needs ``wrk``
(``.ci/run`` installs it from Debian).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import pg

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_database():
    server = pg.server_url()
    name = pg.run_scoped("bench_smoke")
    yield server.rpartition("/")[0] + "/", name
    pg.drop_database(server, name)
    pg.drop_database(server, "bench_baseline")
    shutil.rmtree(ROOT / "bench" / ".data" / name, ignore_errors=True)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_small_scale_prints_every_figure_and_every_request_succeeds(bench_database, tmp_path):
    server, name = bench_database
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRAEVCASE_")}
    run = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.run", "--scale", "small", "--server", server, "--database-url", server + name,
         "--seconds", "2", "--transitions", "100", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    print(run.stdout)
    assert run.returncode == 0, run.stderr[-4000:]
    r = json.loads(out.read_text())

    for figure in ("read", "read_insert"):
        assert r["baseline"][figure]["rps"] > 0
        assert r["baseline"][figure]["non2xx"] == r["baseline"][figure]["errors"] == 0
    for page in ("p1", "meine_familien", "queue", "agenda_page", "dashboard"):
        assert r["pages"][page]["rps"] > 0, page
        assert r["pages"][page]["non2xx"] == r["pages"][page]["errors"] == 0, page
    inproc = r["inprocess"]
    assert inproc["reveal"]["rows"] == 50 and inproc["reveal"]["denied"] == 0
    assert inproc["agenda_build"]["items"] > 0
    assert inproc["sweep"]["repeat"]["created"] == 0
    assert inproc["verify"]["intact"] and inproc["verify"]["events"] > 0
    assert r["transition"]["ratio"] > 0
    assert r["rotation"]["keys"] > 0 and r["rotation"]["non2xx"] == 0
    for label in ("P1", "P2", "P3", "P4", "P5"):
        assert label in run.stdout
