"""
The report of C{bench_http.py}: one row per figure, one column per server.

Each figure of a L{Row} is kept under its server's slot: L{THEIRS}
(twisted.web), L{OURS} (this checkout's twisted_web_re), L{BASELINE} (another
checkout's twisted_web_re, with C{--baseline}), L{GUNICORN_SLOT}, and the
L{PEER_SLOTS}: the canned-reply protocol (the reactor's limit), uvicorn,
granian and nginx.  L{printTable} lays them out with the ratios that matter:
ours / twisted.web, ours / baseline, ours / gunicorn, then the peers' figures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import IO

THEIRS = 0
"""The slot of the implementation compared against (twisted.web)."""
OURS = 1
"""The slot of this checkout's twisted_web_re."""
GUNICORN_SLOT = 2
"""The slot of gunicorn's figures (WSGI kinds only)."""
BASELINE = 3
"""The slot of the baseline checkout's twisted_web_re."""

LIMIT = 4
"""The slot of the canned-reply protocol: the limit on this reactor."""
UVICORN = 5
"""The slot of uvicorn (httptools, uvloop)."""
GRANIAN = 6
"""The slot of granian."""
NGINX = 7
"""The slot of nginx."""

GUNICORN_LABEL = "gunicorn 1 sync"
"""gunicorn's column heading."""

PEER_SLOTS: dict[int, str] = {
    LIMIT: "limit",
    UVICORN: "uvicorn",
    GRANIAN: "granian",
    NGINX: "nginx",
}
"""The peers' slots, in column order, and their column headings."""


@dataclasses.dataclass
class Row:
    """
    One line of the report: a figure for each server.

    @ivar kind: the kind of workload.
    @ivar mode: how it was loaded, and which figure of that load.
    @ivar unit: the figure's unit.
    @ivar goal: the target for ours / twisted.web, for the reader.
    @ivar figures: by slot (L{THEIRS}, L{OURS}, L{BASELINE},
        L{GUNICORN_SLOT}), a number or a word saying why there is none.
    @ivar notes: remarks printed under the table.
    @ivar key: which figure of the kind this is (C{"ka"} for the keep-alive
        req/s, C{"pl"} pipelined, C{"nc"} new connection per request,
        C{"rate"} upload, C{"idle"} memory per idle connection, ...).
    @ivar busy: by slot, the server's CPU time over wall time during the run
        the figure comes from (1.0 is a fully busy core).
    """

    kind: str
    mode: str
    unit: str
    goal: str = ""
    figures: dict[int, float | str] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    key: str = ""
    busy: dict[int, float] = dataclasses.field(default_factory=dict)


def formatFigure(value: float | str | None) -> str:
    """
    @return: a figure with as many digits as its size deserves, a word as it
        is, and C{-} for no figure at all.
    """
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def columnNames(labels: Sequence[str]) -> list[str]:
    """
    @param labels: the display names of the two implementations compared.
    @return: those names, told apart even when both are the same one.
    """
    names = list(labels)
    if names[0] == names[1]:
        names = [f"{names[0]} (A)", f"{names[1]} (B)"]
    return names


def ratio(theirs: float | str | None, ours: float | str | None) -> str:
    """
    @return: C{ours / theirs}, when both are figures, else C{-}.
    """
    if isinstance(theirs, int | float) and isinstance(ours, int | float) and theirs > 0:
        return f"{ours / theirs:.2f}x"
    return "-"


def printTable(
    rows: Sequence[Row],
    names: Sequence[str],
    out: IO[str],
    baseline: str | None = None,
) -> None:
    """
    Print the report.

    The columns: kind, mode, the two implementations' figures, then the
    baseline's when there is one, the ratio ours / theirs, the ratio ours /
    baseline when there is a baseline, and the goal; when any row has
    gunicorn's figure, that figure and the ratio ours / gunicorn; then the
    figure of each of the L{PEER_SLOTS} that any row has.

    @param rows: the rows, in order.
    @param names: the column names of L{THEIRS} and L{OURS}.
    @param out: where to print.
    @param baseline: the baseline's column name, or L{None} for no baseline
        column.
    """
    gunicorn = any(GUNICORN_SLOT in row.figures for row in rows)
    peers = [s for s in PEER_SLOTS if any(s in row.figures for row in rows)]
    header = ["kind", "mode", names[0], names[1]]
    if baseline is not None:
        header.append(baseline)
    header.append("ratio")
    if baseline is not None:
        header.append("ours/base")
    header.append("goal")
    if gunicorn:
        header += [GUNICORN_LABEL, "ratio"]
    header += [PEER_SLOTS[s] for s in peers]
    table = [header]
    for row in rows:
        a, b = row.figures.get(THEIRS), row.figures.get(OURS)
        base = row.figures.get(BASELINE)
        cells = [row.kind, f"{row.mode} ({row.unit})", formatFigure(a)]
        cells.append(formatFigure(b))
        if baseline is not None:
            cells.append(formatFigure(base))
        cells.append(ratio(a, b))
        if baseline is not None:
            cells.append(ratio(base, b))
        cells.append(row.goal)
        if gunicorn:
            g = row.figures.get(GUNICORN_SLOT)
            cells += [formatFigure(g), ratio(g, b)]
        cells += [formatFigure(row.figures.get(s)) for s in peers]
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for n, cells in enumerate(table):
        line = "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        print(line.rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)
    print(
        f"ratio = {names[1]} / {names[0]} (column 2 / column 1);"
        " req/s, MiB/s: higher is better;"
        " ms, us/req, ms/GiB, KiB/conn, MiB: lower is better.",
        file=out,
    )
    if baseline is not None:
        print(
            f"ours/base = {names[1]} / {baseline} (column 2 / column 3);"
            " '-' where the baseline cannot serve the kind.",
            file=out,
        )
    if gunicorn:
        print(f"last ratio = {names[1]} / gunicorn (one sync worker).", file=out)
    if peers:
        print(
            "limit = a canned-reply Twisted protocol on the same reactor;"
            " '-' where a peer does not serve the row.",
            file=out,
        )
    notes = [f"{row.kind} {row.mode}: {note}" for row in rows for note in row.notes]
    if notes:
        print("notes:", file=out)
        for note in notes:
            print(f"  {note}", file=out)
