"""
Load runs: every contender of one kind under keep-alive, pipelined and
new-connection load, interleaved, each median charged to the server's CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from pathlib import Path
from typing import IO

import _static
import servers
from _contenders import Contender, contenders
from _loadgen import LoadError, LoadGenerator, LoadResult, checkServer
from _process import (
    Cores,
    Server,
    ServerFailedError,
    ServerUnavailableError,
    cpuSeconds,
    runServer,
    tail,
)
from _table import Row

WARMUP_SECONDS = 1.0
"""Unmeasured load each server gets before its first measured run."""
BYTES_KINDS = ("file10m",)
"""Kinds measured in MiB/s rather than requests/s."""


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
            f" {problem}\n{tail(server.log)}"
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
        raise LoadError(f"server died:\n{tail(server.log)}")
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
