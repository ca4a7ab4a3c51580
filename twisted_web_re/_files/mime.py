"""
Media types and content codings for files, chosen by their file name
extensions.

The tables map an extension (lower-case, with its dot: C{".html"}) to a media
type or to a content coding.  The types are plain, without a C{charset}
parameter, as twisted.web's are: whether and how to state a text file's
charset is for the resource that serves the file to decide, not for this
table.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from types import MappingProxyType

__all__ = [
    "defaultContentEncodings",
    "defaultContentTypes",
    "getTypeAndEncoding",
    "loadMimeTypes",
]

# The types a web server must not get wrong, whatever the machine it runs on:
# mimetypes reads /etc/mime.types (and on Windows the registry, which has been
# known to map .js to text/plain), so without this table a browser could
# refuse a module script, a stylesheet or a font that another machine served
# correctly.  Sources, as of 2025:
#   - IANA Media Types registry, https://www.iana.org/assignments/media-types/
#   - WHATWG HTML (scripts: text/javascript) and MIME Sniffing standards
#   - MDN, "Common media types" (de facto types of formats without a
#     registration: .webm, .wav, .aac, .apng)
#   - RFC 9239: text/javascript for .js and .mjs (application/javascript is
#     obsolete)
#   - RFC 8259: application/json; W3C Web Application Manifest:
#     application/manifest+json for .webmanifest; W3C WebAssembly Web API:
#     application/wasm (browsers refuse streaming compilation without it)
#   - RFC 7303: application/xml preferred over text/xml; application/xhtml+xml
#   - RFC 8081: font/woff, font/woff2, font/ttf, font/otf
#   - RFC 9649: image/webp; AV1 Image File Format (AVIF) spec: image/avif;
#     IANA: image/vnd.microsoft.icon for .ico, image/svg+xml
#   - RFC 4337: video/mp4 and audio/mp4 (.m4a); RFC 5334: audio/ogg,
#     video/ogg; RFC 7845: Ogg Opus files (.opus) are audio/ogg;
#     RFC 3003: audio/mpeg; RFC 9639: audio/flac (not audio/x-flac)
#   - W3C WebVTT: text/vtt; RFC 7763: text/markdown; RFC 4180: text/csv
#   - RFC 6713: application/gzip; RFC 8878: application/zstd
# twisted.web shows .conf, .diff, .patch and .java as text/plain, so that a
# browser displays them rather than downloading them; so do we.  A .br file
# has no registered type; application/octet-stream makes a browser download
# it rather than guess (a file not known here gets the caller's default type,
# text/html by default).
_WEB_TYPES: Mapping[str, str] = MappingProxyType(
    {
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
        ".png": "image/png",
        ".apng": "image/apng",
        ".gif": "image/gif",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".webp": "image/webp",
        ".avif": "image/avif",
        ".woff": "font/woff",
        ".woff2": "font/woff2",
        ".ttf": "font/ttf",
        ".otf": "font/otf",
        ".mp4": "video/mp4",
        ".webm": "video/webm",
        ".ogv": "video/ogg",
        ".ogg": "audio/ogg",
        ".oga": "audio/ogg",
        ".opus": "audio/ogg",
        ".mp3": "audio/mpeg",
        ".m4a": "audio/mp4",
        ".aac": "audio/aac",
        ".flac": "audio/flac",
        ".wav": "audio/wav",
        ".vtt": "text/vtt",
        ".pdf": "application/pdf",
        ".txt": "text/plain",
        ".md": "text/markdown",
        ".csv": "text/csv",
        ".py": "text/x-python",
        ".rpy": "text/x-python",
        ".epy": "text/x-python",
        ".conf": "text/plain",
        ".diff": "text/plain",
        ".patch": "text/plain",
        ".java": "text/plain",
        ".zip": "application/zip",
        ".gz": "application/gzip",
        ".bz2": "application/x-bzip2",
        ".xz": "application/x-xz",
        ".zst": "application/zstd",
        ".br": "application/octet-stream",
    }
)

# twisted.web's codings.  Not ".br": browsers ask for Brotli only over HTTPS,
# and Firefox will not decode it over plain HTTP, nor do curl, wget or urllib
# unless told to, so a precompressed .br file sent as "Content-Encoding: br"
# to a client that did not ask for it arrives as garbage.  Serving .br (and
# .gz) variants safely takes Accept-Encoding negotiation, which an extension
# table cannot do; whoever wants the mapping anyway adds it to their File's
# contentEncodings.
_WEB_ENCODINGS: Mapping[str, str] = MappingProxyType({".gz": "gzip", ".bz2": "bzip2"})


def _lowered(types: Mapping[str, str]) -> dict[str, str]:
    """
    Return C{types} with lower-case extensions; where two extensions differ
    only in case, the one that was already lower-case wins.
    """
    result = {ext.lower(): kind for ext, kind in types.items() if ext != ext.lower()}
    result.update((ext, kind) for ext, kind in types.items() if ext == ext.lower())
    return result


@cache
def _defaultTypes() -> Mapping[str, str]:
    """
    The system's types with ours over them, read once per process.
    """
    if not mimetypes.inited:
        mimetypes.init()
    types = _lowered(mimetypes.types_map)
    types.update(_WEB_TYPES)
    return MappingProxyType(types)


def defaultContentTypes() -> dict[str, str]:
    """
    Return a new dictionary of every extension's media type: the Python
    L{mimetypes} database (with the system's C{mime.types} files), and over
    it a fixed table of the web's types, so that C{.js}, C{.mjs}, C{.css},
    C{.wasm}, C{.woff2} and the rest are the same on every machine.

    Each call returns a new dictionary, which the caller may change freely.
    """
    return dict(_defaultTypes())


def defaultContentEncodings() -> dict[str, str]:
    """
    Return a new dictionary of the extensions that name a content coding:
    C{.gz} (gzip) and C{.bz2} (bzip2), as twisted.web has them.

    Each call returns a new dictionary, which the caller may change freely.
    """
    return dict(_WEB_ENCODINGS)


def getTypeAndEncoding(
    filename: str,
    types: Mapping[str, str],
    encodings: Mapping[str, str],
    defaultType: str,
) -> tuple[str | None, str | None]:
    """
    Return the media type and the content coding of the file C{filename}
    from its extensions.

    The last extension (whatever its case) is looked up in C{encodings}
    first: if it names a coding, the extension before it gives the type, so
    C{"a.tar.gz"} is C{(types[".tar"], "gzip")}.  An extension not in
    C{types}, or none at all (C{"README"}, C{".bashrc"}), gives
    C{defaultType}.

    @param filename: the file's name or path.
    @param types: extension to media type.
    @param encodings: extension to content coding.
    @param defaultType: the type of a file whose extension is not known.
    @return: C{(type, coding)}, the coding C{None} if there is none.
    """
    stem, ext = os.path.splitext(filename)
    ext = ext.lower()
    encoding = None
    if ext in encodings:
        encoding = encodings[ext]
        ext = os.path.splitext(stem)[1].lower()
    return types.get(ext, defaultType), encoding


def _readMimeTypesFile(location: str) -> dict[str, str]:
    """
    Return the extensions a C{mime.types} file names (lines of a type then
    its extensions, C{#} comments), or nothing if it cannot be opened.
    """
    types: dict[str, str] = {}
    try:
        lines = open(location, encoding="utf-8")
    except OSError:
        return types
    with lines:
        for line in lines:
            words = line.split("#", 1)[0].split()
            for ext in words[1:]:
                types["." + ext.lower()] = words[0]
    return types


def loadMimeTypes(
    mimetype_locations: Sequence[str] | None = None,
    init: Callable[..., None] = mimetypes.init,
) -> dict[str, str]:
    """
    Initialise the L{mimetypes} module from C{mime.types} files and return a
    new dictionary of every extension's media type.

    As in twisted.web, C{init(mimetype_locations)} is called, which changes
    the L{mimetypes} module's global tables.  Unlike twisted.web, the result
    is a new dictionary, and the module's tables do not get our extra types.
    The result has the L{mimetypes} types, then the web types of
    L{defaultContentTypes} over them, then the types of the files named in
    C{mimetype_locations} over those: a file you name yourself has the last
    word, where the system's own files do not.

    @param mimetype_locations: paths of C{mime.types} files, read in order
        (a later file wins); L{None} for the usual ones (C{/etc/mime.types}
        and the others L{mimetypes.knownfiles} names).  A file that cannot
        be opened is skipped.
    @param init: the function that initialises L{mimetypes}; for tests.
    @return: extension (lower-case, with its dot) to media type.
    """
    init(mimetype_locations)
    types = _lowered(mimetypes.types_map)
    types.update(_WEB_TYPES)
    for location in mimetype_locations or ():
        types.update(_readMimeTypesFile(location))
    return types
