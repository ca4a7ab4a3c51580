"""
The load with a new connection for every request: ApacheBench, else wrk.

C{ab} (apache2-utils) sends each request as HTTP/1.0 without keep-alive on a
connection of its own, and the server closes it after the response: the cost
of accepting, setting up and tearing down a connection falls on every
request.  Without C{ab}, wrk with a C{Connection: close} header does the same
over HTTP/1.1 (L{newConnectionLoad} says which it chose).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from _loadgen import LoadError, LoadGenerator, LoadResult, Wrk

AB_MAX_REQUESTS = 100_000_000
"""The request count given to ab: far more than any run completes, so that
its time limit ends the run."""

_FIELDS = {
    "complete": r"^Complete requests:\s+(\d+)",
    "failed": r"^Failed requests:\s+(\d+)",
    "non2xx": r"^Non-2xx responses:\s+(\d+)",
    "seconds": r"^Time taken for tests:\s+([\d.]+) seconds",
    "received": r"^Total transferred:\s+(\d+) bytes",
    "p99": r"^\s+99%\s+(\d+)",
}


def parseAb(output: str) -> LoadResult:
    """
    Read what ab printed.

    @param output: ab's standard output.
    @return: the completed requests (and their time, bytes and 99th
        percentile), failed requests and non-2xx responses counted as errors.
    @raise LoadError: if the output lacks the totals.
    """
    found: dict[str, float] = {}
    for name, pattern in _FIELDS.items():
        match = re.search(pattern, output, re.MULTILINE)
        if match:
            found[name] = float(match.group(1))
    if "complete" not in found or "seconds" not in found:
        raise LoadError(f"ab printed no totals:\n{output[-2000:]}")
    return LoadResult(
        requests=int(found["complete"]),
        seconds=found["seconds"],
        p99Ms=found.get("p99", 0.0),
        errors=int(found.get("failed", 0) + found.get("non2xx", 0)),
        received=int(found.get("received", 0)),
    )


class Ab:
    """
    Drive load with ApacheBench: C{connections} concurrent requests, each on
    a new connection, for a fixed time.

    @ivar executable: the ab binary.
    @ivar prefix: a command prefix, such as C{taskset -c 1}, to pin ab.
    """

    name = "ab"

    def __init__(self, executable: str, prefix: Sequence[str]) -> None:
        self.executable = executable
        self.prefix = list(prefix)

    def run(
        self, port: int, path: str, connections: int, seconds: float, depth: int
    ) -> LoadResult:
        """
        Run ab once; see L{LoadGenerator.run} (C{depth} must be 1).
        """
        if depth != 1:
            raise LoadError("ab does not pipeline")
        argv = [
            *self.prefix,
            self.executable,
            "-q",
            "-r",  # an error on one connection does not end the run
            "-s",
            "10",
            # -t before -n: -t alone would cap the run at 50,000 requests.
            "-t",
            str(max(1, round(seconds))),
            "-n",
            str(AB_MAX_REQUESTS),
            "-c",
            str(connections),
            f"http://127.0.0.1:{port}{path}",
        ]
        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=seconds + 60,
            )
        except subprocess.TimeoutExpired as e:
            raise LoadError(f"ab did not finish: {e}") from e
        if done.returncode:
            raise LoadError(f"ab failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return parseAb(done.stdout)


def newConnectionLoad(
    prefix: Sequence[str], workdir: Path
) -> tuple[LoadGenerator | None, str]:
    """
    Choose the load generator for the new-connection rows.

    @param prefix: a command prefix pinning it to the load core.
    @param workdir: where wrk's scripts go.
    @return: the load generator, or L{None} when neither ab nor wrk is
        installed, and a phrase saying which it is (or why there is none).
    """
    ab = shutil.which("ab")
    if ab is not None:
        return Ab(ab, prefix), "ab (HTTP/1.0, a connection per request)"
    wrk = shutil.which("wrk")
    if wrk is not None:
        load = Wrk(wrk, prefix, workdir, ["Connection: close"])
        return load, "wrk with 'Connection: close' (ab is not installed)"
    return None, "neither ab (apt-get install apache2-utils) nor wrk is installed"
