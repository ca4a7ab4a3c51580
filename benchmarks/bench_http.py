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
import importlib.util
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

import _issue15  # noqa: E402
import _static  # noqa: E402
import servers  # noqa: E402
from _baseline import SERVERS as _SERVERS  # noqa: E402
from _baseline import Baseline, BaselineError, probe  # noqa: E402
from _contenders import contenders  # noqa: E402
from _loadgen import (  # noqa: E402
    LoadGenerator,
    PythonLoad,
    Wrk,
)
from _memoryruns import runIdleMemory, runUpload  # noqa: E402
from _newconn import newConnectionLoad  # noqa: E402
from _peers import PEER_NAMES, choosePeers  # noqa: E402
from _process import (  # noqa: E402
    Cores,
)
from _profiling import runProfile  # noqa: E402
from _runs import runKind  # noqa: E402
from _table import (  # noqa: E402
    Row,
    printTable,
)


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
