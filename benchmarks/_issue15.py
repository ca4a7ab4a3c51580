"""
Issue 15's table: one line per scenario, each server's figure as a ratio to
twisted.web's, as the issue states its targets.

C{bench_http.py --kinds issue15} runs L{KINDS} (with a new connection per
request as well) and prints, after the full report, L{printSummary}'s table:
for each scenario, twisted.web's and twisted_web_re's figures and their
ratio, the baseline's with C{--baseline}, then the limit (the canned-reply
protocol), uvicorn, granian, and nginx or gunicorn, each as its ratio to
twisted.web, with the server's busy share of a core beside each load figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from _table import (
    BASELINE,
    GRANIAN,
    GUNICORN_SLOT,
    LIMIT,
    NGINX,
    OURS,
    THEIRS,
    UVICORN,
    Row,
    formatFigure,
    ratio,
)

PRESET = "issue15"
"""The word C{--kinds} takes for this table."""

KINDS: tuple[str, ...] = ("request", "file1k", "file10m", "wsgi", "upload")
"""The kinds the preset runs (more may be named beside it, say C{site})."""

SCENARIOS: tuple[tuple[str, str, str], ...] = (
    ("hello", "ka", ">= 3.5x, above uvicorn"),
    ("hello", "pl", ">= 5x"),
    ("hello", "nc", ">= 2x"),
    ("file1k", "ka", ">= 3x"),
    ("file10m", "ka", ">= 3x"),
    ("wsgi", "ka", ">= 4x"),
    ("upload", "rate", ">= 1.5x"),
    ("upload", "mem", "flat"),
    ("hello", "idle", "<= 1x"),
)
"""The issue's rows, in its order: the kind (C{hello} for each hello kind
run), the row's key (L{Row.key}) and the issue's target."""

TITLES = {
    "file1k": "static 1 KiB",
    "file10m": "static 10 MiB",
    "wsgi": "WSGI hello",
    "upload": "upload",
}
"""The name of each kind in the scenario column (C{hello (KIND)} otherwise)."""

HELLO_KINDS = ("request", "site", "deep")
"""The kinds a C{hello} scenario stands for."""

NONE = "—"
"""The cell of a server that does not serve the scenario."""


def _busy(row: Row, slot: int) -> str:
    """
    @return: C{" (NN%)"}, the server's busy share of a core in the run the
        figure comes from, or nothing when the row has none.
    """
    busy = row.busy.get(slot)
    return "" if busy is None else f" ({100 * busy:.0f}%)"


def _versus(row: Row, slot: int) -> str:
    """
    @return: the cell of a peer: its figure over twisted.web's, with its busy
        share, or L{NONE}.
    """
    figure = row.figures.get(slot)
    if figure is None:
        return NONE
    if isinstance(figure, str):
        return figure
    return ratio(row.figures.get(THEIRS), figure) + _busy(row, slot)


def summaryRows(rows: Sequence[Row]) -> list[tuple[str, Row, str]]:
    """
    Pick the issue's rows out of a report, in the issue's order.

    @param rows: every row of the report.
    @return: for each scenario found, its title, its row and its target.
    """
    found = []
    for kind, key, target in SCENARIOS:
        kinds = HELLO_KINDS if kind == "hello" else (kind,)
        for row in rows:
            if row.key == key and row.kind in kinds:
                title = TITLES.get(row.kind, f"hello ({row.kind})")
                found.append((f"{title} {row.mode} ({row.unit})", row, target))
    return found


def printSummary(
    rows: Sequence[Row],
    names: Sequence[str],
    out: IO[str],
    baseline: str | None = None,
) -> None:
    """
    Print issue 15's table.

    @param rows: every row of the report.
    @param names: the column names of twisted.web and twisted_web_re.
    @param out: where to print.
    @param baseline: the baseline's column name, or L{None} for none.
    """
    header = ["scenario", names[0], names[1], "ratio"]
    if baseline is not None:
        header += [baseline, "ours/base"]
    header += ["limit", "uvicorn", "granian", "other", "target"]
    table = [header]
    for title, row, target in summaryRows(rows):
        theirs, ours = row.figures.get(THEIRS), row.figures.get(OURS)
        cells = [
            title,
            formatFigure(theirs) + _busy(row, THEIRS),
            formatFigure(ours) + _busy(row, OURS),
            ratio(theirs, ours),
        ]
        if baseline is not None:
            base = row.figures.get(BASELINE)
            cells += [formatFigure(base) + _busy(row, BASELINE), ratio(base, ours)]
        other = NONE
        for slot, name in ((NGINX, "nginx"), (GUNICORN_SLOT, "gunicorn")):
            if slot in row.figures:
                other = f"{name} {_versus(row, slot)}"
        cells += [_versus(row, LIMIT), _versus(row, UVICORN), _versus(row, GRANIAN)]
        cells += [other, target]
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print("issue 15:", file=out)
    for n, cells in enumerate(table):
        line = "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        print(line.rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)
    for line in (
        f"ratio = {names[1]} / {names[0]}; limit, uvicorn, granian, other: that"
        f" server's figure / {names[0]}'s (KiB/conn, MiB: lower is better).",
        "(NN%) = the server's CPU time / wall time in the median run: well below"
        " 100% means it waited (on the load generator, or for a core the machine"
        " gave to others) rather than working at its limit.",
        f"{NONE} = the server does not serve the scenario, or was not run.",
    ):
        print(line, file=out)
