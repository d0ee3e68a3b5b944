"""Start a WSGI app under gunicorn on 127.0.0.1 and drive it with wrk (bounded in time)."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: wrk script: random path from a list, optional header, percentiles printed in one parsable line
_LUA = r"""
local paths = {}
local header_name = os.getenv("BENCH_HEADER_NAME")
local header_value = os.getenv("BENCH_HEADER_VALUE")
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  local h = {}
  if header_name then h[header_name] = header_value end
  return wrk.format("GET", paths[(i % #paths) + 1], h)
end
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("BENCH requests=%d duration_us=%d p50=%d p95=%d p99=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non2xx: int
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], *, workers: int = 2, port: int | None = None):
    """Run ``gunicorn app_spec`` with sync workers; yields (base_url, process)."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", "--timeout", "60", app_spec]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, proc)
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _wait_up(base: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(base + "/__ping__", timeout=1)  # noqa: S310 - loopback only
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is up
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up")


def wrk(name: str, base: str, paths: list[str], *, connections: int = 16, seconds: int = 10,
        header: tuple[str, str] | None = None, warmup: int = 2) -> Result:
    """Drive *paths* (round robin) for *seconds* with *connections*; returns throughput and latency."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "bench.lua")
        script.write_text(_LUA)
        path_file = Path(tmp, "paths.txt")
        path_file.write_text("\n".join(paths) + "\n")
        env = {**os.environ, "BENCH_PATHS": str(path_file)}
        if header:
            env["BENCH_HEADER_NAME"], env["BENCH_HEADER_VALUE"] = header
        base_cmd = ["wrk", "-t1", f"-c{connections}", "-s", str(script), "--timeout", "30s", base]
        if warmup:
            subprocess.run([*base_cmd[:3], f"-d{warmup}s", *base_cmd[3:]], env=env, capture_output=True,
                           timeout=warmup + 30, check=True)
        out = subprocess.run([*base_cmd[:3], f"-d{seconds}s", *base_cmd[3:]], env=env, capture_output=True,
                             text=True, timeout=seconds + 60, check=True).stdout
    m = re.search(r"BENCH requests=(\d+) duration_us=(\d+) p50=(\d+) p95=(\d+) p99=(\d+) non2xx=(\d+) "
                  r"socket_errors=(\d+)", out)
    if m is None:
        raise RuntimeError(f"unexpected wrk output: {out}")
    req, dur, p50, p95, p99, non2xx, errors = map(int, m.groups())
    return Result(name, req / (dur / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, non2xx, errors)


def prime(base: str, paths: list[str], *, header: tuple[str, str] | None = None, times: int = 4) -> None:
    """A few sequential requests per path (both workers import, compile templates, open connections)."""
    for path in paths:
        for _ in range(times):
            request = urllib.request.Request(base + path,  # noqa: S310 - loopback only
                                             headers=dict([header]) if header else {})
            with contextlib.suppress(urllib.error.HTTPError):  # counted by wrk
                urllib.request.urlopen(request, timeout=60).read()  # noqa: S310 - loopback only


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), "-+-".join("-" * w for w in widths)]
    lines += [fmt.format(*map(str, r)) for r in rows]
    return "\n".join(lines)
