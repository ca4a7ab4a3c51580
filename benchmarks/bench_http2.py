"""
HTTP/2 benchmark: twisted_web_re against twisted.web, with h2load.

Run::

    .venv/bin/python benchmarks/bench_http2.py [--duration 5] [--repeat 3]

twisted.web serves HTTP/2 only over TLS, and only with C{h2} and
C{priority} installed, so the comparison is over TLS (h2 by ALPN); our h2c
(prior knowledge, cleartext) figure and both HTTP/1.1 figures over TLS
(h2load C{--h1}) are printed beside it for the same resources: a small
resource (C{Hello, world!} from a leaf C{Resource}) and a 1 MiB file
(C{static.File}).  Each load is C{h2load -c 10 -m 10} (10 connections,
10 streams in flight on each; for HTTP/1.1, 10 pipelined requests) for
C{--duration} seconds after one second of warm-up, the implementations'
runs interleaved C{--repeat} times and the median taken.  Then memory: the
server's peak RSS above idle while one client runs 100 concurrent streams
of a 16 MiB file (C{h2load -c 1 -m 100 -n 100}).

The server is pinned to core 0 and h2load to core 1 (C{taskset}).  A run
with failed or errored requests is reported as FAILED.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import ipaddress
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from _process import (  # noqa: E402
    ServerFailedError,
    ServerUnavailableError,
    awaitReady,
    cpuSeconds,
    rssKiB,
    spawnLogged,
    stopProcess,
)

H2LOAD = shutil.which("h2load")
TASKSET = shutil.which("taskset")
IMPLS = ("twisted_web", "twisted_web_re")
LABELS = {"twisted_web": "twisted.web", "twisted_web_re": "twisted_web_re"}

#: The resources measured: (label, kind for h2servers.py, URL path).
RESOURCES = (("small", "site", "/"), ("1 MiB file", "file1k", "/one.bin"))

#: The modes: (label, TLS?, h2load options, needs HTTP/2, implementations).
MODES = (
    ("h2 over TLS", True, [], True, IMPLS),
    ("HTTP/1.1 over TLS", True, ["--h1"], False, IMPLS),
    ("h2c prior knowledge", False, [], True, ("twisted_web_re",)),
)

_FINISHED = re.compile(
    rb"finished in [0-9.]+m?s, ([0-9.]+) req/s, ([0-9.]+)([KMG]?)B/s"
)
_REQUESTS = re.compile(
    rb"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
    rb"(\d+) failed, (\d+) errored"
)


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if TASKSET else []


def writeCertificate(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1; return (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert, keyPath = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyPath.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, keyPath


@dataclass
class Running:
    """A running server: its process, port and pid."""

    process: subprocess.Popen[bytes]
    port: int
    pid: int


@contextlib.contextmanager
def serve(
    impl: str, kind: str, root: Path, tls: tuple[Path, Path] | None, needH2: bool
) -> Iterator[Running]:
    """Run one h2servers.py server for the duration of a block."""
    fd, name = tempfile.mkstemp(prefix=f"{impl}-{kind}-", suffix=".log", dir=root)
    argv = [
        *_pin(0),
        sys.executable,
        str(_HERE / "h2servers.py"),
        impl,
        kind,
        "0",
        "--root",
        str(root),
    ]
    if tls is not None:
        argv += ["--tls", str(tls[0]), str(tls[1])]
    if needH2:
        argv.append("--need-h2")
    process = spawnLogged(argv, fd)
    try:
        port, pid = awaitReady(process, Path(name))
        yield Running(process, port, pid)
    finally:
        stopProcess(process)


@dataclass
class Result:
    """One h2load run: requests per second, MB/s, CPU per request, failures."""

    rps: float
    mbps: float
    cpuUsPerReq: float
    failed: int


def h2load(url: str, options: list[str], pid: int, deadline: float) -> Result:
    """Run h2load against C{url}, measuring the server C{pid}'s CPU."""
    assert H2LOAD is not None
    before = cpuSeconds(pid)
    output = subprocess.run(
        [*_pin(1), H2LOAD, "-t", "1", *options, url],
        capture_output=True,
        timeout=deadline,
        check=False,
    ).stdout
    spent = cpuSeconds(pid) - before
    finished = _FINISHED.search(output)
    counts = _REQUESTS.search(output)
    if finished is None or counts is None:
        raise ServerFailedError(output.decode("utf-8", "replace")[-2000:])
    done = int(counts.group(4))
    scale = {b"": 1e-6, b"K": 1e-3, b"M": 1.0, b"G": 1e3}[finished.group(3)]
    return Result(
        float(finished.group(1)),
        float(finished.group(2)) * scale,
        spent / done * 1e6 if done else float("nan"),
        int(counts.group(5)) + int(counts.group(6)) + int(counts.group(1)) - done,
    )


def _fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def measureThroughput(
    args: argparse.Namespace, root: Path, tls: tuple[Path, Path]
) -> None:
    """Print the requests/s table."""
    print(
        f"{'resource':<11} {'mode':<20} {'metric':<14} "
        f"{'twisted.web':>12} {'twisted_web_re':>15} {'ratio':>7}"
    )
    for label, kind, path in RESOURCES:
        for mode, secure, options, needH2, impls in MODES:
            results: dict[str, list[Result]] = {impl: [] for impl in impls}
            unavailable: dict[str, str] = {}
            with contextlib.ExitStack() as stack:
                running: dict[str, Running] = {}
                for impl in impls:
                    try:
                        running[impl] = stack.enter_context(
                            serve(impl, kind, root, tls if secure else None, needH2)
                        )
                    except ServerUnavailableError as e:
                        unavailable[impl] = str(e)
                load = ["-c", "10", "-m", "10", *options]
                for _ in range(args.repeat):
                    for impl, server in running.items():
                        scheme = "https" if secure else "http"
                        url = f"{scheme}://127.0.0.1:{server.port}{path}"
                        h2load(url, [*load, "-n", "200"], server.pid, 60)
                        results[impl].append(
                            h2load(
                                url,
                                [*load, "-D", str(args.duration)],
                                server.pid,
                                args.duration + 60,
                            )
                        )
            medians: dict[str, Result | None] = {}
            for impl in IMPLS:
                runs = results.get(impl) or []
                medians[impl] = (
                    min(
                        runs,
                        key=lambda r: abs(
                            r.rps - statistics.median(x.rps for x in runs)
                        ),
                    )
                    if runs
                    else None
                )
            ours, theirs = medians["twisted_web_re"], medians["twisted_web"]
            for metric, attribute, digits in (
                ("req/s", "rps", 0),
                ("MB/s", "mbps", 1),
                ("CPU us/req", "cpuUsPerReq", 0),
            ):
                a = getattr(theirs, attribute) if theirs else None
                b = getattr(ours, attribute) if ours else None
                ratio = f"{b / a:.2f}x" if a and b else "-"
                print(
                    f"{label:<11} {mode:<20} {metric:<14} {_fmt(a, digits):>12} "
                    f"{_fmt(b, digits):>15} {ratio:>7}"
                )
            for impl, result in medians.items():
                if result is not None and result.failed:
                    print(
                        f"  FAILED: {LABELS[impl]} had {result.failed} failed requests"
                    )
            for impl, why in unavailable.items():
                print(f"  {LABELS[impl]}: unavailable ({why})")
            sys.stdout.flush()


def measureMemory(root: Path, tls: tuple[Path, Path]) -> None:
    """Print peak RSS above idle during 100 concurrent streams of 16 MiB."""
    print("\nmemory: 100 concurrent streams of a 16 MiB file on one h2 connection")
    for impl in IMPLS:
        try:
            with serve(impl, "file1k", root, tls, True) as server:
                idle = rssKiB(server.pid)
                peak = idle
                stop = threading.Event()

                def sample(pid: int = server.pid, stop: threading.Event = stop) -> None:
                    nonlocal peak
                    while not stop.is_set():
                        with contextlib.suppress(RuntimeError, OSError):
                            peak = max(peak, rssKiB(pid))
                        time.sleep(0.01)

                sampler = threading.Thread(target=sample)
                sampler.start()
                try:
                    result = h2load(
                        f"https://127.0.0.1:{server.port}/big.bin",
                        ["-c", "1", "-m", "100", "-n", "100"],
                        server.pid,
                        300,
                    )
                finally:
                    stop.set()
                    sampler.join()
                print(
                    f"  {LABELS[impl]:<15} idle {idle / 1024:7.1f} MiB, peak over idle "
                    f"{(peak - idle) / 1024:7.1f} MiB, {result.mbps:,.0f} MB/s, "
                    f"{result.failed} failed"
                )
        except ServerUnavailableError as e:
            print(f"  {LABELS[impl]:<15} unavailable ({e})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args(argv)
    if H2LOAD is None:
        print("h2load is not installed (apt-get install nghttp2-client)")
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-h2-") as name:
        root = Path(name)
        tls = writeCertificate(root)
        (root / "one.bin").write_bytes(os.urandom(1 << 20))
        (root / "big.bin").write_bytes(os.urandom(16 << 20))
        measureThroughput(args, root, tls)
        if not args.no_memory:
            measureMemory(root, tls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
