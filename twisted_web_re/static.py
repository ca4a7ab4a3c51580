"""
Static files: L{File} publishes a directory tree, with the validators,
conditional requests and byte ranges a cache or a video player expects, and
streams large files with back-pressure.

A URL can reach nothing outside the directory a L{File} was made for: each
path segment is checked before it touches the file system, symbolic links
leading out of the tree are not followed, and dotfiles are neither listed nor
served, unless the L{File}'s options say otherwise.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from typing import IO

from twisted.logger import Logger
from twisted.python.filepath import FilePath

from twisted_web_re import resource, server, util
from twisted_web_re._files.answer import SMALL_FILE as SMALL_FILE
from twisted_web_re._files.answer import answerFile
from twisted_web_re._files.asis import MalformedASIS, parseASIS
from twisted_web_re._files.cache import CachedFile, FileCache
from twisted_web_re._files.children import ChildCache
from twisted_web_re._files.listing import DirectoryLister, formatFileSize
from twisted_web_re._files.mime import (
    defaultContentEncodings,
    defaultContentTypes,
    getTypeAndEncoding,
    loadMimeTypes,
)
from twisted_web_re._files.opening import openFile as _openFile
from twisted_web_re._files.opening import regularInfo
from twisted_web_re._files.paths import (
    entryStatusWithin,
    entryWithin,
    inside,
    isDangerous,
    isPublishable,
    nameOf,
)
from twisted_web_re._files.producer import FileProducer
from twisted_web_re._files.registry import Registry
from twisted_web_re._publish.oserror import isForbidden, isMissing, unavailable
from twisted_web_re._publish.traversal import siteRequest
from twisted_web_re._publish.urls import withTrailingSlash
from twisted_web_re.iweb import IRequest
from twisted_web_re.resource import IResource
from twisted_web_re.server import NOT_DONE_YET

__all__ = [
    "ASISProcessor",
    "Data",
    "DirectoryLister",
    "File",
    "FileCache",
    "Redirect",
    "Registry",
    "addSlash",
    "dangerousPathError",
    "formatFileSize",
    "getTypeAndEncoding",
    "isDangerous",
    "loadMimeTypes",
]

_log = Logger()

#: What L{File.fileCache} is until a File of the tree first needs it.
_DEFAULT_CACHE = FileCache(maxEntries=0)

#: The most an C{.asis} file's status line and header fields may take.
ASIS_HEAD_LIMIT = 64 * 1024

#: What every request for a path segment L{isDangerous} rejects gets.
dangerousPathError = resource.NoResource("Invalid request URL.")


def addSlash(request: IRequest) -> bytes:
    """
    Return the URL C{request} asked for with a slash added to its path, its
    query kept: C{/docs?page=2} becomes C{/docs/?page=2}.

    A path starting with C{//} is kept from redirecting to another site (see
    L{twisted_web_re._publish.urls.withTrailingSlash}).
    """
    return withTrailingSlash(request.uri)


class _PerTree:
    """
    A mapping attribute of L{File}.  Read on the class, it is the defaults;
    on a L{File}, it is that File's own copy of them, made when first needed
    and then kept in the File's own attributes (where later reads find it
    without calling this), which the File hands on to the children it makes.
    """

    def __init__(self, defaults: Callable[[], dict[str, str]]) -> None:
        self._defaults = defaults()
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, instance: object | None, owner: type) -> dict[str, str]:
        if instance is None:
            return self._defaults
        mapping: dict[str, str] = dict(self._defaults)
        instance.__dict__[self._name] = mapping
        return mapping


class Data(resource.Resource):
    """
    A resource that answers GET and HEAD with fixed bytes of one media type.

    @ivar data: the body.
    @ivar type: its C{Content-Type}.
    """

    def __init__(self, data: bytes, type: str | bytes) -> None:
        super().__init__()
        self.data = data
        self.type = type

    def render_GET(self, request: IRequest) -> bytes:
        """Answer with the bytes and their type."""
        request.setHeader(b"content-type", self.type)
        return self.data


class Redirect(resource.Resource):
    """
    A resource that redirects (302) to one URL.

    @ivar url: where it redirects to.
    """

    def __init__(self, request: bytes | IRequest) -> None:
        """
        @param request: The URL, as C{bytes}; or, as in twisted.web, a
            request whose URL with a slash added (see L{addSlash}) is the
            target.
        """
        super().__init__()
        self.url: bytes = request if isinstance(request, bytes) else addSlash(request)

    def render(self, request: IRequest) -> bytes:
        """Redirect to L{url}."""
        return util.redirectTo(self.url, request)


class File(resource.Resource, FilePath[str]):  # type: ignore[misc]
    """
    Publishes a file, or a directory and everything below it.

    A request for a directory without its trailing slash is redirected (301)
    to the URL with it.  With the slash, the first of L{indexNames} present
    is served, else the L{directoryListing}.  A file whose extension is in
    L{processors} is handed to that processor; any other is served with the
    type and coding its extensions give, a C{Last-Modified}, an C{ETag}, and
    answers to conditional and range requests.

    Path segments that L{isDangerous} rejects, or that do not decode as
    UTF-8, give 404; so do dotfiles, unless L{showHidden}, and symbolic links
    that lead outside the tree, unless L{followSymlinks}.  A file that cannot
    be read, or that is not a regular file (a FIFO, a device), gives 403.

    @ivar indexNames: the names tried, in order, for a directory's page.
    @ivar processors: extension (C{".rpy"}) to a factory called with the
        file's path and the L{registry}, returning the resource to use.
    @ivar ignoredExts: extensions tried, in order, when a name is missing:
        with C{".rpy"}, C{/foo} is served from C{foo.rpy}; C{"*"} means any
        extension.
    @ivar contentTypes: extension (lower-case, C{".html"}) to media type.
        This File's own, handed on to the Files it makes for its children;
        on the class, the defaults every File starts from.
    @ivar contentEncodings: extension to content coding (C{".gz"}: gzip),
        kept as L{contentTypes} is.
    @ivar defaultType: the type of a file whose extension is not known.
    @ivar registry: the L{Registry} handed to processors.
    @ivar followSymlinks: follow symbolic links that lead out of the tree.
    @ivar showHidden: list and serve names that start with a dot.
    @ivar fileCache: the L{FileCache} keeping small files' contents and
        validators between requests, shared by the Files of one tree;
        C{None} to read every file for every request.  By default each
        tree gets its own, with the default bounds.
    @cvar useSendfile: send large bodies with C{os.sendfile} over plain
        TCP.  Off by default: over loopback it saves CPU per byte, but a
        10 MiB file went out at 0.74x to 1.08x the throughput of plain
        writes (nginx too is faster there without it; see
        C{doc/static.md}).
    @cvar childNotFound: the resource answering for what is not found.
    @cvar forbidden: the resource answering for what cannot be read.
    """

    contentTypes = _PerTree(defaultContentTypes)
    contentEncodings = _PerTree(defaultContentEncodings)
    processors: dict[str, Callable[[str, Registry], IResource]] = {}
    indexNames = ["index", "index.html", "index.htm", "index.rpy"]
    childNotFound: IResource = resource.NoResource("File not found.")
    forbidden: IResource = resource.ForbiddenResource()
    _root: str | None = None
    fileCache: FileCache | None = _DEFAULT_CACHE
    useSendfile = False
    # The entry's status as the URL's path rules read it, for render_GET.
    _seen: os.stat_result | None = None
    # The tree's ChildCache, once a File of the tree made one.
    _children: ChildCache[File] | None = None
    # The path's last extension; it and the one before it, lower-cased.
    _exts: tuple[str, str, str] | None = None

    def __init__(
        self,
        path: str | bytes | os.PathLike[str],
        defaultType: str = "text/html",
        ignoredExts: Sequence[str] | int = (),
        registry: Registry | None = None,
        allowExt: int = 0,
        *,
        followSymlinks: bool = False,
        showHidden: bool = False,
        fileCache: FileCache | None = _DEFAULT_CACHE,
    ) -> None:
        """
        @param path: the file or directory to publish.
        @param defaultType: see L{defaultType}.
        @param ignoredExts: see L{ignoredExts}; C{True} stands for C{["*"]},
            as in old twisted.web code.
        @param registry: see L{registry}; a new one by default.
        @param allowExt: if true, L{ignoredExts} is C{["*"]}.
        @param followSymlinks: see L{followSymlinks}.
        @param showHidden: see L{showHidden}.
        @param fileCache: see L{fileCache}.
        """
        resource.Resource.__init__(self)
        FilePath.__init__(self, os.fsdecode(path))
        self.defaultType = defaultType
        if isinstance(ignoredExts, int):
            ignoredExts = ("*",) if ignoredExts else ()
        self.ignoredExts = ["*"] if allowExt else list(ignoredExts)
        self.registry = registry or Registry()
        self.processors = dict(type(self).processors)
        self.indexNames = list(type(self).indexNames)
        self.followSymlinks = followSymlinks
        self.showHidden = showHidden
        if fileCache is not _DEFAULT_CACHE:
            self.fileCache = fileCache

    def ignoreExt(self, ext: str) -> None:
        """
        Serve C{name + ext} for a request for C{name} that does not exist.
        """
        self.ignoredExts.append(ext)

    # -- finding children -----------------------------------------------------

    def _allowed(self, name: str) -> bool:
        """Whether a directory entry's name may be published at all."""
        return isPublishable(name, showHidden=self.showHidden)

    def _entry(self, name: str) -> str | None:
        """
        Return the path of entry C{name} of this directory if it exists and,
        when it is a symbolic link, may be followed; else C{None}.

        The File this is called on is inside the tree, so only a link at this
        last step can lead out of it.

        @raise OSError: the server cannot tell, for want of memory, say (see
            L{_failure}).
        """
        return entryWithin(
            self.path, name, self._root or self.path, followSymlinks=self.followSymlinks
        )

    def _withExtension(self, name: str) -> str | None:
        """
        Find the sibling of the missing C{name} that L{ignoredExts} allow.

        @raise OSError: the server cannot tell, for want of descriptors, say
            (see L{_failure}).
        """
        for ext in self.ignoredExts:
            if ext == "*":
                prefix = name + "."
                try:
                    candidates = sorted(os.listdir(self.path))
                except OSError as error:
                    if isMissing(error) or isForbidden(error):
                        continue
                    raise
                for candidate in candidates:
                    if candidate.startswith(prefix) and self._allowed(candidate):
                        found = self._entry(candidate)
                        if found is not None:
                            return found
            elif self._allowed(name + ext):
                found = self._entry(name + ext)
                if found is not None:
                    return found
        return None

    def _processorFor(self, path: str) -> Callable[[str, Registry], IResource] | None:
        """
        The processor for the file at C{path}, its extension compared without
        regard to case: a case-insensitive file system would otherwise serve
        C{INDEX.RPY} as its source.
        """
        return self._processorForExtension(os.path.splitext(path)[1])

    def _processorForExtension(
        self, ext: str
    ) -> Callable[[str, Registry], IResource] | None:
        """L{_processorFor} a path whose extension is C{ext}."""
        processors = self.processors
        found = processors.get(ext)
        if found is None and ext:
            lowered = ext.lower()
            for known, processor in processors.items():
                if known.lower() == lowered:
                    return processor
        return found

    def _publish(self, path: str) -> IResource:
        """The resource for the entry at C{path}: processed, or a File."""
        processor = self._processorFor(path)
        if processor is not None:
            return processor(path, self.registry)
        return self.createSimilarFile(path)

    def _failure(self, error: OSError) -> IResource:
        """
        The resource answering for what C{error} kept from being opened:
        L{childNotFound} if it says nothing is there, L{forbidden} if it
        says that the file may not be had; else (the server out of
        descriptors or memory, a disk error) a 503 page asking the client to
        retry, the error logged.
        """
        if isMissing(error):
            return self.childNotFound
        if isForbidden(error):
            return self.forbidden
        return unavailable(error, error.filename or self.path)

    def _index(self) -> IResource:
        """The resource for this directory's URL with its trailing slash."""
        if not os.path.isdir(self.path):
            return self.childNotFound
        try:
            for name in self.indexNames:
                found = self._entry(name)
                if found is not None and os.path.isfile(found):
                    return self._publish(found)
            return self.directoryListing()
        except OSError as error:
            return self._failure(error)

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """
        Return the resource for entry C{path} of this directory: the index
        page or listing for the empty segment; a processed resource or a
        similar L{File} for an entry; L{childNotFound} for anything missing
        or refused.
        """
        if not path:
            return self._index()
        name = nameOf(path, showHidden=self.showHidden)
        if name is None:
            return dangerousPathError if isDangerous(path) else self.childNotFound
        try:
            entry = entryStatusWithin(
                self.path,
                name,
                self._root or self.path,
                followSymlinks=self.followSymlinks,
            )
            if entry is None:
                found = self._withExtension(name) if self.ignoredExts else None
                if found is None:
                    return self.childNotFound
                return self._publish(found)
        except OSError as error:
            return self._failure(error)
        entryPath, info = entry
        if type(self) is not File:
            # A subclass's Files may keep what they learn of a request.
            child = self._publish(entryPath)
            if isinstance(child, File):
                child._seen = info
            return child
        children = self._childCache()
        kept = children.get(entryPath, info)
        if kept is not None and self._madeLike(kept):
            kept._seen = info
            return kept
        if self._processorFor(entryPath) is not None:
            return self._publish(entryPath)
        made = self.createSimilarFile(entryPath)
        made._seen = info
        children.put(entryPath, info, made)
        return made

    def _childCache(self) -> ChildCache[File]:
        """The tree's L{ChildCache}, made now if this is the first need."""
        children = self._children
        if children is None:
            children = self._children = ChildCache()
        return children

    def _madeLike(self, child: File) -> bool:
        """
        Whether C{child}, kept from an earlier request, is what
        L{createSimilarFile} would make now: the options this File hands on
        may have changed since, or a processor been added for its extension.
        """
        processors = self.processors
        return (
            child.processors is processors
            and (
                not processors
                or self._processorForExtension(child._extensions()[0]) is None
            )
            and child.defaultType == self.defaultType
            and child.ignoredExts == self.ignoredExts
            and child.indexNames == self.indexNames
            and child.registry is self.registry
            and child.childNotFound is self.childNotFound
            and child.forbidden is self.forbidden
            and child.followSymlinks == self.followSymlinks
            and child.showHidden == self.showHidden
            and child.fileCache is self.fileCache
            and child.contentTypes is self.contentTypes
            and child.contentEncodings is self.contentEncodings
        )

    # Names of entries on disk are str, as in twisted.web, where the names of
    # a plain Resource's children are bytes.
    def listNames(self) -> list[str]:  # type: ignore[override]
        """
        Return the sorted names this directory publishes: its entries but
        for those L{getChild} would refuse (dotfiles, links out of the tree,
        names that are not UTF-8); nothing if it is not a directory.

        @raise OSError: the directory cannot be read.
        """
        if not os.path.isdir(self.path):
            return []
        names = []
        with os.scandir(self.path) as entries:
            for entry in entries:
                name = entry.name
                if not self._allowed(name):
                    continue
                if (
                    entry.is_symlink()
                    and not self.followSymlinks
                    and not inside(entry.path, self._root or self.path)
                ):
                    continue
                names.append(name)
        names.sort()
        return names

    def listEntities(self) -> list[File]:  # type: ignore[override]
        """Return a similar L{File} for each of L{listNames}."""
        return [
            self.createSimilarFile(os.path.join(self.path, name))
            for name in self.listNames()
        ]

    def directoryListing(self) -> DirectoryLister:
        """
        Return the HTML listing of this directory, showing L{listNames}.

        @raise OSError: the directory cannot be read.
        """
        return DirectoryLister(
            self.path,
            self.listNames(),
            self.contentTypes,
            self.contentEncodings,
            self.defaultType,
        )

    def createSimilarFile(self, path: str) -> File:
        """
        Return a L{File} of this class for C{path}, in the same tree: it
        shares this File's processors, content types and codings, registry
        and options, and has a copy of its index names.
        """
        similar = self.__class__(
            path, self.defaultType, self.ignoredExts, self.registry
        )
        similar.processors = self.processors
        similar.indexNames = self.indexNames[:]
        similar.childNotFound = self.childNotFound
        similar.forbidden = self.forbidden
        similar.contentTypes = self.contentTypes
        similar.contentEncodings = self.contentEncodings
        similar.followSymlinks = self.followSymlinks
        similar.showHidden = self.showHidden
        similar.fileCache = self._cache()
        similar._root = self._root or self.path
        similar._children = self._children
        return similar

    def _extensions(self) -> tuple[str, str, str]:
        """
        The path's last extension (C{".Gz"}); it lower-cased (C{".gz"}); and
        the extension before it, lower-cased (C{".tar"}).
        """
        exts = self._exts
        if exts is None:
            stem, ext = os.path.splitext(self.basename())
            exts = self._exts = (ext, ext.lower(), os.path.splitext(stem)[1].lower())
        return exts

    def _cache(self) -> FileCache | None:
        """
        The tree's L{fileCache}, made now if this is the first File of the
        tree to need it.
        """
        cache = self.fileCache
        if cache is _DEFAULT_CACHE:
            cache = self.fileCache = FileCache()
        return cache

    # -- serving --------------------------------------------------------------

    def openForReading(self) -> IO[bytes]:
        """
        Open the file for reading, without blocking on a FIFO: a hook for
        subclasses that serve something else (decrypted, say) of the same
        length.

        @raise OSError: it cannot be opened.
        """
        return _openFile(self.path)

    def redirect(self, request: IRequest) -> bytes:
        """Redirect (301) to this directory's URL with its trailing slash."""
        page = util.redirectTo(addSlash(request), request)
        request.setResponseCode(301)
        return page

    def render_GET(self, request: server.Request) -> bytes | int:
        """
        Serve the file (for HEAD, its head), or redirect a directory's URL to
        its slash form.
        """
        cache = self.fileCache
        if cache is _DEFAULT_CACHE:
            cache = self._cache()
        if cache is not None and type(self).openForReading is File.openForReading:
            seen, self._seen = self._seen, None
            cached = self._cached(cache, seen)
            if cached is not None:
                self._setType(request)
                answerFile(request, cached, None, self._sender)
                return NOT_DONE_YET
        try:
            opened = self.openForReading()
            info = regularInfo(opened)
        except IsADirectoryError:
            return self.redirect(request)
        except PermissionError:
            if os.path.isdir(self.path):
                return self.redirect(request)
            return self.forbidden.render(request)
        except OSError as error:
            return self._failure(error).render(request)
        try:
            self._setType(request)
            entry = CachedFile.ofStatus(info)
            if (
                cache is not None
                and type(self).openForReading is File.openForReading
                and cache.wants(info)
            ):
                with opened:
                    # The length stated, not what a file growing meanwhile
                    # holds.
                    entry.data = opened.read(info.st_size)
                if len(entry.data) == info.st_size:
                    cache.put(self.path, entry)
                answerFile(request, entry, None, self._sender)
            else:
                answerFile(request, entry, opened, self._sender)
        except BaseException:
            # Whatever failed is the server's 500 to answer; the file must not
            # stay open until the garbage collector finds it.
            opened.close()
            raise
        return NOT_DONE_YET

    render_HEAD = render_GET

    def _cached(
        self, cache: FileCache, seen: os.stat_result | None
    ) -> CachedFile | None:
        """
        The cache's entry for this file if it is there and the file is as it
        was: compared with C{seen}, the status its URL's path rules read,
        when that is a regular file's; else with its status read now.
        """
        if seen is None or stat.S_ISLNK(seen.st_mode):
            try:
                seen = os.stat(self.path)
            except OSError:
                return None
        elif not stat.S_ISREG(seen.st_mode):
            return None
        return cache.get(self.path, seen)

    def _sender(
        self,
        request: server.Request,
        coding: bytes | None,
        pieces: Sequence[bytes | tuple[int, int]],
    ) -> Callable[[int, int, int], int] | None:
        """
        The channel's way of sending this file's bytes straight from the
        file (see L{FileProducer}), if the body may go so: the file as
        L{File} opens it (not a subclass's L{openForReading}), uncoded, one
        span (not multipart), on a channel that can (HTTP/1.1 on plain TCP
        decides for each block).
        """
        if (
            not self.useSendfile
            or coding is not None
            or len(pieces) != 1
            or type(self).openForReading is not File.openForReading
        ):
            return None
        sender: Callable[[int, int, int], int] | None = getattr(
            request.channel, "sendFileRegion", None
        )
        return sender

    def _setType(self, request: server.Request) -> None:
        """
        Set the response's media type and content coding from the name, as
        L{getTypeAndEncoding} gives them.
        """
        _, ext, before = self._exts or self._extensions()
        encodings = self.contentEncodings
        encoding = None
        if ext in encodings:
            encoding = encodings[ext]
            ext = before
        contentType: str | bytes | None = self.contentTypes.get(ext, self.defaultType)
        if contentType is None:
            request.responseHeaders.removeHeader(b"content-type")
        else:
            if type(contentType) is str:
                # Bytes are checked by setHeader without a further call.
                contentType = contentType.encode("utf-8")
            request.setHeader(b"content-type", contentType)
        if encoding is not None:
            request.setHeader(b"content-encoding", encoding)


class ASISProcessor(resource.Resource):
    """
    Serves an C{.asis} file: a response written out whole, its status line
    and header fields, an empty line, then the body, as in Apache's mod_asis.

    The head is parsed, not copied: the status must be 200 to 599, every
    field must be valid (a file that breaks these rules gets a 500 page and
    a log line naming it), and the framing (C{Content-Length},
    C{Transfer-Encoding}, C{Connection}) is the server's.  The body streams.
    """

    isLeaf = True

    def __init__(self, path: str | bytes, registry: Registry | None = None) -> None:
        """
        @param path: the C{.asis} file.
        @param registry: unused, as in twisted.web; the processor signature.
        """
        super().__init__()
        self.path = os.fsdecode(path)
        self.registry = registry or Registry()

    def render(self, request: IRequest) -> bytes | int:
        """
        Send the file's response.

        @raise TypeError: C{request} is not a Site's request (its file
            streams on the request's reactor).
        """
        request = siteRequest(request)
        try:
            opened = _openFile(self.path)
            info = regularInfo(opened)
        except OSError as error:
            if isMissing(error) or isinstance(error, IsADirectoryError):
                return File.childNotFound.render(request)
            if isForbidden(error):
                return File.forbidden.render(request)
            return unavailable(error, self.path).render(request)
        try:
            status, reason, fields, bodyStart = parseASIS(opened.read(ASIS_HEAD_LIMIT))
            request.setResponseCode(status, reason)
        except (MalformedASIS, ValueError) as error:
            opened.close()
            _log.error("Cannot serve {path}: {error}", path=self.path, error=error)
            return resource.ErrorPage(
                500, "Malformed .asis File", "The server cannot send this response."
            ).render(request)
        headers = request.responseHeaders
        for name, values in fields.items():
            headers.setRawHeaders(name, values)
        length = max(info.st_size - bodyStart, 0)
        request.setHeader(b"content-length", b"%d" % length)
        if request.method == b"HEAD" or not length:
            opened.close()
            request.finish()
            return NOT_DONE_YET
        FileProducer(
            request, opened, ((bodyStart, bodyStart + length - 1),), request.reactor
        ).start()
        return NOT_DONE_YET
