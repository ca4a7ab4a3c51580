"""
The one rule for whether a URL path segment may name a file: what
L{twisted_web_re.static.File}, L{twisted_web_re.twcgi.CGIDirectory} and
L{twisted_web_re.script.ResourceScriptDirectory} each ask before a segment
touches the file system, and again of the link it may turn out to be.

A segment reaches these checks percent-decoded (C{%2e%2e} is C{..} by then,
C{%2f} a slash inside one segment), so the rule is about the decoded bytes.
It has two parts:

  - L{isDangerous}: the segment could name something other than an entry of
    the directory it is looked up in (C{.}, C{..}, a separator, NUL, a drive
    on Windows).  Such a request is an attack or a broken client.
  - L{nameOf}: the segment may name an entry: it is not dangerous, it is
    UTF-8, it is not longer than a file name can be, and it is not a dotfile
    (unless those are shown).  Anything else names nothing.

L{entryWithin} then finds the entry, refusing a symbolic link that leads
out of the published tree.
"""

from __future__ import annotations

import os
import stat

from twisted_web_re._publish.oserror import isForbidden, isMissing

__all__ = [
    "MAX_NAME_BYTES",
    "entryStatusWithin",
    "entryWithin",
    "inside",
    "isDangerous",
    "isPublishable",
    "nameOf",
]

#: The longest file name, in bytes, the file systems the server runs on
#: allow (C{NAME_MAX} on Linux and the BSDs; NTFS allows 255 UTF-16 units,
#: which this never exceeds).  A longer segment names nothing.
MAX_NAME_BYTES = 255

#: Whether the server's own paths are Windows paths, where a colon starts a
#: drive (C{C:secret}) or an alternate data stream (C{file::$DATA}).
_WINDOWS = os.name == "nt"

#: The segments that name a directory itself or its parent.
_SELF_OR_PARENT = (b".", b"..")


def isDangerous(path: bytes, *, windows: bool = _WINDOWS) -> bool:
    """
    Return whether the path segment C{path} could name something other than
    an entry of the directory it is looked up in: C{.} and C{..}; anything
    holding a slash or a backslash (the separators of POSIX and of Windows,
    which a percent-encoded segment can carry); anything holding NUL (which
    the C library would take for the end of the name); and, on Windows,
    anything holding a colon (a drive or a data stream).

    @param path: the segment, percent-decoded.
    @param windows: apply the Windows part of the rule; by default, whether
        the server runs on Windows.
    """
    return (
        path in _SELF_OR_PARENT
        or b"/" in path
        or b"\\" in path
        or b"\x00" in path
        or (windows and b":" in path)
    )


def nameOf(
    path: bytes, *, showHidden: bool = False, windows: bool = _WINDOWS
) -> str | None:
    """
    Return the file name the path segment C{path} names, or C{None} if it
    names nothing a URL may reach: the empty segment, a segment that
    L{isDangerous} rejects, one that is not UTF-8 (among these the overlong
    encodings of C{.} and C{/}, such as C{%c0%ae}), one longer than
    L{MAX_NAME_BYTES}, and a dotfile unless C{showHidden}.

    @param path: the segment, percent-decoded.
    @param showHidden: let names starting with a dot through.
    @param windows: see L{isDangerous}.
    """
    if not path or len(path) > MAX_NAME_BYTES or isDangerous(path, windows=windows):
        return None
    if path[:1] == b"." and not showHidden:
        return None
    try:
        return path.decode("utf-8")
    except UnicodeDecodeError:
        return None


def isPublishable(name: str, *, showHidden: bool = False) -> bool:
    """
    Return whether the directory entry C{name} (as L{os.listdir} gives it)
    is one a URL may name by L{nameOf}: the same rule, so that a listing
    shows nothing that its links could not fetch.
    """
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        # Not UTF-8 on disk (the name holds escaped bytes): no URL names it.
        return False
    return nameOf(raw, showHidden=showHidden) is not None


def inside(path: str, root: str) -> bool:
    """
    Return whether C{path}, followed to the end of its links, is C{root} or
    below it (C{root} followed to the end of its own links too).
    """
    real = os.path.realpath(path)
    top = os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def entryWithin(
    directory: str, name: str, root: str, *, followSymlinks: bool = False
) -> str | None:
    """
    Return the path of the entry C{name} of C{directory} if it exists and,
    when it is a symbolic link, may be followed: it leads inside C{root}, or
    C{followSymlinks}.  Else C{None}, also when the entry may not be looked
    at.

    C{directory} must itself be inside the tree (each step of a URL is
    checked by this in turn), so only a link at this last step can lead out.

    @param name: a name L{nameOf} gave, or a directory entry.
    @raise OSError: the server cannot tell, for want of memory, say: neither
        a missing entry nor a forbidden one.
    """
    found = entryStatusWithin(directory, name, root, followSymlinks=followSymlinks)
    return None if found is None else found[0]


def entryStatusWithin(
    directory: str, name: str, root: str, *, followSymlinks: bool = False
) -> tuple[str, os.stat_result] | None:
    """
    L{entryWithin}, also returning the entry's own status (C{lstat}: a
    link's, not its target's), read as the rule is applied.

    @raise OSError: as L{entryWithin}.
    """
    path = os.path.join(directory, name)
    try:
        info = os.lstat(path)
    except OSError as error:
        if isMissing(error) or isForbidden(error):
            return None
        raise
    if stat.S_ISLNK(info.st_mode) and not followSymlinks and not inside(path, root):
        return None
    return path, info
