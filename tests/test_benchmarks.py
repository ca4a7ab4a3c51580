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
import _contenders  # noqa: E402
import _issue15  # noqa: E402
import _limit  # noqa: E402
import _loadgen  # noqa: E402
import _newconn  # noqa: E402
import _peers  # noqa: E402
import _process  # noqa: E402
import _profiling  # noqa: E402
import _runs  # noqa: E402
import bench_http  # noqa: E402
import servers  # noqa: E402
from _table import (  # noqa: E402
    BASELINE,
    GRANIAN,
    GUNICORN_SLOT,
    LIMIT,
    NGINX,
    OURS,
    THEIRS,
    UVICORN,
    Row,
    printTable,
)
from twisted.internet.testing import StringTransport  # noqa: E402

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


def test_profileWithoutProfiler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    With neither py-spy nor pyinstrument installed, --profile says so in one
    line and starts no server, instead of a server that dies on its import.
    """
    monkeypatch.setattr(_profiling.shutil, "which", lambda name: None)
    monkeypatch.setattr(_profiling, "_besideInterpreter", lambda name: None)
    monkeypatch.setattr(_profiling.importlib.util, "find_spec", lambda name: None)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(_profiling, "runServer", refuse)
    args = bench_http.parseArguments(
        ["--profile", "--profile-dir", str(tmp_path / "profiles")]
    )
    log = io.StringIO()
    _profiling.runProfile(
        ["request"],
        args,
        _process.Cores(None, None),
        None,
        tmp_path,
        log,  # type: ignore[arg-type]
    )
    assert "neither py-spy nor pyinstrument is installed" in log.getvalue()


def test_noBaselineByDefault() -> None:
    """Without --baseline the run compares only twisted.web and ours."""
    args = bench_http.parseArguments([])
    assert args.baseline is None
    args.baselineCheckout = None
    args.gunicorn = False
    assert [c.slot for c in _contenders.contenders(args, "request")] == [THEIRS, OURS]


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
    wsgi = _contenders.contenders(args, "wsgi")
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
    assert [c.slot for c in _contenders.contenders(args)] == [THEIRS, OURS, BASELINE]


def test_unknownKindNotStarted(tmp_path: Path) -> None:
    """
    A kind the baseline's servers.py does not list is unavailable before any
    process starts.
    """
    contender = _contenders.Contender(
        BASELINE, "twisted_web_re", "baseline@x", tmp_path / "nowhere.py", "-", ()
    )
    with (
        contextlib.ExitStack() as stack,
        pytest.raises(_process.ServerUnavailableError, match="no kind 'site'"),
    ):
        _runs.startChecked(
            stack,
            contender,
            "site",
            _process.Cores(None, None),
            tmp_path,
            argparse.Namespace(),
        )


def test_rejectedKindUnavailable(tmp_path: Path) -> None:
    """
    A servers.py that refuses the kind on its command line (an older
    checkout's) makes the kind unavailable, not a failure of the run.
    """
    contender = _contenders.Contender(BASELINE, "twisted_web_re", "baseline@x")
    server = _process.runServer(
        "twisted_web_re",
        "nosuchkind",
        _process.Cores(None, None),
        tmp_path,
        contender=contender,
    )
    with pytest.raises(_process.ServerRejectedError, match="invalid choice"), server:
        pass
    assert issubclass(_process.ServerRejectedError, _process.ServerUnavailableError)


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


# -- issue 15: the limit, the peers, a new connection per request -----------------

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def peerArgs(*argv: str) -> argparse.Namespace:
    """Parse a command line and choose its peers as if all were installed."""
    args = bench_http.parseArguments(list(argv))
    args.baselineCheckout = None
    args.gunicorn = True
    args.peerList = [p for p in _peers.PEERS if p.impl in args.peers]
    return args


def test_issue15Preset() -> None:
    """
    --kinds issue15 runs the issue's kinds, with a new connection per
    request, and asks for the issue's table; other kinds may be added.
    """
    args = bench_http.parseArguments(["--kinds", "issue15"])
    assert args.kinds == list(_issue15.KINDS)
    assert args.new_connection and args.summary
    args = bench_http.parseArguments(["--kinds", "site,issue15"])
    assert args.kinds == ["site", *_issue15.KINDS]
    args = bench_http.parseArguments([])
    assert not args.new_connection and not args.summary


def test_peersOption(capsys: pytest.CaptureFixture[str]) -> None:
    """
    --peers is auto (every peer) by default, none for none, or a list of
    names; an unknown name is refused.
    """
    assert list(bench_http.parseArguments([]).peers) == list(_peers.PEER_NAMES)
    assert list(bench_http.parseArguments(["--peers", "none"]).peers) == []
    args = bench_http.parseArguments(["--peers", "nginx,limit"])
    assert args.peers == ["nginx", "limit"]
    with pytest.raises(SystemExit):
        bench_http.parseArguments(["--peers", "lighttpd"])
    assert "unknown 'lighttpd'" in capsys.readouterr().err


def test_choosePeersSkipsMissing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A peer that is not installed is left out, and the run says why."""
    absent = _peers.Peer(UVICORN, "uvicorn", ("request",), ("ka",), lambda: "gone")
    present = _peers.Peer(LIMIT, "limit", ("request",), ("ka",), lambda: None)
    monkeypatch.setattr(_peers, "PEERS", (present, absent))
    out = io.StringIO()
    chosen = _peers.choosePeers(["limit", "uvicorn"], out)
    assert chosen == [present]
    assert out.getvalue() == "peer uvicorn skipped: gone\n"


def test_peerContenders() -> None:
    """
    The peers join the kinds they serve, after the Twisted servers: the
    limit, uvicorn and granian the hello kinds, nginx the static files,
    granian (beside gunicorn) the WSGI ones; none joins the upload.  The
    limit, which never closes a connection, takes no new-connection run.
    """
    args = peerArgs()
    hello = _contenders.contenders(args, "request")
    assert [c.slot for c in hello] == [THEIRS, OURS, LIMIT, UVICORN, GRANIAN]
    assert [c.label for c in hello[2:]] == ["limit", "uvicorn", "granian"]
    assert hello[2].impl == servers.LIMIT and not hello[2].takes("nc")
    assert hello[2].takes("pl") and hello[3].takes("nc")
    assert [c.slot for c in _contenders.contenders(args, "file1k")] == [
        THEIRS,
        OURS,
        NGINX,
    ]
    assert [c.slot for c in _contenders.contenders(args, "listing")] == [THEIRS, OURS]
    assert [c.slot for c in _contenders.contenders(args, "wsgi")] == [
        THEIRS,
        OURS,
        GUNICORN_SLOT,
        GRANIAN,
    ]
    assert [c.slot for c in _contenders.contenders(args)] == [THEIRS, OURS]
    idle = _contenders.contenders(args, "wsgi", "idle")
    assert [c.slot for c in idle] == [THEIRS, OURS, GRANIAN]
    none = peerArgs("--peers", "none")
    assert [c.slot for c in _contenders.contenders(none, "request")] == [THEIRS, OURS]


def test_newConnectionMode() -> None:
    """
    With a load generator for it, the hello kinds get a new-connection run
    (target 2x); the other kinds do not.
    """
    args = peerArgs("--kinds", "issue15")
    assert [m.key for m in _runs.modesFor("request", args)] == ["ka", "pl"]
    args.newConnectionLoad = _newconn.Ab("ab", [])
    modes = _runs.modesFor("request", args)
    assert [m.key for m in modes] == ["ka", "pl", "nc"]
    assert modes[2].label == "new connection (ab)" and modes[2].goal == ">=2x"
    assert [m.key for m in _runs.modesFor("file1k", args)] == ["ka", "pl"]
    assert [m.key for m in _runs.modesFor("wsgi", args)] == ["ka"]


AB_OUTPUT = """\
Concurrency Level:      50
Time taken for tests:   2.000 seconds
Complete requests:      25062
Failed requests:        3
Non-2xx responses:      2
Total transferred:      4067982 bytes
Percentage of the requests served within a certain time (ms)
  50%      4
  99%     10
 100%     19 (longest request)
"""


def test_parseAb() -> None:
    """ab's totals become a load result; failures and non-2xx are errors."""
    result = _newconn.parseAb(AB_OUTPUT)
    assert (result.requests, result.seconds, result.p99Ms) == (25062, 2.0, 10.0)
    assert (result.errors, result.received) == (5, 4067982)
    with pytest.raises(_loadgen.LoadError, match="no totals"):
        _newconn.parseAb("apr_socket_connect(): Connection refused (111)")


def test_tablePeerColumns() -> None:
    """The peers' figures follow the ratio columns, '-' where they have none."""
    rows = [
        Row("request", "keep-alive", "req/s", ">=3x", {THEIRS: 1000.0, OURS: 2000.0}),
        Row("request", "new connection", "req/s", ">=2x", {THEIRS: 500.0, OURS: 600.0}),
    ]
    rows[0].figures.update({LIMIT: 5000.0, UVICORN: 3000.0})
    rows[1].figures[UVICORN] = 700.0
    lines = tableLines(rows)
    assert lines[0] == ["kind", "mode", *NAMES, "ratio", "goal", "limit", "uvicorn"]
    assert lines[2][2:] == ["1,000", "2,000", "2.00x", ">=3x", "5,000", "3,000"]
    assert lines[3][2:] == ["500.0", "600.0", "1.20x", ">=2x", "-", "700.0"]
    assert lines[4][0].startswith("ratio = ")
    assert lines[5][0].startswith("limit = a canned-reply Twisted protocol")


def summaryLines(rows: list[Row], baseline: str | None = None) -> list[list[str]]:
    """Print issue 15's table and split it into cells."""
    out = io.StringIO()
    _issue15.printSummary(rows, NAMES, out, baseline)
    return [
        [cell.strip() for cell in line.split("  ") if cell.strip()]
        for line in out.getvalue().splitlines()
    ]


def test_issue15Summary() -> None:
    """
    Issue 15's table has one line per scenario in the issue's order: both
    figures with the server's busy share, ours / twisted.web, then each peer
    as its figure / twisted.web's, "—" where a peer does not serve it.
    """
    ka = Row("request", "keep-alive", "req/s", key="ka")
    ka.figures = {THEIRS: 1000.0, OURS: 2000.0, LIMIT: 5000.0, UVICORN: 3000.0}
    ka.busy = {THEIRS: 0.99, OURS: 0.97, LIMIT: 1.0, UVICORN: 0.5}
    wsgi = Row("wsgi", "keep-alive", "req/s", key="ka")
    wsgi.figures = {THEIRS: 100.0, OURS: 400.0, GUNICORN_SLOT: 90.0}
    idle = Row("request", "idle keep-alive x2000", "KiB/conn", key="idle")
    idle.figures = {THEIRS: 2.5, OURS: 1.9, LIMIT: "FAILED"}
    cpu = Row("request", "keep-alive server CPU", "us/req")
    cpu.figures = {THEIRS: 50.0, OURS: 25.0}
    lines = summaryLines([idle, wsgi, cpu, ka])
    assert lines[0] == ["issue 15:"]
    assert lines[1] == [
        "scenario",
        *NAMES,
        "ratio",
        "limit",
        "uvicorn",
        "granian",
        "other",
        "target",
    ]
    assert lines[3] == [
        "hello (request) keep-alive (req/s)",
        "1,000 (99%)",
        "2,000 (97%)",
        "2.00x",
        "5.00x (100%)",
        "3.00x (50%)",
        "—",
        "—",
        ">= 3.5x, above uvicorn",
    ]
    assert lines[4][0] == "WSGI hello keep-alive (req/s)"
    assert lines[4][3:] == ["4.00x", "—", "—", "—", "gunicorn 0.90x", ">= 4x"]
    assert lines[5][0] == "hello (request) idle keep-alive x2000 (KiB/conn)"
    assert lines[5][1:] == ["2.50", "1.90", "0.76x", "FAILED", "—", "—", "—", "<= 1x"]
    assert len(lines) == 6 + 3


def test_issue15SummaryWithBaseline() -> None:
    """With a baseline, its figure and ours / baseline follow the ratio."""
    ka = Row("request", "keep-alive", "req/s", key="ka")
    ka.figures = {THEIRS: 1000.0, OURS: 2000.0, BASELINE: 1600.0}
    lines = summaryLines([ka], "baseline@abc1234")
    assert lines[1][1:6] == [*NAMES, "ratio", "baseline@abc1234", "ours/base"]
    assert lines[3][1:6] == ["1,000", "2,000", "2.00x", "1,600", "1.25x"]


def test_countRequestEndsPipelined() -> None:
    """The limit counts every request of a pipelined batch read at once."""
    assert _limit.countRequestEnds(b"", REQUEST * 16) == (16, b"")


def test_countRequestEndsSplit() -> None:
    """
    However a pipelined stream is cut into reads, even inside the CRLF CRLF
    that ends a head, each request is counted once; a stray CRLF after a
    head does not make a second end with the next one's first bytes.
    """
    stream = (REQUEST + b"\r\n") * 3 + REQUEST * 2
    for size in range(1, len(stream) + 1):
        carry, total = b"", 0
        for start in range(0, len(stream), size):
            ended, carry = _limit.countRequestEnds(carry, stream[start : start + size])
            total += ended
            assert len(carry) < len(_limit.END)
        assert total == 5, size


def test_cannedReplyAnswersEachRequest() -> None:
    """
    The canned-reply protocol writes one complete hello response per request
    ended, whatever the reads, and nothing for a head not yet complete.
    """
    protocol = _limit.CannedReply()
    transport = StringTransport()
    protocol.makeConnection(transport)
    stream = REQUEST * 3
    protocol.dataReceived(stream[:-2])
    assert transport.value() == _limit.RESPONSE * 2
    protocol.dataReceived(stream[-2:])
    assert transport.value() == _limit.RESPONSE * 3
    assert transport.value().endswith(b"Content-Length: 13\r\n\r\nHello, world!")
    assert not transport.disconnecting


def test_everyBenchmarkModuleImports() -> None:
    """
    Every module in benchmarks/ imports, so a name moved between the
    driver's modules cannot leave a script (bench_http2.py, say) broken
    until someone runs it.
    """
    names = sorted(path.stem for path in BENCHMARKS.glob("*.py"))
    script = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *names],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
