"""
Profiling our server under the benchmark's load, with py-spy (attached) or
pyinstrument (inside), and a summary of the hottest functions.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import _static
import servers
from _contenders import LABELS
from _loadgen import MIB, LoadError, LoadGenerator
from _process import (
    Cores,
    Server,
    ServerFailedError,
    ServerUnavailableError,
    runServer,
    stopProcess,
)
from _runs import modesFor, serverOptions

_LINE_NUMBER = re.compile(r":\d+\)$")


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
    if pyspy is None and importlib.util.find_spec("pyinstrument") is None:
        print(
            "  profiling skipped: neither py-spy nor pyinstrument is installed"
            " (pip install py-spy, or the bench extra)",
            file=log,
        )
        return
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
