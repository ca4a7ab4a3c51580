"""
Tests for L{twisted_web_re._files.mime}: the default media types and content
codings, choosing a file's type and coding from its name, and loading
C{mime.types} files.

Tests that let L{mimetypes} read files restore its global tables afterwards.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from pathlib import Path

import pytest

from twisted_web_re._files import mime as _mime
from twisted_web_re._files.mime import (
    defaultContentEncodings,
    defaultContentTypes,
    getTypeAndEncoding,
    loadMimeTypes,
)

#: The web's types, which must not depend on the machine.
WEB_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".ico": "image/vnd.microsoft.icon",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".py": "text/x-python",
    ".rpy": "text/x-python",
    ".epy": "text/x-python",
}

#: A small, fixed table for the getTypeAndEncoding cases.
TYPES = {
    ".html": "text/html",
    ".tar": "application/x-tar",
    ".txt": "text/plain",
    ".css": "text/css",
    ".gz": "application/gzip",
}
ENCODINGS = {".gz": "gzip", ".bz2": "bzip2"}
DEFAULT = "application/x-default"


@pytest.fixture
def isolatedMimetypes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """
    Let the test change L{mimetypes}' global tables and the cached defaults;
    both are put back afterwards.
    """
    for name in ("inited", "types_map", "common_types", "encodings_map", "suffix_map"):
        monkeypatch.setattr(mimetypes, name, getattr(mimetypes, name))
    # Without a database, mimetypes.init builds a new one rather than adding
    # to the one the rest of the process shares.
    monkeypatch.setattr(mimetypes, "_db", None)
    _mime._defaultTypes.cache_clear()
    yield
    _mime._defaultTypes.cache_clear()


# -- the default tables ----------------------------------------------------------------


@pytest.mark.parametrize(("ext", "kind"), sorted(WEB_TYPES.items()))
def test_webTypes(ext: str, kind: str) -> None:
    """
    Every well-known web extension has its current standard type: the
    types of RFC 9239, RFC 8081, RFC 7303 and the rest, not the older
    names (application/javascript, text/xml, audio/x-flac).
    """
    assert defaultContentTypes()[ext] == kind


def test_systemTypesIncluded() -> None:
    """
    Extensions that only the L{mimetypes} database knows are there too.
    """
    types = defaultContentTypes()
    assert types[".tar"] == "application/x-tar"
    assert types[".jpg"] == "image/jpeg"
    assert len(types) > len(_mime._WEB_TYPES)


def test_extensionsLowerCaseWithDot() -> None:
    """
    Every extension is lower-case and starts with a dot, so that a lookup
    of a lower-cased extension finds it.
    """
    for ext in defaultContentTypes():
        assert ext.startswith(".")
        assert ext == ext.lower()


def test_webTypesIndependentOfMachine(
    isolatedMimetypes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    A machine whose C{mime.types} (or registry) gets the web's types wrong
    still serves them right, and keeps the types only it knows.
    """
    monkeypatch.setattr(mimetypes, "inited", True)
    monkeypatch.setattr(
        mimetypes,
        "types_map",
        {".js": "text/plain", ".css": "text/x-css", ".FOO": "x-local/foo"},
    )
    types = defaultContentTypes()
    assert types[".js"] == "text/javascript"
    assert types[".css"] == "text/css"
    assert types[".foo"] == "x-local/foo"


def test_contentTypesFreshEachCall() -> None:
    """
    Each call returns a new dictionary: changing one (as the howto does to
    add a type) changes no other.
    """
    first = defaultContentTypes()
    second = defaultContentTypes()
    assert first is not second
    assert first == second
    first[".woff2"] = "application/x-changed"
    first[".new"] = "x-new/type"
    third = defaultContentTypes()
    assert third[".woff2"] == "font/woff2"
    assert ".new" not in third


def test_contentEncodings() -> None:
    """
    The codings are twisted.web's: gzip and bzip2.  Brotli is not among
    them: a C{.br} file is a download, not a response sent with
    C{Content-Encoding: br} to clients that did not ask for it.
    """
    assert defaultContentEncodings() == {".gz": "gzip", ".bz2": "bzip2"}
    assert defaultContentTypes()[".br"] == "application/octet-stream"


def test_contentEncodingsFreshEachCall() -> None:
    """
    Each call returns a new dictionary: changing one changes no other.
    """
    first = defaultContentEncodings()
    assert first is not defaultContentEncodings()
    first[".br"] = "br"
    assert ".br" not in defaultContentEncodings()


# -- getTypeAndEncoding ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("a.html", ("text/html", None)),
        ("A.HTML", ("text/html", None)),
        ("index.Html", ("text/html", None)),
        ("a.b.c.css", ("text/css", None)),
        ("a.tar.gz", ("application/x-tar", "gzip")),
        ("A.TAR.GZ", ("application/x-tar", "gzip")),
        ("notes.txt.bz2", ("text/plain", "bzip2")),
        ("a.unknown.gz", (DEFAULT, "gzip")),
        ("a.gz", (DEFAULT, "gzip")),
        ("a.gz.gz", ("application/gzip", "gzip")),
        ("a.unknown", (DEFAULT, None)),
        ("README", (DEFAULT, None)),
        ("a.", (DEFAULT, None)),
        (".bashrc", (DEFAULT, None)),
        (".bashrc.gz", (DEFAULT, "gzip")),
        (".hidden.txt", ("text/plain", None)),
        ("dir.d/file", (DEFAULT, None)),
        ("/srv/www.example/page.html", ("text/html", None)),
    ],
)
def test_getTypeAndEncoding(
    filename: str, expected: tuple[str | None, str | None]
) -> None:
    """
    The last extension, in any case, is a coding or a type; after a coding,
    the extension before it is the type; no extension, or an unknown one,
    gives the default type.  A leading dot starts a name, not an extension.
    """
    assert getTypeAndEncoding(filename, TYPES, ENCODINGS, DEFAULT) == expected


def test_getTypeAndEncodingWithDefaults() -> None:
    """
    With the default tables, a compressed tarball is a tar file coded gzip,
    and a module script is JavaScript.
    """
    types, encodings = defaultContentTypes(), defaultContentEncodings()
    assert getTypeAndEncoding("x.tar.gz", types, encodings, "text/html") == (
        "application/x-tar",
        "gzip",
    )
    assert getTypeAndEncoding("app.MJS", types, encodings, "text/html") == (
        "text/javascript",
        None,
    )


# -- loadMimeTypes ---------------------------------------------------------------------


def writeMimeTypes(path: Path) -> Path:
    """Write a C{mime.types} file with comments, several extensions a line."""
    path.write_text(
        "# a comment line\n"
        "application/x-test-one   tst1 TST2\n"
        "\n"
        "text/x-override   js   # the file's word on .js\n"
        "application/x-empty\n",
        encoding="utf-8",
    )
    return path


def test_loadMimeTypesCallsInit(isolatedMimetypes: None) -> None:
    """
    C{init} is called once, with the locations as given.
    """
    calls: list[object] = []
    locations = ["/nonexistent/mime.types"]
    loadMimeTypes(locations, init=calls.append)
    loadMimeTypes(init=calls.append)
    assert calls == [locations, None]


def test_loadMimeTypesReadsFile(isolatedMimetypes: None, tmp_path: Path) -> None:
    """
    The types of a C{mime.types} file are in the result and in
    L{mimetypes}' own tables, each extension lower-cased.
    """
    location = str(writeMimeTypes(tmp_path / "mime.types"))
    types = loadMimeTypes([location])
    assert types[".tst1"] == "application/x-test-one"
    assert types[".tst2"] == "application/x-test-one"
    assert mimetypes.guess_type("a.tst1")[0] == "application/x-test-one"


def test_loadMimeTypesNamedFileWins(isolatedMimetypes: None, tmp_path: Path) -> None:
    """
    A file the caller names has the last word, even over the web types.
    """
    location = str(writeMimeTypes(tmp_path / "mime.types"))
    types = loadMimeTypes([location])
    assert types[".js"] == "text/x-override"
    assert types[".css"] == "text/css"


def test_loadMimeTypesWebTypesOverSystem(isolatedMimetypes: None) -> None:
    """
    Over what L{mimetypes} knows (here, a system file's dated types), the
    web types win; what only the system knows stays.
    """

    def init(locations: object) -> None:
        mimetypes.types_map = {".js": "application/x-javascript", ".sys": "x/sys"}

    types = loadMimeTypes(init=init)
    assert types[".js"] == "text/javascript"
    assert types[".sys"] == "x/sys"
    assert types[".woff2"] == "font/woff2"


def test_loadMimeTypesNewDictionary(isolatedMimetypes: None) -> None:
    """
    The result is a new dictionary each call; L{mimetypes}' table does not
    get the web types added to it.
    """

    def init(locations: object) -> None:
        mimetypes.types_map = {".sys": "x/sys"}

    first = loadMimeTypes(init=init)
    assert first is not mimetypes.types_map
    assert first is not loadMimeTypes(init=init)
    assert mimetypes.types_map == {".sys": "x/sys"}


def test_loadMimeTypesMissingFileSkipped(
    isolatedMimetypes: None, tmp_path: Path
) -> None:
    """
    A named file that does not exist is skipped, as L{mimetypes} skips it.
    """
    types = loadMimeTypes([str(tmp_path / "absent.types")])
    assert types[".html"] == "text/html"
