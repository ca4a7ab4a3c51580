"""
The servers one benchmark run measures, and their columns in the report.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import servers
from _baseline import Baseline
from _peers import peersFor
from _table import BASELINE, GUNICORN_LABEL, GUNICORN_SLOT, columnNames

_HERE = Path(__file__).resolve().parent

LABELS = {
    "twisted_web": "twisted.web",
    "twisted_web_re": "twisted_web_re",
    servers.GUNICORN: GUNICORN_LABEL,
}


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
