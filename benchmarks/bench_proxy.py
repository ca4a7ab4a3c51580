"""
Benchmark the reverse proxy: ours against twisted.web's
C{ReverseProxyResource}, in the same run, in front of the same backend.

1. A small response (C{benchmarks/servers.py}'s C{request} kind, served by
   twisted_web_re) through each proxy: requests/s, p99 latency, and the
   proxy's CPU time per request.
2. A 100 MiB response streamed through each proxy: MiB/s and the proxy's
   peak RSS.

Run::

    python benchmarks/bench_proxy.py [--seconds S] [--connections N] [--repeat R]

Each proxy runs in its own process (this file, with C{--serve}); the load is
wrk when installed, else the asyncio generator of C{_loadgen}.  Both small-
response proxies are up at once and their runs alternate (A B A B ... with
C{--repeat}), so that drift in a shared machine's load falls on both; the
median run of each is shown.  For figures that do not depend on the
machine's load, see C{profile_proxy.py} (in process, calls per request).
"""

from __future__ import annotations

import argparse
import http.client
import importlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from benchmarks._loadgen import LoadResult, PythonLoad, Wrk  # noqa: E402

LOOPBACK = "127.0.0.1"
IMPLS = {"twisted_web": "twisted.web", "twisted_web_re": "twisted_web_re"}
STREAM_SIZE = 100 * 1024 * 1024


def serve(impl: str, backendPort: int) -> int:
    """Run one proxy until killed; print C{READY <port> <pid>}."""
    from twisted.internet import reactor

    package = IMPLS[impl]
    proxy = importlib.import_module(package + ".proxy")
    server = importlib.import_module(package + ".server")
    # No idle timeout on our side either: twisted.web's is 12 hours.
    kwargs = {"timeout": None} if impl == "twisted_web_re" else {}
    site = server.Site(proxy.ReverseProxyResource(LOOPBACK, backendPort, b""), **kwargs)
    site.log = lambda request: None  # no access log in a benchmark
    port: Any = reactor.listenTCP(0, site, interface=LOOPBACK)
    print(f"READY {port.getHost().port} {os.getpid()}", flush=True)
    reactor.run()
    return 0


def _start(
    command: list[str], cwd: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd
    )
    assert process.stdout is not None
    words = process.stdout.readline().split()
    if not words or words[0] != b"READY":
        process.kill()
        raise RuntimeError(f"{command} did not start")
    return process, int(words[1])


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peakRSS(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _stream(port: int) -> tuple[float, int]:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=120)
    started = time.monotonic()
    connection.request("GET", "/big.bin")
    response = connection.getresponse()
    received = 0
    while piece := response.read(1 << 20):
        received += len(piece)
    elapsed = time.monotonic() - started
    if received != STREAM_SIZE:
        raise RuntimeError(f"streamed {received} bytes, not {STREAM_SIZE}")
    return received / (1 << 20) / elapsed, received


def _smallResponses(
    load: Any, backendPort: int, options: argparse.Namespace
) -> dict[str, LoadResult]:
    """
    Load both proxies in turn, C{options.repeat} times each, and return
    each one's median run (by requests/s).
    """
    proxies: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    runs: dict[str, list[LoadResult]] = {impl: [] for impl in IMPLS}
    try:
        for impl in IMPLS:
            proxies[impl] = _start(
                [sys.executable, __file__, "--serve", impl, str(backendPort)]
            )
            load.run(proxies[impl][1], "/", options.connections, 1.0, 1)  # warm up
        for _ in range(options.repeat):
            for impl, (proxy, port) in proxies.items():
                before = _cpu(proxy.pid)
                result: LoadResult = load.run(
                    port, "/", options.connections, options.seconds, 1
                )
                result.cpuSeconds = _cpu(proxy.pid) - before
                runs[impl].append(result)
    finally:
        for proxy, _port in proxies.values():
            proxy.kill()
            proxy.wait()
    medians = {}
    for impl, results in runs.items():
        rps = statistics.median_low([r.rps for r in results])
        medians[impl] = next(r for r in results if r.rps == rps)
    return medians


def main() -> int:
    """Run both benchmarks for both implementations and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", nargs=2, metavar=("IMPL", "BACKEND_PORT"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=1)
    options = parser.parse_args()
    if options.serve:
        return serve(options.serve[0], int(options.serve[1]))

    workdir = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    wrk = shutil.which("wrk")
    load = Wrk(wrk, [], workdir) if wrk else PythonLoad()
    backend, backendPort = _start(
        [
            sys.executable,
            str(_ROOT / "benchmarks" / "servers.py"),
            "twisted_web_re",
            "request",
            "0",
        ]
    )
    files = workdir / "files"
    files.mkdir()
    with open(files / "big.bin", "wb") as f:
        f.truncate(STREAM_SIZE)
    fileBackend = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", LOOPBACK],
        cwd=files,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert fileBackend.stdout is not None
        line = fileBackend.stdout.readline().decode()
        filePort = int(line.split("port ")[1].split()[0])
        print(
            f"load generator: {load.name}; {options.connections} connections, "
            f"{options.seconds:.0f} s per run"
        )
        print(
            f"{'proxy':<16}{'req/s':>10}{'p99 ms':>10}{'CPU us/req':>12}"
            f"{'stream MiB/s':>14}{'peak RSS MiB':>14}"
        )
        results = _smallResponses(load, backendPort, options)
        for impl in IMPLS:
            result = results[impl]
            streamer, streamPort = _start(
                [sys.executable, __file__, "--serve", impl, str(filePort)]
            )
            try:
                speed, _ = _stream(streamPort)
                rss = _peakRSS(streamer.pid) / (1 << 20)
            finally:
                streamer.kill()
                streamer.wait()
            print(
                f"{impl:<16}{result.rps:>10.0f}{result.p99Ms:>10.1f}"
                f"{result.cpuMicrosPerRequest:>12.0f}{speed:>14.1f}{rss:>14.1f}"
                + (f"  ({result.errors} errors)" if result.errors else "")
            )
        ours, theirs = results["twisted_web_re"], results["twisted_web"]
        if theirs.rps and theirs.cpuMicrosPerRequest:
            print(
                f"twisted_web_re / twisted_web: {ours.rps / theirs.rps:.2f}x req/s, "
                f"{ours.cpuMicrosPerRequest / theirs.cpuMicrosPerRequest:.2f}x "
                "CPU per request"
            )
    finally:
        backend.kill()
        fileBackend.kill()
        backend.wait()
        fileBackend.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
