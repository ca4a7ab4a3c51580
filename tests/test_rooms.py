"""
The package's rooms import one way: a lower room never imports a higher one
(C{doc/architecture.md}).  The rule is read from the source of every module,
imports inside functions and under C{TYPE_CHECKING} included, so it is
enforced rather than hoped for.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "twisted_web_re"

#: Each room's floor, lowest first.  A module may import its own room and
#: every room below it.  Public modules stand in the room their logic is in.
RANKS: dict[str, int] = {
    # The sans-IO wire and what every room shares: names, headers, interfaces.
    "_wire": 0,
    "_version": 0,
    "iweb": 0,
    "http_headers": 0,
    # Protocols: bytes and connections, knowing nothing of resources.
    "_protocols": 1,
    # The request and object publishing.
    "_publish": 2,
    "http": 2,
    "resource": 2,
    "error": 2,
    "pages": 2,
    "server": 2,
    "util": 2,
    "vhost": 2,
    "rewrite": 2,
    # Features built on publishing: files, scripts, gateways.
    "_files": 3,
    "static": 3,
    "script": 3,
    "_gateways": 3,
    "twcgi": 3,
    "wsgi": 3,
    "_proxy": 3,
    "proxy": 3,
    "_distrib": 3,
    "distrib": 3,
    # Running the server: twistd knows them all.
    "_run": 4,
    "tap": 4,
}

#: Upward imports that the stream contract (issue "one request core") is
#: to remove, each with its reason.  The test fails if one disappears
#: without being taken off this list, or if a new one appears.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}

#: Modules over the limit, to be split; the test fails if one is split
#: without being taken off this list.
KNOWN_LARGE: set[str] = set()


def roomOf(module: str) -> str:
    """The room of a module named relative to the package (C{_wire.parser})."""
    return module.split(".")[0]


def modules() -> dict[str, Path]:
    """Every module of the package, by its name relative to the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts) or "__init__"] = path
    return found


def importsOf(path: Path) -> set[str]:
    """The package modules C{path} imports, named relative to the package."""
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "twisted_web_re":
                names.update(alias.name for alias in node.names)
            elif node.module.startswith("twisted_web_re."):
                names.add(node.module[len("twisted_web_re.") :])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("twisted_web_re."):
                    names.add(alias.name[len("twisted_web_re.") :])
    return names


def upwardImports() -> dict[tuple[str, str], str]:
    """Every import of a higher room by a lower one."""
    found = {}
    for name, path in modules().items():
        room = roomOf(name)
        if room == "__init__":
            continue
        for imported in importsOf(path):
            target = roomOf(imported)
            if target not in RANKS:
                continue
            if RANKS[target] > RANKS[room]:
                found[(name, imported)] = f"{room} imports {target}"
    return found


def test_everyRoomRanked() -> None:
    """
    Every module of the package lives in a room the rule knows: a new room
    (or public module) must be given its place before it can be added.
    """
    unranked = {
        name for name in modules() if name != "__init__" and roomOf(name) not in RANKS
    }
    assert unranked == set()


def test_lowerRoomsNeverImportHigherOnes() -> None:
    """
    No module imports a room above its own, except the few listed in
    L{KNOWN_UPWARD}, which are there to be removed.
    """
    found = upwardImports()
    assert set(found) == set(KNOWN_UPWARD), found


@pytest.mark.parametrize("name", sorted(n for n in modules() if roomOf(n) == "_wire"))
def test_wireKnowsNoTwisted(name: str) -> None:
    """The sans-IO wire imports nothing of Twisted, and no other room."""
    tree = ast.parse(modules()[name].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            assert top != "twisted", node.module
            if top == "twisted_web_re":
                assert node.module.startswith("twisted_web_re._wire"), node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] not in ("twisted", "twisted_web_re")


def test_noModuleTooLarge() -> None:
    """No module of the package is much over 800 lines (the house limit)."""
    sizes = {
        name: len(path.read_text().splitlines()) for name, path in modules().items()
    }
    assert {name for name, size in sizes.items() if size > 850} == KNOWN_LARGE


#: A reach into a request's or a channel's private attributes: C{request._x},
#: C{self.channel._x}, or C{getattr(request, "_x")}.
PRIVATE_REACH = re.compile(
    r"\b(request|channel)\._[a-z]\w*"
    r"|getattr\(\s*[\w.]*\b(request|channel)\s*,\s*[\"']_[a-z]"
)

#: The rank of the rooms whose objects these are: a request is the
#: publishing room's, a channel the protocols room's.
OWNER_RANK = {"request": RANKS["_publish"], "channel": RANKS["_protocols"]}


def privateReaches() -> list[str]:
    """
    Every reach, from a module of another room, into the private attributes
    of a request or a channel, as C{module:line: text}.
    """
    found = []
    for name, path in modules().items():
        rank = RANKS.get(roomOf(name))
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in PRIVATE_REACH.finditer(line):
                owner = match.group(1) or match.group(2)
                if rank != OWNER_RANK[owner]:
                    found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_noPrivateReachesAcrossRooms() -> None:
    """
    No module reads or calls the private attributes of a request or a
    channel that another room owns: what a gateway, a file resource or the
    access log needs of a request, or a request of its channel, is public
    and documented (the stream contract, the request's own methods).
    """
    assert privateReaches() == []
