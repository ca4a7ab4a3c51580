"""
Tests for L{twisted_web_re._files.listing}: human-readable file sizes and the
L{DirectoryLister} page.

Every page is fetched from a real L{server.Site} over a L{StringTransport}
and read back with L{html.parser}, so that what is asserted is what a
browser would see: the names as text, and the links as they resolve.
"""

from __future__ import annotations

import os
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urljoin, urlsplit

import pytest
from _httpparse import PEER, Response, parseResponses
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport

from twisted_web_re import server
from twisted_web_re._files.listing import DirectoryLister, formatFileSize
from twisted_web_re._files.mime import defaultContentTypes
from twisted_web_re.resource import Resource

#: Names that HTML or a URL would take for markup or syntax.  (A file name
#: cannot hold a slash, so the script's closing tag has a backslash.)
AWKWARD_NAMES = [
    "<script>alert(1)<\\script>.html",
    "<img src=x onerror=alert(1)>.txt",
    "a\"b'c&d.txt",
    "with space.txt",
    "#fragment",
    "question?x=1",
    "100%.txt",
    "%41.txt",
    "javascript:alert(1)",
    "café.txt",
    "日本語.md",
    "-->",
]


# -- fetching and reading a listing ----------------------------------------------------


def publish(lister: Resource, segments: list[bytes]) -> Resource:
    """
    Return a root that publishes C{lister} below the path C{segments} (the
    decoded segments before the trailing slash).
    """
    root = Resource()
    parent = root
    for segment in segments:
        child = Resource()
        parent.putChild(segment, child)
        parent = child
    parent.putChild(b"", lister)
    return root


def fetch(
    lister: Resource,
    url: bytes = b"/pub/",
    method: bytes = b"GET",
    mount: list[bytes] | None = None,
) -> Response:
    """
    Send one request for C{url} to a site publishing C{lister} below the
    path segments C{mount} (by default, those of C{url}, which must then
    end in a slash and need no percent-decoding), and return the response.
    """
    if mount is None:
        mount = url.split(b"/")[1:-1]
    site = server.Site(publish(lister, mount), reactor=MemoryReactorClock())
    transport = StringTransport(
        hostAddress=IPv4Address("TCP", "127.0.0.2", 80), peerAddress=PEER
    )
    channel = site.buildProtocol(PEER)
    channel.makeConnection(transport)
    channel.dataReceived(
        method + b" " + url + b" HTTP/1.1\r\nHost: example.com\r\n\r\n"
    )
    [response] = parseResponses(transport.value(), [method])
    return response


class Listing(HTMLParser):
    """
    What a browser shows of a listing page.

    @ivar title: the text of C{<title>}.
    @ivar heading: the text of C{<h1>}.
    @ivar columns: the text of each table heading cell.
    @ivar links: the C{href} of every link, in order.
    @ivar rows: each body row of the table: its C{class}, the link in its
        first cell, and the text of its cells.
    """

    def __init__(self, page: bytes) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.heading = ""
        self.columns: list[str] = []
        self.links: list[str] = []
        self.rows: list[tuple[str, str, list[str]]] = []
        self._in: str | None = None
        self.feed(page.decode("utf-8"))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("title", "h1"):
            self._in = tag
        elif tag == "th":
            self._in = tag
            self.columns.append("")
        elif tag == "tr" and self.columns:
            self.rows.append((attributes.get("class") or "", "", []))
        elif tag == "td":
            self._in = tag
            self.rows[-1][2].append("")
        elif tag == "a":
            href = attributes["href"] or ""
            self.links.append(href)
            if self._in == "td":
                rowClass, _, cells = self.rows[-1]
                self.rows[-1] = (rowClass, href, cells)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("title", "h1", "th", "td"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "h1":
            self.heading += data
        elif self._in == "th":
            self.columns[-1] += data
        elif self._in == "td":
            self.rows[-1][2][-1] += data

    def names(self) -> list[str]:
        """The first cell of every row: the names shown."""
        return [cells[0] for _, _, cells in self.rows]

    def byName(self) -> dict[str, tuple[str, list[str]]]:
        """Each row's link and cells, by the name shown."""
        return {cells[0]: (href, cells) for _, href, cells in self.rows}


def listing(lister: Resource, url: bytes = b"/pub/") -> Listing:
    """Fetch a listing and read it."""
    response = fetch(lister, url)
    assert response.status == 200, response.body
    return Listing(response.body)


def makeFiles(directory: Path, names: list[str], size: int = 0) -> None:
    """Create files called C{names} in C{directory}, each C{size} bytes."""
    for name in names:
        with open(directory / name, "wb") as f:
            f.truncate(size)


# -- formatFileSize --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0B"),
        (1, "1B"),
        (1023, "1023B"),
        (1024, "1K"),
        (1536, "1K"),
        (1024**2 - 1, "1023K"),
        (1024**2, "1M"),
        (5 * 1024**2 + 1, "5M"),
        (1024**3 - 1, "1023M"),
        (1024**3, "1G"),
        (5 * 1024**3 - 1, "4G"),
        (2 * 1024**4, "2048G"),
        (2**60 - 1, "1073741823G"),
    ],
)
def test_formatFileSize(size: int, text: str) -> None:
    """
    Sizes are whole bytes below 1024, then whole K, M or G, rounded down,
    as twisted.web shows them; G is the largest unit.
    """
    assert formatFileSize(size) == text


# -- the page --------------------------------------------------------------------------


def test_servedThroughSite(tmp_path: Path) -> None:
    """
    A listing published on a site answers 200 with an HTML5 page in UTF-8,
    and its length.
    """
    makeFiles(tmp_path, ["a.txt"])
    response = fetch(DirectoryLister(str(tmp_path)))
    assert response.status == 200
    assert response.header(b"content-type") == b"text/html; charset=utf-8"
    assert response.header(b"content-length") == b"%d" % len(response.body)
    assert response.body.startswith(b"<!DOCTYPE html>\n")
    assert b'<meta charset="utf-8">' in response.body
    assert response.header(b"etag") is None
    assert response.header(b"last-modified") is None


def test_columns(tmp_path: Path) -> None:
    """
    The table's columns are Filename, Size, Content type and Content
    encoding.
    """
    page = listing(DirectoryLister(str(tmp_path)))
    assert page.columns == ["Filename", "Size", "Content type", "Content encoding"]


def test_headingAndTitle(tmp_path: Path) -> None:
    """
    The title and the heading name the decoded URL path, escaped: markup in
    the URL is shown, not obeyed, and the query is not part of it.
    """
    lister = DirectoryLister(str(tmp_path))
    mount = [b"some dir", b"<script>x</script>", b"caf\xc3\xa9"]
    url = b"/some%20dir/%3Cscript%3Ex%3C%2Fscript%3E/caf%C3%A9/?q=%3Cb%3E"
    response = fetch(lister, url, mount=mount)
    assert response.status == 200
    page = Listing(response.body)
    expected = "Directory listing for /some dir/<script>x</script>/café/"
    assert page.title == expected
    assert page.heading == expected
    assert b"<script>" not in response.body
    assert b"<b>" not in response.body


def test_parentLink(tmp_path: Path) -> None:
    """
    Below the root, the page links to the parent directory; at C{/}, where
    there is none, it does not.
    """
    assert "../" in listing(DirectoryLister(str(tmp_path)), b"/pub/").links
    assert "../" not in listing(DirectoryLister(str(tmp_path)), b"/").links


def test_sorted(tmp_path: Path) -> None:
    """
    Directories come first, then files, each in case-insensitive name
    order (names equal but for case in code point order).
    """
    makeFiles(tmp_path, ["b.txt", "A.txt", "c.txt", "a.txt", "_x.txt", "B2.txt"])
    for name in ["zdir", "Adir", "mdir"]:
        (tmp_path / name).mkdir()
    page = listing(DirectoryLister(str(tmp_path)))
    assert page.names() == [
        "Adir/",
        "mdir/",
        "zdir/",
        "_x.txt",
        "A.txt",
        "a.txt",
        "b.txt",
        "B2.txt",
        "c.txt",
    ]


def test_givenNamesSortedToo(tmp_path: Path) -> None:
    """
    Names given in C{dirs} are shown in the same order, whatever the order
    they were given in.
    """
    makeFiles(tmp_path, ["b", "a", "C"])
    page = listing(DirectoryLister(str(tmp_path), dirs=["C", "b", "a"]))
    assert page.names() == ["a", "b", "C"]


def test_zebraRows(tmp_path: Path) -> None:
    """
    Rows alternate between the classes C{odd} and C{even}, directories and
    files alike.
    """
    makeFiles(tmp_path, ["1", "2", "3"])
    (tmp_path / "d").mkdir()
    page = listing(DirectoryLister(str(tmp_path)))
    assert [rowClass for rowClass, _, _ in page.rows] == ["odd", "even", "odd", "even"]


def test_namesEscaped(tmp_path: Path) -> None:
    """
    Names that look like markup are shown as text: the page holds them only
    escaped, and a browser shows them exactly.
    """
    makeFiles(tmp_path, AWKWARD_NAMES)
    response = fetch(DirectoryLister(str(tmp_path)))
    body = response.body.decode()
    for raw in ["<script>alert", "<img src", "a\"b'c&d", "onerror=alert(1)>"]:
        assert raw not in body
    assert "&lt;script&gt;alert(1)&lt;\\script&gt;.html" in body
    assert "a&quot;b&#x27;c&amp;d.txt" in body
    assert sorted(Listing(response.body).names()) == sorted(AWKWARD_NAMES)


def test_hrefsRoundTrip(tmp_path: Path) -> None:
    """
    Every link, resolved against the listing's URL as a browser resolves
    it, is a URL of that directory whose path decodes to the entry's bytes
    on disk: no name becomes a fragment, a query, a scheme or a parent.
    """
    makeFiles(tmp_path, AWKWARD_NAMES)
    (tmp_path / "dir with space & <b>").mkdir()
    page = listing(DirectoryLister(str(tmp_path)), b"/pub/")
    expected = {name: name for name in AWKWARD_NAMES}
    expected["dir with space & <b>/"] = "dir with space & <b>/"
    assert len(page.rows) == len(expected)
    for shown, (href, _) in page.byName().items():
        url = urlsplit(urljoin("http://example.com/pub/", href))
        assert (url.scheme, url.netloc) == ("http", "example.com")
        assert (url.query, url.fragment) == ("", "")
        assert url.path.startswith("/pub/")
        assert unquote_to_bytes(url.path[len("/pub/") :]) == os.fsencode(
            expected[shown]
        )


def test_sizes(tmp_path: Path) -> None:
    """
    Files show their sizes, formatted; directories show none.
    """
    for name, size in [
        ("empty", 0),
        ("small", 1023),
        ("two", 2048),
        ("three", 3 * 1024**2),
    ]:
        makeFiles(tmp_path, [name], size)
    (tmp_path / "sub").mkdir()
    rows = listing(DirectoryLister(str(tmp_path))).byName()
    assert {name: cells[1] for name, (_, cells) in rows.items()} == {
        "empty": "0B",
        "small": "1023B",
        "two": "2K",
        "three": "3M",
        "sub/": "",
    }


def test_typesAndEncodings(tmp_path: Path) -> None:
    """
    Files show the media type and content coding their names give;
    directories say they are directories.
    """
    makeFiles(tmp_path, ["a.tar.gz", "page.HTML", "notes.txt", "blob.unknownext"])
    (tmp_path / "sub.txt").mkdir()
    lister = DirectoryLister(str(tmp_path), defaultType="application/octet-stream")
    rows = listing(lister).byName()
    assert {name: cells[2:] for name, (_, cells) in rows.items()} == {
        "a.tar.gz": ["application/x-tar", "gzip"],
        "page.HTML": ["text/html", ""],
        "notes.txt": ["text/plain", ""],
        "blob.unknownext": ["application/octet-stream", ""],
        "sub.txt/": ["Directory", ""],
    }


def test_givenTables(tmp_path: Path) -> None:
    """
    The lister uses the type and coding tables it is given, escaping what
    they say.
    """
    makeFiles(tmp_path, ["a.x", "b.x.z"])
    lister = DirectoryLister(
        str(tmp_path),
        contentTypes={".x": "x/<y>"},
        contentEncodings={".z": "z&z"},
    )
    response = fetch(lister)
    rows = Listing(response.body).byName()
    assert rows["a.x"][1][2:] == ["x/<y>", ""]
    assert rows["b.x.z"][1][2:] == ["x/<y>", "z&z"]
    assert b"x/<y>" not in response.body


def test_defaultTables(tmp_path: Path) -> None:
    """
    Without tables, the lister uses the default ones, and its own copies.
    """
    lister = DirectoryLister(str(tmp_path))
    assert lister.contentTypes == defaultContentTypes()
    assert lister.contentEncodings == {".gz": "gzip", ".bz2": "bzip2"}
    assert lister.contentTypes is not DirectoryLister(str(tmp_path)).contentTypes


def test_directoriesHaveTrailingSlash(tmp_path: Path) -> None:
    """
    A directory's name is shown and linked with a trailing slash, so the
    link leads to the directory's own listing, not to a redirect.
    """
    (tmp_path / "sub").mkdir()
    (tmp_path / "a b").mkdir()
    rows = listing(DirectoryLister(str(tmp_path))).byName()
    assert rows["sub/"][0] == "sub/"
    assert rows["a b/"][0] == "a%20b/"


def test_dirsFilter(tmp_path: Path) -> None:
    """
    Given C{dirs}, the page shows exactly those names (that exist): not the
    dotfiles and other entries the caller left out.
    """
    makeFiles(tmp_path, ["a.txt", "b.txt", ".env", ".htpasswd"])
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub").mkdir()
    lister = DirectoryLister(str(tmp_path), dirs=["b.txt", "sub", "ghost.txt"])
    page = listing(lister)
    assert page.names() == ["sub/", "b.txt"]


def test_everythingWithoutDirs(tmp_path: Path) -> None:
    """
    Without C{dirs}, everything in the directory is shown, dotfiles too:
    filtering them is the caller's choice.
    """
    makeFiles(tmp_path, ["a.txt", ".env"])
    assert listing(DirectoryLister(str(tmp_path))).names() == [".env", "a.txt"]


def test_nonUTF8Name(tmp_path: Path) -> None:
    """
    A name that is not UTF-8 on disk is shown with a replacement character,
    in a page that is still valid UTF-8, and linked by its real bytes.
    """
    name = os.fsdecode(b"bad\xff.txt")
    try:
        makeFiles(tmp_path, [name])
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system only takes UTF-8 names")
    response = fetch(DirectoryLister(str(tmp_path)))
    response.body.decode("utf-8")
    rows = Listing(response.body).byName()
    assert rows["bad\ufffd.txt"][0] == "bad%FF.txt"


def test_danglingSymlinkOmitted(tmp_path: Path) -> None:
    """
    An entry that cannot be examined, such as a link to nothing, is left
    out; a link to a directory is a directory.
    """
    makeFiles(tmp_path, ["real.txt"])
    (tmp_path / "target").mkdir()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "linked").symlink_to(tmp_path / "target")
    assert listing(DirectoryLister(str(tmp_path))).names() == [
        "linked/",
        "target/",
        "real.txt",
    ]


def test_emptyDirectory(tmp_path: Path) -> None:
    """
    An empty directory is a page with an empty table.
    """
    page = listing(DirectoryLister(str(tmp_path)))
    assert page.rows == []


def test_head(tmp_path: Path) -> None:
    """
    HEAD answers as GET does, with the same length, and no body.
    """
    makeFiles(tmp_path, ["a.txt", "b.txt"])
    lister = DirectoryLister(str(tmp_path))
    get = fetch(lister)
    head = fetch(lister, method=b"HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.header(b"content-type") == b"text/html; charset=utf-8"
    assert head.header(b"content-length") == b"%d" % len(get.body)


def test_otherMethodsNotAllowed(tmp_path: Path) -> None:
    """
    A listing answers GET and HEAD only: POST is refused with 405 and the
    methods it does answer.
    """
    response = fetch(DirectoryLister(str(tmp_path)), method=b"POST")
    assert response.status == 405
    assert response.header(b"allow") == b"GET, HEAD"


def test_childNotFound(tmp_path: Path) -> None:
    """
    As in twisted.web, the listing has no children: a path below it is 404.
    """
    makeFiles(tmp_path, ["a.txt"])
    response = fetch(DirectoryLister(str(tmp_path)), b"/pub/a.txt", mount=[b"pub"])
    assert response.status == 404


def test_directoryGone(tmp_path: Path) -> None:
    """
    A directory removed after the lister was made answers 404, not a
    traceback.
    """
    response = fetch(DirectoryLister(str(tmp_path / "gone")))
    assert response.status == 404
    assert b"Traceback" not in response.body


def test_directoryUnreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    A directory that cannot be read answers 403, not a traceback.
    """

    def refuse(path: Any) -> Any:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "scandir", refuse)
    response = fetch(DirectoryLister(str(tmp_path)))
    assert response.status == 403
    assert b"Traceback" not in response.body


def test_customLinePattern(tmp_path: Path) -> None:
    """
    As in twisted.web, a subclass can change the rows through
    C{linePattern} and the page through C{template}.
    """

    class Plain(DirectoryLister):
        template = "<ul>%(tableContent)s</ul>"
        linePattern = '<li class="%(class)s">%(text)s %(size)s %(type)s</li>'

    makeFiles(tmp_path, ["a.txt"], 5)
    body = fetch(Plain(str(tmp_path))).body
    assert body == b'<ul><li class="odd">a.txt 5B text/plain</li></ul>'


def test_repr(tmp_path: Path) -> None:
    """
    A lister's repr names its directory.
    """
    lister = DirectoryLister("/srv/www")
    assert repr(lister) == str(lister) == "<DirectoryLister of '/srv/www'>"


def test_twoHundredEntriesFast(tmp_path: Path) -> None:
    """
    A listing of 200 entries renders in a few milliseconds (the bound here
    is generous, for slow machines; the time is printed).
    """
    makeFiles(tmp_path, [f"file {i:03d} <&>.tar.gz" for i in range(190)], 100)
    for i in range(10):
        (tmp_path / f"dir{i}").mkdir()

    class Request:
        path = b"/pub/"

        def setHeader(self, name: bytes, value: bytes) -> None:
            pass

    lister = DirectoryLister(str(tmp_path))
    best = float("inf")
    for _ in range(20):
        started = time.perf_counter()
        body = lister.render_GET(Request())
        best = min(best, time.perf_counter() - started)
    assert body.count(b"<tr class=") == 200
    print(f"200-entry listing rendered in {best * 1000:.2f} ms")
    assert best < 0.05


def test_renderedPageReusedBriefly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    A listing is rendered again at most once a second while its directory is
    unchanged; adding an entry (which changes the directory's modification
    time) shows at once, and after the second the page is fresh again.
    """
    from twisted_web_re._files import listing as _listing

    now = [1000.0]
    monkeypatch.setattr(_listing.time, "monotonic", lambda: now[0])
    makeFiles(tmp_path, ["a.txt"], size=1)
    lister = DirectoryLister(str(tmp_path))
    assert listing(lister).byName()["a.txt"][1][1] == "1B"
    (tmp_path / "a.txt").write_bytes(b"x" * 2048)
    assert listing(lister).byName()["a.txt"][1][1] == "1B", "served from cache"
    now[0] += _listing.PAGE_TTL
    assert listing(lister).byName()["a.txt"][1][1] == "2K", "rendered again"
    makeFiles(tmp_path, ["b.txt"])
    assert "b.txt" in listing(lister).byName(), "a new entry shows at once"
