"""
Directory listings: the HTML page that shows what a directory holds, with
each entry's size, media type and content coding.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Mapping
from urllib.parse import quote_from_bytes, unquote_to_bytes

from twisted_web_re._files.mime import (
    defaultContentEncodings,
    defaultContentTypes,
    getTypeAndEncoding,
)
from twisted_web_re._publish.oserror import isForbidden, isMissing, unavailable
from twisted_web_re.iweb import IRequest
from twisted_web_re.resource import ErrorPage, ForbiddenResource, NoResource, Resource

__all__ = ["DirectoryLister", "formatFileSize"]

_SCALES = ((1024**3, "G"), (1024**2, "M"), (1024, "K"))

#: What stands for a byte that did not decode (os.fsdecode's surrogateescape)
#: in a name; shown as U+FFFD, as a browser shows an invalid byte.
_UNDECODABLE = re.compile("[\ud800-\udfff]")

#: The link up, on every page but the one for the URL C{/}.
#: Seconds a rendered listing may be served again, while the directory's
#: modification time is unchanged (adding, removing or renaming an entry
#: changes it; a file growing in place does not, so sizes may lag this long).
PAGE_TTL = 1.0

_PAGES_KEPT = 128
_pages: dict[tuple[object, ...], tuple[int, float, bytes]] = {}

_PARENT_LINK = '<p class="up"><a href="../">Parent directory</a></p>\n'


def formatFileSize(size: int) -> str:
    """
    Return C{size} bytes in a short human-readable form, rounded down to a
    whole number of the largest unit it reaches: C{"123B"}, C{"1K"} (from
    1024 bytes), C{"5M"}, C{"2G"}; the largest unit is the gibibyte
    (C{"2048G"}), as in twisted.web.
    """
    for scale, unit in _SCALES:
        if size >= scale:
            return "%d%s" % (size // scale, unit)
    return "%dB" % size


def _shown(name: str) -> str:
    """The name as text: undecodable bytes become U+FFFD; then escaped."""
    if not name.isascii():
        name = _UNDECODABLE.sub("\ufffd", name)
    return html.escape(name)


def _sortKey(name: str) -> tuple[str, str]:
    """Case-insensitive name order; names equal but for case, by code point."""
    return name.casefold(), name


class DirectoryLister(Resource):
    """
    A page listing the directory C{path}: its subdirectories first, then its
    files, each group in case-insensitive name order (names equal but for
    case in code point order), with sizes, media types and content codings.

    Every name is HTML-escaped in the text and percent-encoded (from its
    bytes on disk, so that names that are not UTF-8 link correctly too) in
    its relative link; the page is meant for the directory's URL with its
    trailing slash.  The heading names the request's decoded path, without
    its query.  Entries that cannot be examined (a dangling symbolic link,
    say) are left out; a directory that has gone answers 404, and one that
    cannot be read, 403.

    Unlike twisted.web's listing, this one answers only GET and HEAD (405
    for the rest), sorts the names given in C{dirs} too, and shows types
    without brackets.  As there, it sends no validators (a directory's
    content changes without its own timestamps telling), it has no children
    (a path below it is 404), and a subclass can change the page through
    L{template} and L{linePattern}.

    @cvar template: the page, a C{%}-format string with the keys C{header}
        (the escaped heading, "Directory listing for /path/"),
        C{tableContent} (the rows) and C{parent} (the link to the parent
        directory, empty for the URL C{/}).
    @cvar linePattern: one table row, a C{%}-format string with the keys
        C{class} (C{"odd"} or C{"even"}), C{href}, C{text}, C{size}, C{type}
        and C{encoding}, each ready to insert into HTML.
    @ivar path: the directory listed.
    @ivar dirs: the names to show (those not in the directory are not), or
        L{None} for everything the directory holds.
    @ivar contentTypes: extension to media type, as for
        L{twisted_web_re._files.mime.getTypeAndEncoding}.
    @ivar contentEncodings: extension to content coding.
    @ivar defaultType: the type of a file whose extension is not known.
    """

    template = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%(header)s</title>
<style>
:root { color-scheme: light dark; }
body { font: 15px/1.5 system-ui, sans-serif; max-width: 64rem;
  margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.3rem; font-weight: 600; overflow-wrap: anywhere; }
.up { margin: 0 0 .75rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%%; }
th, td { padding: .3rem .75rem; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #8886; font-weight: 600; }
td.name { overflow-wrap: anywhere; }
.size { text-align: right; white-space: nowrap;
  font-variant-numeric: tabular-nums; }
.type, .encoding { white-space: nowrap; opacity: .8; }
tr.even td { background: #8881; }
tbody tr:hover td { background: #8883; }
a { text-decoration: none; }
a:hover { text-decoration: underline; }
a[href$="/"] { font-weight: 600; }
@media (max-width: 40rem) { .type, .encoding { display: none; } }
</style>
</head>
<body>
<h1>%(header)s</h1>
%(parent)s<div class="scroll">
<table>
<thead>
<tr><th class="name">Filename</th><th class="size">Size</th><th class="type">Content type</th><th class="encoding">Content encoding</th></tr>
</thead>
<tbody>
%(tableContent)s</tbody>
</table>
</div>
</body>
</html>
"""  # noqa: E501

    linePattern = (
        '<tr class="%(class)s"><td class="name"><a href="%(href)s">%(text)s</a></td>'
        '<td class="size">%(size)s</td><td class="type">%(type)s</td>'
        '<td class="encoding">%(encoding)s</td></tr>\n'
    )

    def __init__(
        self,
        pathname: str,
        dirs: list[str] | None = None,
        contentTypes: Mapping[str, str] | None = None,
        contentEncodings: Mapping[str, str] | None = None,
        defaultType: str = "text/html",
    ) -> None:
        """
        @param pathname: the directory to list.
        @param dirs: the names to show, or L{None} for all.
        @param contentTypes: extension to media type; L{None} for
            L{twisted_web_re._files.mime.defaultContentTypes}.
        @param contentEncodings: extension to content coding; L{None} for
            L{twisted_web_re._files.mime.defaultContentEncodings}.
        @param defaultType: the type of a file whose extension is not known.
        """
        super().__init__()
        self.path = pathname
        self.dirs = dirs
        self.contentTypes: Mapping[str, str] = (
            defaultContentTypes() if contentTypes is None else contentTypes
        )
        self.contentEncodings: Mapping[str, str] = (
            defaultContentEncodings() if contentEncodings is None else contentEncodings
        )
        self.defaultType = defaultType

    def _scan(self) -> tuple[list[str], list[tuple[str, int]]]:
        """
        Return the directories' names and the files' names and sizes, each
        sorted, examining every entry at most once.

        @raise OSError: the directory cannot be read.
        """
        wanted = None if self.dirs is None else set(self.dirs)
        directories: list[str] = []
        files: list[tuple[str, int]] = []
        with os.scandir(self.path) as entries:
            for entry in entries:
                name = entry.name
                if wanted is not None and name not in wanted:
                    continue
                try:
                    # is_dir() usually needs no system call (the entry
                    # says its type); for a symbolic link it stats the
                    # target, and entry.stat() reuses that.
                    if entry.is_dir():
                        directories.append(name)
                    else:
                        files.append((name, entry.stat().st_size))
                except OSError:
                    continue
        directories.sort(key=_sortKey)
        files.sort(key=lambda file: _sortKey(file[0]))
        return directories, files

    def render_GET(self, request: IRequest) -> bytes:
        """
        Return the listing page, as UTF-8 HTML (for HEAD too: the server
        sends only its length).
        """
        try:
            modified = os.stat(self.path).st_mtime_ns
        except OSError as error:
            return self._failure(error).render(request)
        key = (
            self.path,
            request.path,
            None if self.dirs is None else tuple(self.dirs),
            self.defaultType,
            id(self.contentTypes),
            id(self.contentEncodings),
            self.template,
            self.linePattern,
        )
        now = time.monotonic()
        cached = _pages.get(key)
        if cached is not None and cached[0] == modified and now - cached[1] < PAGE_TTL:
            request.setHeader(b"content-type", b"text/html; charset=utf-8")
            return cached[2]
        try:
            page = self._render(request)
        except OSError as error:
            return self._failure(error).render(request)
        if len(_pages) >= _PAGES_KEPT:
            _pages.clear()
        _pages[key] = (modified, now, page)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return page

    def _failure(self, error: OSError) -> ErrorPage:
        """
        The page answering for what C{error} kept from being read: 404 if the
        directory is gone, 403 if it may not be read; 503 (logged) if the
        server is short of descriptors or memory, or the disk failed.
        """
        if isMissing(error):
            return NoResource("The directory no longer exists.")
        if isForbidden(error):
            return ForbiddenResource("The directory cannot be read.")
        return unavailable(error, self.path)

    def _render(self, request: IRequest) -> bytes:
        """
        Build the listing page from the directory as it is now.

        @raise OSError: the directory cannot be read.
        """
        directories, files = self._scan()

        linePattern = self.linePattern
        rows = []
        odd = True
        for name in directories:
            rows.append(
                linePattern
                % {
                    "class": "odd" if odd else "even",
                    "href": quote_from_bytes(os.fsencode(name), safe="") + "/",
                    "text": _shown(name) + "/",
                    "size": "",
                    "type": "Directory",
                    "encoding": "",
                }
            )
            odd = not odd
        types = self.contentTypes
        encodings = self.contentEncodings
        defaultType = self.defaultType
        # Few distinct types and codings appear in one directory: escape
        # each once.
        escaped: dict[str | None, str] = {None: ""}
        for name, size in files:
            kind, encoding = getTypeAndEncoding(name, types, encodings, defaultType)
            if kind not in escaped:
                escaped[kind] = html.escape(kind or "")
            if encoding not in escaped:
                escaped[encoding] = html.escape(encoding or "")
            rows.append(
                linePattern
                % {
                    "class": "odd" if odd else "even",
                    "href": quote_from_bytes(os.fsencode(name), safe=""),
                    "text": _shown(name),
                    "size": formatFileSize(size),
                    "type": escaped[kind],
                    "encoding": escaped[encoding],
                }
            )
            odd = not odd

        path: bytes = request.path
        header = "Directory listing for " + html.escape(
            unquote_to_bytes(path).decode("utf-8", "replace")
        )
        parent = "" if path == b"/" else _PARENT_LINK
        page = self.template % {
            "header": header,
            "parent": parent,
            "tableContent": "".join(rows),
        }
        return page.encode("utf-8")

    def __repr__(self) -> str:
        """Name the directory listed."""
        return f"<DirectoryLister of {self.path!r}>"

    __str__ = __repr__
