"""
The HTTP benchmark driver (C{benchmarks/bench_http.py}): its command line, its
report and its baseline checkout, tested without running any server or load.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _baseline  # noqa: E402
import bench_http  # noqa: E402
import servers  # noqa: E402
from _table import BASELINE, GUNICORN_SLOT, OURS, THEIRS, Row, printTable  # noqa: E402

NAMES = ["twisted.web", "twisted_web_re"]

needsGit = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def fakeCheckout(root: Path, servers: str = "") -> Path:
    """
    Make a directory that looks like a checkout of twisted_web_re: a
    C{benchmarks/servers.py} (this checkout's, unless C{servers} gives its
    text) and a C{twisted_web_re} package of its own.
    """
    (root / "benchmarks").mkdir(parents=True)
    script = root / "benchmarks" / "servers.py"
    if servers:
        script.write_text(servers)
    else:
        shutil.copy(BENCHMARKS / "servers.py", script)
    (root / "twisted_web_re").mkdir()
    (root / "twisted_web_re" / "__init__.py").write_text("")
    return root


def tableLines(rows: list[Row], baseline: str | None = None) -> list[list[str]]:
    """
    Print a table and split it into the cells of each line (cells are
    separated by at least two spaces, the mode cell holds single ones).
    """
    out = io.StringIO()
    printTable(rows, NAMES, out, baseline)
    return [
        [cell.strip() for cell in line.split("  ") if cell.strip()]
        for line in out.getvalue().splitlines()
    ]


def git(directory: Path, *args: str) -> str:
    """Run git in C{directory} and return what it printed."""
    done = subprocess.run(
        ["git", "-C", str(directory), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


# -- the command line -------------------------------------------------------------


def test_noBaselineByDefault() -> None:
    """Without --baseline the run compares only twisted.web and ours."""
    args = bench_http.parseArguments([])
    assert args.baseline is None
    args.baselineCheckout = None
    args.gunicorn = False
    assert [c.slot for c in bench_http.contenders(args, "request")] == [THEIRS, OURS]


def test_baselineDirectory(tmp_path: Path) -> None:
    """--baseline DIR names a checkout with benchmarks/servers.py."""
    checkout = fakeCheckout(tmp_path / "before")
    args = bench_http.parseArguments(["--baseline", str(checkout), "--repeat", "5"])
    assert args.baseline == checkout
    assert args.repeat == 5


def test_baselineNotACheckout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --baseline directory without benchmarks/servers.py is refused at once."""
    with pytest.raises(SystemExit) as raised:
        bench_http.parseArguments(["--baseline", str(tmp_path)])
    assert raised.value.code == 2
    assert "has no benchmarks/servers.py" in capsys.readouterr().err


def test_contendersOrder(tmp_path: Path) -> None:
    """
    Every repetition runs twisted.web, ours, the baseline, then gunicorn (on
    the WSGI kinds only); the baseline runs its own servers.py and shows
    "-" for a kind it cannot serve.
    """
    base = _baseline.Baseline(
        tmp_path, "abc1234", tmp_path / "twisted_web_re" / "__init__.py", ("site",)
    )
    args = argparse.Namespace(
        impls=["twisted_web", "twisted_web_re"], baselineCheckout=base, gunicorn=True
    )
    wsgi = bench_http.contenders(args, "wsgi")
    assert [c.slot for c in wsgi] == [THEIRS, OURS, BASELINE, GUNICORN_SLOT]
    assert [c.label for c in wsgi] == [
        "twisted.web",
        "twisted_web_re",
        "baseline@abc1234",
        "gunicorn 1 sync",
    ]
    baseline = wsgi[2]
    assert baseline.impl == "twisted_web_re"
    assert baseline.script == tmp_path / "benchmarks" / "servers.py"
    assert baseline.missing == "-"
    assert baseline.kinds == ("site",)
    assert wsgi[1].script == BENCHMARKS / "servers.py"
    assert [c.slot for c in bench_http.contenders(args)] == [THEIRS, OURS, BASELINE]


def test_unknownKindNotStarted(tmp_path: Path) -> None:
    """
    A kind the baseline's servers.py does not list is unavailable before any
    process starts.
    """
    contender = bench_http.Contender(
        BASELINE, "twisted_web_re", "baseline@x", tmp_path / "nowhere.py", "-", ()
    )
    with (
        contextlib.ExitStack() as stack,
        pytest.raises(bench_http.ServerUnavailableError, match="no kind 'site'"),
    ):
        bench_http.startChecked(
            stack,
            contender,
            "site",
            bench_http.Cores(None, None),
            tmp_path,
            argparse.Namespace(),
        )


def test_rejectedKindUnavailable(tmp_path: Path) -> None:
    """
    A servers.py that refuses the kind on its command line (an older
    checkout's) makes the kind unavailable, not a failure of the run.
    """
    contender = bench_http.Contender(BASELINE, "twisted_web_re", "baseline@x")
    server = bench_http.runServer(
        "twisted_web_re",
        "nosuchkind",
        bench_http.Cores(None, None),
        tmp_path,
        contender=contender,
    )
    with pytest.raises(bench_http.ServerRejectedError, match="invalid choice"), server:
        pass
    assert issubclass(bench_http.ServerRejectedError, bench_http.ServerUnavailableError)


# -- the baseline checkout --------------------------------------------------------


def test_probeImportsTheBaselinesPackage(tmp_path: Path) -> None:
    """
    The baseline's servers.py, run by this interpreter, imports the
    baseline's twisted_web_re, not this checkout's (installed in the venv).
    """
    checkout = fakeCheckout(tmp_path / "before")
    base = _baseline.probe(checkout)
    assert base.module == checkout / "twisted_web_re" / "__init__.py"
    assert base.kinds == servers.KINDS
    assert base.script == checkout / "benchmarks" / "servers.py"


def test_probeOfThisCheckout() -> None:
    """The probe of this checkout finds this checkout's package."""
    base = _baseline.probe(BENCHMARKS.parent)
    assert base.module == BENCHMARKS.parent / "twisted_web_re" / "__init__.py"


def test_probeOfBrokenServers(tmp_path: Path) -> None:
    """A baseline whose servers.py cannot even be imported is refused, clearly."""
    checkout = fakeCheckout(tmp_path / "before", "raise RuntimeError('broken')\n")
    with pytest.raises(_baseline.BaselineError, match="broken"):
        _baseline.probe(checkout)


def test_probeOfForeignPackage(tmp_path: Path) -> None:
    """
    A servers.py that would import some other twisted_web_re than its own
    checkout's is refused: its column would not measure the baseline.
    """
    checkout = fakeCheckout(tmp_path / "before", "KINDS = ('site',)\n")
    shutil.rmtree(checkout / "twisted_web_re")
    with pytest.raises(_baseline.BaselineError, match="not from"):
        _baseline.probe(checkout)


@needsGit
def test_revisionLabel(tmp_path: Path) -> None:
    """
    The baseline's column is labelled baseline@ and its short git revision,
    with -dirty when tracked files were changed since.
    """
    checkout = fakeCheckout(tmp_path / "before")
    git(checkout, "init", "-q")
    git(checkout, "add", ".")
    git(
        checkout,
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@example.invalid",
        "commit",
        "-q",
        "-m",
        "baseline",
    )
    short = git(checkout, "rev-parse", "--short", "HEAD")
    assert _baseline.revision(checkout) == short
    assert _baseline.probe(checkout).label == f"baseline@{short}"
    (checkout / "untracked.txt").write_text("ignored")
    assert _baseline.revision(checkout) == short
    (checkout / "twisted_web_re" / "__init__.py").write_text("# changed\n")
    assert _baseline.revision(checkout) == f"{short}-dirty"


def test_revisionWithoutGit(tmp_path: Path) -> None:
    """A baseline that is not a git checkout is labelled by its directory name."""
    checkout = fakeCheckout(tmp_path / "before")
    assert _baseline.revision(checkout) == "before"


# -- the table --------------------------------------------------------------------


def test_tableTwoColumns() -> None:
    """Without a baseline the table is as it always was."""
    rows = [Row("site", "keep-alive", "req/s", ">=3x", {THEIRS: 1000.0, OURS: 3500.0})]
    lines = tableLines(rows)
    assert lines[0] == ["kind", "mode", *NAMES, "ratio", "goal"]
    assert lines[2] == ["site", "keep-alive (req/s)", "1,000", "3,500", "3.50x", ">=3x"]
    assert not any("ours/base" in " ".join(line) for line in lines)


def test_tableWithBaseline() -> None:
    """
    With a baseline, its figure follows ours, and the ratio ours / baseline
    sits beside ours / twisted.web; "-" where the baseline has no figure.
    """
    rows = [
        Row("site", "keep-alive", "req/s", ">=3x", {THEIRS: 1000.0, OURS: 3000.0}),
        Row("site", "keep-alive server CPU", "us/req", "", {THEIRS: 60.0, OURS: 20.0}),
        Row("file1k", "keep-alive", "req/s", ">=3x", {THEIRS: 800.0, OURS: 2400.0}),
    ]
    rows[0].figures[BASELINE] = 1500.0
    rows[1].figures[BASELINE] = 25.0
    rows[2].figures[BASELINE] = "-"
    lines = tableLines(rows, "baseline@3788596")
    assert lines[0] == [
        "kind",
        "mode",
        *NAMES,
        "baseline@3788596",
        "ratio",
        "ours/base",
        "goal",
    ]
    assert lines[2][2:] == ["1,000", "3,000", "1,500", "3.00x", "2.00x", ">=3x"]
    assert lines[3][2:] == ["60.0", "20.0", "25.0", "0.33x", "0.80x"]
    assert lines[4][2:] == ["800.0", "2,400", "-", "3.00x", "-", ">=3x"]
    assert "ours/base = twisted_web_re / baseline@3788596" in " ".join(lines[6])


def test_tableWithBaselineAndGunicorn() -> None:
    """With gunicorn as well, its figure and ours / gunicorn come last."""
    figures: dict[int, float | str] = {THEIRS: 6000.0, OURS: 12000.0}
    figures[BASELINE] = 10000.0
    figures[GUNICORN_SLOT] = 4000.0
    rows = [Row("wsgi", "keep-alive", "req/s", ">=2x", figures)]
    lines = tableLines(rows, "baseline@abc1234")
    assert lines[0][2:] == [
        *NAMES,
        "baseline@abc1234",
        "ratio",
        "ours/base",
        "goal",
        "gunicorn 1 sync",
        "ratio",
    ]
    assert lines[2][2:] == [
        "6,000",
        "12,000",
        "10,000",
        "2.00x",
        "1.20x",
        ">=2x",
        "4,000",
        "3.00x",
    ]
