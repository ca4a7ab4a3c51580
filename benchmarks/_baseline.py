"""
The baseline of C{bench_http.py --baseline DIR}: another checkout of
twisted_web_re (an older commit, say), measured in the same run as this one.

Its servers are started as C{DIR/benchmarks/servers.py twisted_web_re KIND
...} with the driver's interpreter; that C{servers.py} puts C{DIR} first on
C{sys.path}, so C{DIR}'s package is the one imported.  L{probe} checks that,
and learns which kinds the baseline's C{servers.py} knows, before any server
starts.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

PROBE_TIMEOUT = 60.0
"""Seconds the probe (and each git command) may take."""

SERVERS = Path("benchmarks", "servers.py")
"""Where a checkout keeps its benchmark servers."""

# Runs in a fresh interpreter: set up sys.path as running the script would
# (its own directory first), execute the script's top level without its
# main(), then import the package the way its servers would.
_PROBE = """\
import json, os, runpy, sys
script = sys.argv[1]
sys.path[0] = os.path.dirname(script)
names = runpy.run_path(script, run_name="bench_http_probe")
import twisted_web_re
print(json.dumps({"module": twisted_web_re.__file__,
                  "kinds": list(names.get("KINDS", ()))}))
"""


class BaselineError(Exception):
    """
    The directory is not a checkout whose benchmark servers can be run.
    """


@dataclasses.dataclass(frozen=True)
class Baseline:
    """
    A checkout of twisted_web_re to measure beside this one.

    @ivar directory: the checkout.
    @ivar revision: its short git revision (see L{revision}).
    @ivar module: the file of the C{twisted_web_re} package its servers
        import.
    @ivar kinds: the kinds its C{servers.py} accepts.
    """

    directory: Path
    revision: str
    module: Path
    kinds: tuple[str, ...]

    @property
    def label(self) -> str:
        """
        @return: its column name, C{baseline@REV}.
        """
        return f"baseline@{self.revision}"

    @property
    def script(self) -> Path:
        """
        @return: its C{servers.py}.
        """
        return self.directory / SERVERS


def _git(directory: Path, *args: str) -> str | None:
    """
    @return: what git printed, stripped, or L{None} if it failed.
    """
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def revision(directory: Path) -> str:
    """
    Name a checkout's state for a column heading.

    @param directory: the checkout.
    @return: its short git revision (C{git rev-parse --short HEAD}), with
        C{-dirty} appended when tracked files differ from it; the directory's
        name when it is not a git checkout.
    """
    rev = _git(directory, "rev-parse", "--short", "HEAD")
    if not rev:
        return directory.name
    if _git(directory, "status", "--porcelain", "--untracked-files=no"):
        rev += "-dirty"
    return rev


def probe(directory: Path, python: str = sys.executable) -> Baseline:
    """
    Inspect a baseline checkout with the interpreter its servers will run on.

    @param directory: the checkout.
    @param python: the interpreter.
    @return: what the driver needs to know of it.
    @raise BaselineError: if it has no C{benchmarks/servers.py}, or that
        script (or the package) cannot be imported, or the package imported
        is not the checkout's.
    """
    directory = directory.resolve()
    script = directory / SERVERS
    if not script.is_file():
        raise BaselineError(f"{directory} has no {SERVERS}")
    try:
        done = subprocess.run(
            [python, "-c", _PROBE, str(script)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise BaselineError(f"cannot run {script}: {e}") from e
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["no error output"]
        raise BaselineError(f"cannot import {script}: {last[0]}")
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as e:
        raise BaselineError(f"no answer from the probe of {script}") from e
    module = Path(found["module"]).resolve()
    if not module.is_relative_to(directory):
        raise BaselineError(
            f"{script} imports twisted_web_re from {module}, not from {directory}"
        )
    return Baseline(directory, revision(directory), module, tuple(found["kinds"]))
