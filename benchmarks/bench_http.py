"""
Side-by-side HTTP benchmark: twisted.web against twisted_web_re, in one run.

For each kind of workload (see L{servers.KINDS}) and each implementation, the
driver starts the server from L{servers} pinned to CPU core 0, drives load from
core 1, and reports requests per second and p99 latency (keep-alive and
pipelined), server CPU time per request, and server memory per idle keep-alive
connection, printing both figures and their ratio (ours / twisted.web).  The
static kinds add a large file's MiB/s and CPU per GiB; the upload kind the time
a 50 MiB POST takes and the server's peak memory over idle meanwhile.  The
WSGI kinds also measure gunicorn (one sync worker) when it is installed.
With C{--baseline DIR}, another checkout's twisted_web_re (an older commit,
say) runs as a third column in the same repetitions, with the ratio ours /
baseline: the way to measure a change on a noisy machine.
Quote ratios, not absolute figures: the machines are shared and noisy.

Usage::

    .venv/bin/python benchmarks/bench_http.py [--kinds request,site,deep]
        [--duration 5] [--connections 50] [--repeat 1] [--profile]
    .venv/bin/python benchmarks/bench_http.py
        --kinds file1k,file10m,listing,upload --repeat 3
    .venv/bin/python benchmarks/bench_http.py --kinds wsgi,wsgi1m --repeat 3
    .venv/bin/python benchmarks/bench_http.py --repeat 5 --baseline ../before

See C{benchmarks/README.md} for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import _issue15  # noqa: E402
import _static  # noqa: E402
import servers  # noqa: E402
from _baseline import SERVERS as _SERVERS  # noqa: E402
from _baseline import Baseline, BaselineError, probe  # noqa: E402
from _loadgen import (  # noqa: E402
    MIB,
    LoadError,
    LoadGenerator,
    LoadResult,
    PythonLoad,
    Wrk,
    checkServer,
    idleMemory,
)
from _newconn import newConnectionLoad  # noqa: E402
from _peers import PEER_NAMES, choosePeers, peersFor  # noqa: E402
from _table import (  # noqa: E402
    BASELINE,
    GUNICORN_LABEL,
    GUNICORN_SLOT,
    Row,
    columnNames,
    printTable,
)

READY_TIMEOUT = 30.0
"""Seconds a server gets to print its READY line."""
STOP_TIMEOUT = 10.0
"""Seconds a server (or profiler) gets to exit after being signalled."""
WARMUP_SECONDS = 1.0
"""Unmeasured load each server gets before its first measured run."""
IDLE_WARMUP = 20
"""Connections used and closed before the idle-memory baseline."""
SETTLE_SECONDS = 0.5
"""Pause before reading a server's idle memory."""
BYTES_KINDS = ("file10m",)
"""Kinds measured in MiB/s rather than requests/s."""
USAGE_STATUS = 2
"""The exit status of a C{servers.py} that refused its arguments (argparse)."""

_LINE_NUMBER = re.compile(r":\d+\)$")

LABELS = {
    "twisted_web": "twisted.web",
    "twisted_web_re": "twisted_web_re",
    servers.GUNICORN: GUNICORN_LABEL,
}


@dataclasses.dataclass
class Cores:
    """
    Where things run: the server on one core, the load on another.

    @ivar server: the server's core, or L{None} not to pin it.
    @ivar load: the load generator's (and driver's) core, or L{None}.
    """

    server: int | None = 0
    load: int | None = 1

    def prefix(self, core: int | None) -> list[str]:
        """
        @param core: a core, or L{None}.
        @return: a command prefix pinning a command to C{core}, possibly empty.
        """
        if core is None or shutil.which("taskset") is None:
            return []
        return ["taskset", "-c", str(core)]


# -- /proc ---------------------------------------------------------------------


def cpuSeconds(pid: int) -> float:
    """
    Read a process's user+system CPU time from C{/proc/PID/stat}.

    @param pid: the process.
    @return: CPU seconds consumed so far.
    """
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces and parentheses, so split after the last
    # ")"; utime and stime are fields 14 and 15 of the whole line (proc(5)).
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rssKiB(pid: int) -> int:
    """
    Read a process's resident set size.

    @param pid: the process.
    @return: RSS in KiB, from C{smaps_rollup} when the kernel has it, else
        C{VmRSS} from C{/proc/PID/status}.
    @raise RuntimeError: if neither file gives a figure.
    """
    for name, key in (("smaps_rollup", "Rss:"), ("status", "VmRSS:")):
        try:
            text = Path(f"/proc/{pid}/{name}").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    raise RuntimeError(f"no RSS figure for pid {pid}")


# -- server processes ------------------------------------------------------------


class ServerUnavailableError(Exception):
    """
    The implementation cannot serve this kind yet (the server said so).
    """


class ServerRejectedError(ServerUnavailableError):
    """
    The server's C{servers.py} refused its command line: a baseline
    checkout's, older than this one, that does not know the kind.
    """


class ServerFailedError(Exception):
    """
    The server process failed to start or to answer correctly.
    """


@dataclasses.dataclass(frozen=True)
class Contender:
    """
    One server measured in the run, and its column in the report.

    @ivar slot: its key in L{Row.figures}.
    @ivar impl: the implementation name its C{servers.py} takes.
    @ivar label: its display name.
    @ivar script: the C{servers.py} that serves it.
    @ivar missing: the figure shown for a kind it cannot serve.
    @ivar kinds: the kinds its C{servers.py} knows, or L{None} for all.
    @ivar modes: the row keys (L{Mode.key}, C{"idle"}) it is measured in, or
        L{None} for all.
    """

    slot: int
    impl: str
    label: str
    script: Path = _HERE / "servers.py"
    missing: str = "n/a"
    kinds: tuple[str, ...] | None = None
    modes: tuple[str, ...] | None = None

    def takes(self, key: str) -> bool:
        """
        @param key: a row key: L{Mode.key}, or C{"idle"}.
        @return: whether this contender is measured in that mode.
        """
        return self.modes is None or key in self.modes


def contenders(
    args: argparse.Namespace, kind: str | None = None, key: str | None = None
) -> list[Contender]:
    """
    The servers to measure, in the order each repetition runs them: the two
    implementations compared, the baseline checkout's twisted_web_re (with
    C{--baseline}), gunicorn (for the WSGI kinds, when C{args.gunicorn}),
    then the peers chosen (C{args.peerList}) that serve the kind.

    @param args: the parsed command line; C{args.baselineCheckout} is the
        L{Baseline} or L{None}.
    @param kind: the kind measured, or L{None} for runs neither gunicorn nor
        the peers take part in.
    @param key: the row key measured (C{"idle"}), or L{None} for the loads
        (each contender then says which modes it L{takes <Contender.takes>}).
    @return: the contenders.
    """
    names = columnNames([LABELS.get(impl, impl) for impl in args.impls])
    found = [
        Contender(slot, impl, name)
        for slot, (impl, name) in enumerate(zip(args.impls, names, strict=True))
    ]
    base: Baseline | None = args.baselineCheckout
    if base is not None:
        found.append(
            Contender(
                BASELINE, "twisted_web_re", base.label, base.script, "-", base.kinds
            )
        )
    # gunicorn's sync worker closes every connection: it has no idle figure.
    if kind in servers.WSGI_KINDS and args.gunicorn and key != "idle":
        found.append(Contender(GUNICORN_SLOT, servers.GUNICORN, GUNICORN_LABEL))
    for peer in peersFor(getattr(args, "peerList", ()), kind):
        if key is None or key in peer.modes:
            found.append(Contender(peer.slot, peer.impl, peer.label, modes=peer.modes))
    return found


@dataclasses.dataclass
class Server:
    """
    A running benchmark server.

    @ivar impl: the implementation name.
    @ivar kind: the kind of workload.
    @ivar process: the process we started.
    @ivar port: the port it listens on.
    @ivar pid: the server's own process id, as it reported it (C{taskset}
        execs the server, so this is C{process.pid}).
    @ivar log: the file holding its standard output and error.
    @ivar label: the display name.
    """

    impl: str
    kind: str
    process: subprocess.Popen[bytes]
    port: int
    pid: int
    log: Path
    label: str

    @property
    def path(self) -> str:
        """
        @return: the URL path the hello-world answer lives at.
        """
        return servers.PATHS[self.kind]


def _tail(path: Path, lines: int = 15) -> str:
    """
    @return: the last lines of a log file, indented for a report.
    """
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def stopProcess(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """
    Stop a process we started: signal it, wait with a deadline, then kill it.

    The process was started in a session of its own, so anything it started
    is killed with it.

    @param process: the process.
    @param sig: the first signal to send.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def runServer(
    impl: str,
    kind: str,
    cores: Cores,
    workdir: Path,
    extra: Sequence[str] = (),
    contender: Contender | None = None,
) -> Iterator[Server]:
    """
    Run a benchmark server for the duration of a block, then stop it.

    @param impl: the implementation name.
    @param kind: the kind of workload.
    @param cores: where to pin it.
    @param workdir: where to keep the server's log.
    @param extra: more arguments for L{servers.main}.
    @param contender: the server, when it is not C{impl} served by this
        checkout's C{servers.py} (a baseline's, say).
    @raise ServerUnavailableError: if the implementation lacks the kind.
    @raise ServerFailedError: if the server does not start.
    """
    if contender is None:
        contender = Contender(-1, impl, LABELS.get(impl, impl))
    prefix = f"{contender.label.replace('/', '_')}-{kind}-"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".log", dir=workdir)
    log = Path(name)
    argv = [
        *cores.prefix(cores.server),
        sys.executable,
        str(contender.script),
        impl,
        kind,
        "0",
        *extra,
    ]
    with os.fdopen(fd, "wb") as out:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        port, pid = _awaitReady(process, log)
        yield Server(impl, kind, process, port, pid, log, contender.label)
    finally:
        stopProcess(process)


def _awaitReady(process: subprocess.Popen[bytes], log: Path) -> tuple[int, int]:
    """
    Wait, with a deadline, for a server to say it is ready.

    @return: its port and process id.
    @raise ServerUnavailableError: if it said it cannot serve the kind.
    @raise ServerRejectedError: if it refused its command line (a
        C{servers.py} that does not know the kind).
    @raise ServerFailedError: if it exited or stayed silent.
    """
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("READY "):
                _, port, pid = line.split()
                return int(port), int(pid)
            if line.startswith("UNAVAILABLE "):
                raise ServerUnavailableError(line.removeprefix("UNAVAILABLE "))
        if process.poll() is not None:
            if process.returncode == USAGE_STATUS and "usage:" in _tail(log):
                raise ServerRejectedError(_tail(log, 1).strip())
            raise ServerFailedError(
                f"server exited with status {process.returncode}:\n{_tail(log)}"
            )
        time.sleep(0.05)
    raise ServerFailedError(f"server not ready after {READY_TIMEOUT}s:\n{_tail(log)}")


def serverOptions(kind: str, args: argparse.Namespace) -> list[str]:
    """
    @return: the options L{servers.main} needs for C{kind}: the directory to
        publish for the static kinds.
    """
    if kind in servers.STATIC_KINDS:
        return ["--root", str(args.root)]
    return []


def startChecked(
    stack: contextlib.ExitStack,
    contender: Contender,
    kind: str,
    cores: Cores,
    workdir: Path,
    args: argparse.Namespace,
) -> Server:
    """
    Start a server inside C{stack} and check that it answers correctly.

    The hello-world kinds and C{wsgi} must answer L{servers.BODY}; the
    static kinds the file written for them (or a listing naming every file);
    the upload kind the length of a small body POSTed to it; C{wsgi1m} its
    256 pieces.

    @raise ServerUnavailableError: if the implementation lacks the kind, or
        the contender's C{servers.py} does not know it.
    @raise ServerFailedError: if it does not start or answers wrongly.
    """
    if contender.kinds is not None and kind not in contender.kinds:
        raise ServerUnavailableError(f"its servers.py has no kind {kind!r}")
    impl = contender.impl
    server = stack.enter_context(
        runServer(impl, kind, cores, workdir, serverOptions(kind, args), contender)
    )
    if kind in servers.STATIC_KINDS:
        # twisted.web stalls when a request is pipelined behind a large file
        # it is streaming; the load never pipelines there, so neither does
        # the check.
        problem = checkServer(
            server.port,
            server.path,
            args.checks[kind],
            pipelined=kind not in BYTES_KINDS,
        )
    elif kind == servers.UPLOAD_KIND:
        problem = checkServer(
            server.port,
            server.path,
            _static.checkUpload,
            _static.checkRequest(server.port, server.path),
        )
    else:
        body = servers.BODY
        if kind == servers.BIG_WSGI_KIND:
            body = servers.wsgiPiece() * servers.WSGI_PIECES
        # gunicorn's sync worker closes the connection after each response.
        responses = 1 if impl == servers.GUNICORN else 2
        problem = checkServer(server.port, server.path, body, responses=responses)
    if problem:
        raise ServerFailedError(
            f"wrong answer from http://127.0.0.1:{server.port}{server.path}:"
            f" {problem}\n{_tail(server.log)}"
        )
    return server


def measureLoad(
    load: LoadGenerator, server: Server, connections: int, seconds: float, depth: int
) -> LoadResult:
    """
    Run one load and charge the server's CPU time during it to its requests.

    @return: the load result with C{cpuSeconds} filled in.
    """
    before = cpuSeconds(server.pid)
    result = load.run(server.port, server.path, connections, seconds, depth)
    result.cpuSeconds = cpuSeconds(server.pid) - before
    if server.process.poll() is not None:
        raise LoadError(f"server died:\n{_tail(server.log)}")
    return result


# -- the runs ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Mode:
    """
    One way of loading a kind: its connections and requests per write.

    @ivar key: the rows' key (C{"ka"}, C{"pl"}, C{"nc"} for a new connection
        per request).
    @ivar label: the name in the report.
    @ivar depth: requests per write: 1 for plain keep-alive.
    @ivar connections: concurrent keep-alive connections.
    @ivar goal: the target for the headline row, for the reader.
    """

    key: str
    label: str
    depth: int
    connections: int
    goal: str = ""


def modesFor(kind: str, args: argparse.Namespace) -> list[Mode]:
    """
    @return: the load runs C{kind} is measured with.
    """
    depth = args.pipeline
    if kind in servers.WSGI_KINDS:
        goal = ">=2x" if kind != servers.BIG_WSGI_KIND else ""
        return [Mode("ka", "keep-alive", 1, args.connections, goal)]
    if kind in BYTES_KINDS:
        n = args.big_connections
        return [Mode("ka", f"keep-alive x{n} conns", 1, n, ">=2x")]
    keepAlive = Mode("ka", "keep-alive", 1, args.connections, ">=3x")
    if kind == "listing":
        return [keepAlive]
    goal = ">=5x" if kind in servers.HELLO_KINDS else ""
    modes = [
        keepAlive,
        Mode("pl", f"pipelined x{depth}", depth, args.connections, goal),
    ]
    if kind in servers.HELLO_KINDS and args.newConnectionLoad is not None:
        label = f"new connection ({args.newConnectionLoad.name})"
        modes.append(Mode("nc", label, 1, args.connections, ">=2x"))
    return modes


def _modeRows(kind: str, mode: Mode) -> dict[str, Row]:
    """
    @return: the report rows for one mode of one kind, by key.
    """
    if kind in BYTES_KINDS:
        return {
            mode.key: Row(kind, mode.label, "MiB/s", mode.goal, key=mode.key),
            mode.key + "cpu": Row(kind, f"{mode.label} server CPU", "ms/GiB"),
        }
    latency = "p99/batch" if mode.depth > 1 else "p99"
    rows = {mode.key: Row(kind, mode.label, "req/s", mode.goal, key=mode.key)}
    if kind == servers.BIG_WSGI_KIND:
        rows[mode.key + "mib"] = Row(kind, mode.label, "MiB/s")
    rows[mode.key + "99"] = Row(kind, f"{mode.label} {latency}", "ms")
    rows[mode.key + "cpu"] = Row(kind, f"{mode.label} server CPU", "us/req")
    return rows


def _progress(kind: str, mode: Mode, label: str, r: LoadResult) -> str:
    """
    @return: the progress line for one load run.
    """
    busy = 100 * r.cpuSeconds / r.seconds if r.seconds > 0 else 0.0
    if kind in BYTES_KINDS:
        figures = (
            f" {r.mibPerSecond:9,.0f} MiB/s  {r.rps:7,.1f} req/s"
            f"  cpu {r.cpuMillisPerGiB:6.0f} ms/GiB"
        )
    else:
        mib = f"  {r.mibPerSecond:6,.0f} MiB/s" if kind == servers.BIG_WSGI_KIND else ""
        figures = (
            f" {r.rps:9,.0f} req/s{mib}  p99 {r.p99Ms:7.2f} ms"
            f"  cpu {r.cpuMicrosPerRequest:6.1f} us/req"
        )
    return (
        f"  {kind:8} {mode.label:19} {label:16}{figures}"
        f" (busy {busy:3.0f}%)  errors {r.errors}"
    )


def runKind(
    kind: str,
    args: argparse.Namespace,
    cores: Cores,
    load: LoadGenerator,
    workdir: Path,
    log: IO[str],
) -> list[Row]:
    """
    Benchmark one kind on every contender, interleaving their runs.

    All the servers are up at once (the idle ones wait in epoll and cost
    nothing); each repetition runs them in turn (see L{contenders}), so drift
    in the machine's load spreads over all of them.

    @return: the report rows for this kind.
    """
    modes = modesFor(kind, args)
    rows: dict[str, Row] = {}
    for mode in modes:
        rows.update(_modeRows(kind, mode))
    bytesKind = kind in BYTES_KINDS

    def mark(slot: int, word: str) -> None:
        for row in rows.values():
            row.figures.setdefault(slot, word)

    with contextlib.ExitStack() as stack:
        running: dict[int, Server] = {}
        takes: dict[int, Contender] = {}
        for c in contenders(args, kind):
            takes[c.slot] = c
            try:
                server = startChecked(stack, c, kind, cores, workdir, args)
                load.run(
                    server.port, server.path, modes[0].connections, WARMUP_SECONDS, 1
                )
            except ServerUnavailableError as e:
                print(f"  {kind}: {c.label} not available ({e})", file=log)
                mark(c.slot, c.missing)
                continue
            except (ServerFailedError, LoadError) as e:
                print(f"  {kind}: {c.label} FAILED: {e}", file=log)
                mark(c.slot, "FAILED")
                continue
            running[c.slot] = server

        for mode in modes:
            keys = [k for k in rows if k.startswith(mode.key)]
            modeLoad = args.newConnectionLoad if mode.key == "nc" else load
            results: dict[int, list[LoadResult]] = {
                slot: [] for slot in running if takes[slot].takes(mode.key)
            }
            for _ in range(args.repeat):
                for slot in results:
                    server = running[slot]
                    try:
                        r = measureLoad(
                            modeLoad,
                            server,
                            mode.connections,
                            args.duration,
                            mode.depth,
                        )
                    except LoadError as e:
                        print(
                            f"  {kind} {mode.label}: {server.label} FAILED: {e}",
                            file=log,
                        )
                        continue
                    results[slot].append(r)
                    print(_progress(kind, mode, server.label, r), file=log, flush=True)
            for slot, got in results.items():
                if not got:
                    for key in keys:
                        rows[key].figures[slot] = "FAILED"
                    continue
                if bytesKind:
                    median = sorted(got, key=lambda r: r.mibPerSecond)[len(got) // 2]
                    rows[mode.key].figures[slot] = median.mibPerSecond
                    rows[mode.key + "cpu"].figures[slot] = median.cpuMillisPerGiB
                else:
                    median = sorted(got, key=lambda r: r.rps)[len(got) // 2]
                    rows[mode.key].figures[slot] = median.rps
                    if kind == servers.BIG_WSGI_KIND:
                        rows[mode.key + "mib"].figures[slot] = median.mibPerSecond
                    rows[mode.key + "99"].figures[slot] = median.p99Ms
                    rows[mode.key + "cpu"].figures[slot] = median.cpuMicrosPerRequest
                rows[mode.key].busy[slot] = median.cpuSeconds / median.seconds
                errors = sum(r.errors for r in got)
                if errors:
                    rows[mode.key].notes.append(
                        f"{running[slot].label}: {errors} socket errors"
                        " or non-2xx/3xx responses"
                    )
    return list(rows.values())


@dataclasses.dataclass
class UploadRun:
    """
    What one upload observed.

    @ivar seconds: from connecting to the complete answer.
    @ivar cpuSeconds: server user+system CPU seconds meanwhile.
    @ivar peakKiB: the server's highest resident memory meanwhile.
    @ivar idleKiB: the server's resident memory before its first upload.
    """

    seconds: float
    cpuSeconds: float
    peakKiB: int
    idleKiB: int

    @property
    def overIdleMiB(self) -> float:
        """
        @return: peak resident memory above idle, in MiB.
        """
        return (self.peakKiB - self.idleKiB) / 1024


def runUpload(
    args: argparse.Namespace, cores: Cores, workdir: Path, log: IO[str]
) -> list[Row]:
    """
    Time large uploads on every contender and watch their memory.

    All the servers are up at once and the uploads alternate between them.
    Each server's idle memory is read once, after its check and before its
    first upload; each upload's peak is compared with it.

    @return: the report rows.
    """
    kind = servers.UPLOAD_KIND
    size = args.upload_mib * MIB
    rows = {
        "rate": Row(kind, f"POST {args.upload_mib} MiB", "MiB/s", ">=1x", key="rate"),
        "cpu": Row(kind, f"POST {args.upload_mib} MiB server CPU", "ms/GiB"),
        "mem": Row(kind, "peak RSS over idle", "MiB", "a few MiB", key="mem"),
    }
    with contextlib.ExitStack() as stack:
        running: dict[int, Server] = {}
        idle: dict[int, int] = {}
        for c in contenders(args):
            try:
                server = startChecked(stack, c, kind, cores, workdir, args)
                time.sleep(SETTLE_SECONDS)
                idle[c.slot] = _static.statusKiB(server.pid, "VmRSS")
            except ServerUnavailableError as e:
                print(f"  {kind}: {c.label} not available ({e})", file=log)
                for row in rows.values():
                    row.figures[c.slot] = c.missing
                continue
            except (ServerFailedError, OSError, RuntimeError) as e:
                print(f"  {kind}: {c.label} FAILED: {e}", file=log)
                for row in rows.values():
                    row.figures[c.slot] = "FAILED"
                continue
            running[c.slot] = server

        results: dict[int, list[UploadRun]] = {slot: [] for slot in running}
        for _ in range(args.uploads):
            for slot, server in running.items():
                try:
                    before = cpuSeconds(server.pid)
                    with _static.PeakMemory(server.pid) as peak:
                        seconds = _static.upload(
                            server.port, server.path, size, args.upload_deadline
                        )
                    run = UploadRun(
                        seconds,
                        cpuSeconds(server.pid) - before,
                        peak.peakKiB,
                        idle[slot],
                    )
                except (LoadError, OSError) as e:
                    print(f"  {kind}: {server.label} FAILED: {e}", file=log)
                    continue
                results[slot].append(run)
                rate = args.upload_mib / run.seconds
                print(
                    f"  {kind:8} {'POST':19} {server.label:16}"
                    f" {run.seconds:7.3f} s  {rate:7,.0f} MiB/s"
                    f"  cpu {run.cpuSeconds:6.3f} s"
                    f"  RSS idle {run.idleKiB / 1024:6.1f} MiB,"
                    f" peak {run.peakKiB / 1024:6.1f} MiB"
                    f" (+{run.overIdleMiB:.2f}; {peak.samples} samples"
                    f"{', VmHWM' if peak.usedHighWater else ''})",
                    file=log,
                    flush=True,
                )
        for slot, got in results.items():
            if not got:
                for row in rows.values():
                    row.figures[slot] = "FAILED"
                continue
            median = sorted(got, key=lambda r: r.seconds)[len(got) // 2]
            rows["rate"].figures[slot] = args.upload_mib / median.seconds
            # /proc counts CPU time in ticks (10 ms) and an upload takes tens
            # of them at most: charge all the uploads' CPU to all their bytes.
            gib = len(got) * args.upload_mib / 1024
            rows["cpu"].figures[slot] = 1e3 * sum(r.cpuSeconds for r in got) / gib
            rows["mem"].figures[slot] = max(r.overIdleMiB for r in got)
            if len(got) < args.uploads:
                rows["rate"].notes.append(
                    f"{running[slot].label}: {args.uploads - len(got)} uploads failed"
                )
    return list(rows.values())


def runIdleMemory(
    kind: str,
    args: argparse.Namespace,
    cores: Cores,
    workdir: Path,
    log: IO[str],
) -> Row:
    """
    Measure memory per idle keep-alive connection, each on a fresh server.

    @return: the report row.
    """
    count = args.idle_connections
    row = Row(kind, f"idle keep-alive x{count}", "KiB/conn", "<=1x", key="idle")
    for c in contenders(args, kind, "idle"):
        slot, label = c.slot, c.label
        try:
            with contextlib.ExitStack() as stack:
                server = startChecked(stack, c, kind, cores, workdir, args)
                idle = idleMemory(
                    server.port,
                    server.path,
                    count,
                    IDLE_WARMUP,
                    functools.partial(rssKiB, server.pid),
                )
        except ServerUnavailableError:
            row.figures[slot] = c.missing
            continue
        except (ServerFailedError, LoadError, OSError, RuntimeError) as e:
            print(f"  {kind} idle: {label} FAILED: {e}", file=log)
            row.figures[slot] = "FAILED"
            continue
        row.figures[slot] = idle.kibPerConnection
        print(
            f"  {kind:8} {'idle':14} {label:16} RSS {idle.before:,} -> {idle.after:,}"
            f" KiB over {idle.open} open connections:"
            f" {idle.kibPerConnection:.2f} KiB/conn",
            file=log,
            flush=True,
        )
        if idle.open < count:
            row.notes.append(
                f"{label}: only {idle.open} of {count} connections"
                f" open when measured ({idle.established} established)"
            )
    return row


def runProfile(
    kinds: Sequence[str],
    args: argparse.Namespace,
    cores: Cores,
    load: LoadGenerator,
    workdir: Path,
    log: IO[str],
) -> None:
    """
    Profile our server (the second implementation) under load, per kind.

    Uses py-spy, attached to the running server, when installed, else
    pyinstrument inside the server.  These runs are separate from the
    measured ones: a profiler slows the server down.
    """
    impl = args.impls[1]
    outdir = Path(args.profile_dir)
    outdir.mkdir(parents=True, exist_ok=True)
    pyspy = None
    if args.profiler in ("auto", "py-spy"):
        pyspy = shutil.which("py-spy") or _besideInterpreter("py-spy")
        if pyspy is None and args.profiler == "py-spy":
            print("  py-spy is not installed; using pyinstrument", file=log)
    suffix = {"raw": ".txt", "flamegraph": ".svg", "speedscope": ".json"}
    for kind in kinds:
        stem = f"{impl}-{kind}"
        if pyspy:
            target = outdir / f"{stem}.py-spy{suffix[args.profile_format]}"
            extra: list[str] = []
        else:
            target = outdir / f"{stem}.pyinstrument.txt"
            extra = ["--pyinstrument", str(target)]
        extra += serverOptions(kind, args)
        try:
            with runServer(impl, kind, cores, workdir, extra) as server:
                spy = _startPySpy(pyspy, server, target, args, cores) if pyspy else None
                try:
                    if kind == servers.UPLOAD_KIND:
                        for _ in range(args.uploads):
                            _static.upload(
                                server.port,
                                server.path,
                                args.upload_mib * MIB,
                                args.upload_deadline,
                            )
                    else:
                        for mode in modesFor(kind, args):
                            modeLoad = load
                            if mode.key == "nc":
                                modeLoad = args.newConnectionLoad
                            modeLoad.run(
                                server.port,
                                server.path,
                                mode.connections,
                                args.duration,
                                mode.depth,
                            )
                finally:
                    if spy is not None:
                        # py-spy writes its output when interrupted.
                        stopProcess(spy, signal.SIGINT)
        except ServerUnavailableError as e:
            print(
                f"  {kind}: {LABELS.get(impl, impl)} not available yet ({e})", file=log
            )
            continue
        except (ServerFailedError, LoadError) as e:
            print(f"  {kind}: profiling FAILED: {e}", file=log)
            continue
        if not target.exists():
            print(f"  {kind}: no profile written to {target}", file=log)
            continue
        print(f"  {kind}: profile of {LABELS.get(impl, impl)} in {target}", file=log)
        if pyspy and args.profile_format == "raw":
            summariseCollapsed(target, log)


def _startPySpy(
    pyspy: str, server: Server, target: Path, args: argparse.Namespace, cores: Cores
) -> subprocess.Popen[bytes]:
    """
    Attach py-spy to a running server, writing its profile to C{target}.
    """
    spy = subprocess.Popen(
        [
            *cores.prefix(cores.load),
            pyspy,
            "record",
            "--pid",
            str(server.pid),
            "--rate",
            "250",
            "--format",
            args.profile_format,
            "--output",
            str(target),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(1.0)  # let it attach before the load starts
    return spy


def _besideInterpreter(name: str) -> str | None:
    """
    @return: a tool installed beside the running interpreter, if there is one.
    """
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


def summariseCollapsed(path: Path, out: IO[str], top: int = 15) -> None:
    """
    Print the hottest functions of a py-spy C{raw} (collapsed stacks) profile.

    @param path: the profile: one C{frame;frame;... count} line per stack.
    @param out: where to print.
    @param top: how many functions to list.
    """
    selfCounts: Counter[str] = Counter()
    totalCounts: Counter[str] = Counter()
    samples = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        # Count functions, not lines: "f (file.py:12)" -> "f (file.py)".
        frames = [_LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]
        samples += n
        selfCounts[frames[-1]] += n
        for frame in set(frames):
            totalCounts[frame] += n
    if not samples:
        print("    (no samples)", file=out)
        return
    # Frames on (nearly) every stack are the reactor's scaffolding: skip them.
    inclusive = Counter(
        {frame: n for frame, n in totalCounts.items() if n < 0.9 * samples}
    )
    for title, counts in (("self", selfCounts), ("inclusive", inclusive)):
        print(f"    top {top} functions by {title} time ({samples} samples):", file=out)
        for frame, n in counts.most_common(top):
            print(f"      {100 * n / samples:5.1f}%  {frame}", file=out)


# -- the command line --------------------------------------------------------------


def parseArguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """
    @return: the parsed command line.
    """
    parser = argparse.ArgumentParser(
        description="Benchmark twisted.web and twisted_web_re side by side.",
    )
    parser.add_argument(
        "--kinds",
        default=",".join(servers.HELLO_KINDS),
        help="comma-separated workloads to run, from "
        + ", ".join(servers.KINDS)
        + ", or all; issue15 stands for "
        + ",".join(_issue15.KINDS)
        + " with --new-connection, and adds issue 15's summary table"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--new-connection",
        action="store_true",
        help="also load the hello kinds with a new connection per request"
        " (ab, else wrk with Connection: close)",
    )
    parser.add_argument(
        "--peers",
        default="auto",
        help="servers measured for reference where they serve the kind: "
        + ", ".join(PEER_NAMES)
        + "; auto is all of them that are installed, none is none"
        " (default: %(default)s)",
    )
    parser.add_argument(
        "--duration", type=float, default=5.0, help="seconds per load run (default 5)"
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=50,
        help="concurrent keep-alive connections (default 50)",
    )
    parser.add_argument(
        "--pipeline",
        type=int,
        default=16,
        help="requests per write when pipelining (default 16)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="load runs per implementation and mode, interleaved; the median"
        " is reported (default 1)",
    )
    parser.add_argument(
        "--big-connections",
        type=int,
        default=4,
        help="keep-alive connections fetching the 10 MiB file (default 4)",
    )
    parser.add_argument(
        "--uploads",
        type=int,
        default=10,
        help="uploads per implementation, interleaved; the median time is"
        " reported (default 10)",
    )
    parser.add_argument(
        "--upload-mib",
        type=int,
        default=50,
        help="size of each upload in MiB (default 50)",
    )
    parser.add_argument(
        "--upload-deadline",
        type=float,
        default=60.0,
        help="seconds each upload may take before it counts as failed (default 60)",
    )
    parser.add_argument(
        "--idle-connections",
        type=int,
        default=2000,
        help="idle keep-alive connections for the memory figure; 0 skips it"
        " (default 2000)",
    )
    parser.add_argument(
        "--idle-kinds",
        default="request,site",
        help="kinds to measure idle-connection memory on (default: %(default)s)",
    )
    parser.add_argument(
        "--gunicorn",
        choices=("auto", "yes", "no"),
        default="auto",
        help="also measure gunicorn (one sync worker) on the WSGI kinds; auto"
        " does when it is installed and the load is by wrk (default auto)",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        type=Path,
        help="another checkout of twisted_web_re (an older commit's git worktree,"
        " say) whose servers run as a third column, baseline@REV, interleaved"
        " with the two others, with the ratio ours / baseline",
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator; auto uses wrk when installed (default auto)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, profile our server under load (py-spy, else pyinstrument)",
    )
    parser.add_argument(
        "--profiler",
        choices=("auto", "py-spy", "pyinstrument"),
        default="auto",
        help="profiler for --profile; auto prefers py-spy (default auto)",
    )
    parser.add_argument(
        "--profile-dir",
        default=str(Path(tempfile.gettempdir()) / "twisted_web_re-profiles"),
        help="where profiles are written (default: %(default)s)",
    )
    parser.add_argument(
        "--profile-format",
        choices=("raw", "flamegraph", "speedscope"),
        default="raw",
        help="py-spy output format; raw (collapsed stacks) also prints the"
        " hottest functions (default raw)",
    )
    # Debugging the driver before twisted_web_re can serve: for instance
    # --impls twisted_web,twisted_web compares twisted.web with itself.
    parser.add_argument(
        "--impls", default="twisted_web,twisted_web_re", help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.kinds.strip() == "all":
        args.kinds = ",".join(servers.KINDS)
    kinds = [k.strip() for k in args.kinds.split(",")]
    args.summary = _issue15.PRESET in kinds
    if args.summary:
        args.new_connection = True
        kinds = [k for k in kinds if k != _issue15.PRESET]
        kinds += [k for k in _issue15.KINDS if k not in kinds]
    args.kinds = _choices(parser, ",".join(kinds), servers.KINDS, "--kinds")
    if args.peers.strip() in ("auto", "none"):
        args.peers = PEER_NAMES if args.peers.strip() == "auto" else ()
    else:
        args.peers = _choices(parser, args.peers, PEER_NAMES, "--peers")
    # Filled in by main(), which knows what is installed.
    args.peerList = []
    args.newConnectionLoad = None
    getKinds = tuple(k for k in servers.KINDS if k != servers.UPLOAD_KIND)
    args.idle_kinds = _choices(parser, args.idle_kinds, getKinds, "--idle-kinds")
    args.impls = _choices(parser, args.impls, tuple(servers.IMPLS), "--impls")
    if len(args.impls) != 2:
        parser.error("--impls takes exactly two implementations")
    if min(args.duration, args.connections, args.pipeline, args.repeat) <= 0:
        parser.error("--duration, --connections, --pipeline, --repeat must be > 0")
    if min(args.big_connections, args.uploads, args.upload_mib) <= 0:
        parser.error("--big-connections, --uploads, --upload-mib must be > 0")
    if args.upload_deadline <= 0:
        parser.error("--upload-deadline must be > 0")
    if args.idle_connections < 0:
        parser.error("--idle-connections must not be negative")
    if args.baseline is not None and not (args.baseline / _SERVERS).is_file():
        parser.error(f"--baseline: {args.baseline} has no {_SERVERS}")
    return args


def _choices(
    parser: argparse.ArgumentParser, value: str, allowed: Sequence[str], flag: str
) -> list[str]:
    """
    @return: the comma-separated items of C{value}, each checked.
    """
    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        if item not in allowed:
            parser.error(f"{flag}: unknown {item!r}; choose from {', '.join(allowed)}")
    return items


def _terminate(signum: int, frame: object) -> None:
    """
    Turn SIGTERM into an exception, so that cleanup code runs.
    """
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the benchmark and print the report.

    @return: the exit status.
    """
    args = parseArguments(argv)
    log = sys.stdout
    args.baselineCheckout = None
    if args.baseline is not None:
        try:
            args.baselineCheckout = probe(args.baseline)
        except BaselineError as e:
            print(f"bench_http: --baseline: {e}", file=sys.stderr)
            return 2
    # Interrupted or terminated, unwind through the finally blocks that stop
    # the servers and load generators (a shell may start us ignoring SIGINT).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)

    # The driver holds the client ends of the idle connections.
    limit = servers.raiseFileLimit()
    if args.idle_connections + 100 > limit:
        args.idle_connections = max(0, limit - 100)
        print(f"open-file limit {limit}: idle connections cut to", end=" ", file=log)
        print(args.idle_connections, file=log)

    cores = Cores()
    if {0, 1} <= os.sched_getaffinity(0):
        # The driver's own work (checks, the Python clients) belongs on the
        # load core, away from the server.
        os.sched_setaffinity(0, {1})
    else:
        print("fewer than two usable cores: server and load share one", file=log)
        cores = Cores(None, None)

    with tempfile.TemporaryDirectory(prefix="bench_http-") as tmp:
        workdir = Path(tmp)
        wrk = shutil.which("wrk")
        load: LoadGenerator
        if args.loadgen == "python" or (args.loadgen == "auto" and not wrk):
            load = PythonLoad()
        elif wrk:
            load = Wrk(wrk, cores.prefix(cores.load), workdir)
        else:
            print("bench_http: wrk is not installed", file=sys.stderr)
            return 2
        # The Python load generator does not reconnect, and gunicorn's sync
        # worker closes the connection after each response.
        args.gunicorn = args.gunicorn == "yes" or (
            args.gunicorn == "auto"
            and isinstance(load, Wrk)
            and importlib.util.find_spec("gunicorn") is not None
        )
        args.peerList = choosePeers(args.peers, log)
        if args.new_connection:
            args.newConnectionLoad, how = newConnectionLoad(
                cores.prefix(cores.load), workdir
            )
            print(f"new connection per request: {how}", file=log)
        names = [c.label for c in contenders(args)]
        print(
            f"bench_http: {' vs '.join(names)}; load by {load.name},"
            f" {args.connections} connections, {args.duration:g}s per run,"
            f" pipeline depth {args.pipeline}, repeat {args.repeat};"
            f" server on core {cores.server}, load on core {cores.load};"
            f" peers: {', '.join(p.label for p in args.peerList) or 'none'}",
            file=log,
            flush=True,
        )
        base: Baseline | None = args.baselineCheckout
        if base is not None:
            print(
                f"{base.label}: {base.script} serving twisted_web_re from"
                f" {base.module.parent}",
                file=log,
            )
        # The files the static kinds serve: written afresh for each run, and
        # deleted with the working directory.
        args.root = workdir / "www"
        args.checks = {}
        if set(args.kinds) & set(servers.STATIC_KINDS):
            args.root.mkdir()
            args.checks = _static.makeTree(args.root)
        rows: list[Row] = []
        for kind in args.kinds:
            if kind == servers.UPLOAD_KIND:
                rows += runUpload(args, cores, workdir, log)
                continue
            rows += runKind(kind, args, cores, load, workdir, log)
            if args.idle_connections and kind in args.idle_kinds:
                rows.append(runIdleMemory(kind, args, cores, workdir, log))
        print(file=log)
        printTable(rows, names[:2], log, base.label if base else None)
        if args.summary:
            print(file=log)
            _issue15.printSummary(rows, names[:2], log, base.label if base else None)
        if args.profile:
            print("\nprofiling (separate runs, not measured):", file=log)
            runProfile(args.kinds, args, cores, load, workdir, log)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench_http: interrupted", file=sys.stderr)
        sys.exit(130)
