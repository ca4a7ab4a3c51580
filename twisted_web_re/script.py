"""
Python files as web pages: C{.rpy} resource scripts, which make the resource
that renders a request, and C{.epy} scripts, which write the response
themselves.

A script runs anew for every request, so an edit shows at the next reload.
It runs with what L{ResourceScript} and L{PythonScript} put in its namespace:
its own C{__file__}, the C{registry} that keeps data from one run to the next,
and either C{cache}/C{recache} and C{resource} (C{.rpy}) or the C{request}
(C{.epy}).  A script that fails is answered with the site's 500 page, and
logged with its file name.
"""

from __future__ import annotations

import os
from types import CodeType
from typing import Any

from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re import resource, server, static
from twisted_web_re._files.paths import entryWithin, nameOf
from twisted_web_re._publish.oserror import isForbidden, isMissing, unavailable
from twisted_web_re._publish.traversal import siteRequest
from twisted_web_re.iweb import IRequest
from twisted_web_re.resource import IResource
from twisted_web_re.server import NOT_DONE_YET

__all__ = [
    "AlreadyCached",
    "CacheScanner",
    "PythonScript",
    "ResourceScript",
    "ResourceScriptDirectory",
    "ResourceScriptWrapper",
]

_log = Logger()

#: What C{resource} holds in a resource script's namespace until the script
#: assigns to it.
_NO_RESOURCE = object()


class AlreadyCached(Exception):
    """
    Raised by C{cache()} inside a resource script whose resource is already
    cached: it stops the script, and the cached resource is used instead.

    @ivar cached: the cached resource.
    """

    def __init__(self, cached: IResource) -> None:
        super().__init__(cached)
        self.cached = cached


class CacheScanner:
    """
    The C{cache} and C{recache} functions of one run of a resource script,
    and what they asked for.

    @ivar path: the script's file name, the key of its cached resource.
    @ivar registry: the registry holding cached resources.
    @ivar doCache: true once the script asked for the resource it makes to
        be cached.
    """

    def __init__(self, path: str, registry: static.Registry) -> None:
        self.path = path
        self.registry = registry
        self.doCache = False

    def cache(self) -> None:
        """
        Use the resource cached for this script, if there is one, and stop the
        script here; otherwise cache the resource this run makes.

        @raise AlreadyCached: a resource is cached for this script.  (It has
            to be an exception: nothing else stops a running script.)
        """
        cached = self.registry.getCachedPath(self.path)
        if cached is not None:
            raise AlreadyCached(cached)
        self.recache()

    def recache(self) -> None:
        """
        Cache the resource this run makes, replacing any cached one.
        """
        self.doCache = True


def _load(filename: str) -> CodeType:
    """
    Read and compile the Python file C{filename}, so that tracebacks name it.

    @raise OSError: the file cannot be read.
    @raise SyntaxError: it is not valid Python.
    """
    with open(filename, "rb") as f:
        source = f.read()
    # dont_inherit: this module's "from __future__ import annotations" is not
    # the script's business.
    return compile(source, filename, "exec", dont_inherit=True)


def _logFailure(filename: str, failure: Failure) -> None:
    """
    Log, naming the file, that the script C{filename} failed with C{failure}.
    (Its traceback is logged with the request that it failed.)
    """
    _log.error(
        "Script {path} failed: {error}",
        path=filename,
        error=f"{type(failure.value).__name__}: {failure.getErrorMessage()}",
    )


class _ScriptFailed(resource.Resource):
    """
    Stands for a resource script that failed: it, and anything below it, is
    answered as a request whose rendering raised the script's exception, with
    the site's 500 page (showing the traceback only if its
    C{displayTracebacks} is set).

    @ivar failure: what the script raised.
    """

    isLeaf = True

    def __init__(self, failure: Failure) -> None:
        super().__init__()
        self.failure = failure

    def render(self, request: IRequest) -> int:
        """
        Fail the request with the script's exception.  (Not by raising it:
        the server would not catch a script's C{SystemExit}.)

        @raise TypeError: C{request} is not a Site's request, whose error
            page this is.
        """
        siteRequest(request).processingFailed(self.failure)
        return NOT_DONE_YET

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """Every path below a failed script is the same failure."""
        return self


def _failed(filename: str, failure: Failure) -> _ScriptFailed:
    """Log that the script C{filename} failed, and stand for it."""
    _logFailure(filename, failure)
    return _ScriptFailed(failure)


def _isForeignResource(candidate: object) -> bool:
    """
    Whether C{candidate} is a resource by twisted.web's duck type (it can
    render and has children) that does not provide our L{resource.IResource}:
    one written for twisted.web itself, say.
    """
    return (
        not resource.IResource.providedBy(candidate)
        and callable(getattr(candidate, "render", None))
        and callable(getattr(candidate, "getChildWithDefault", None))
    )


@implementer(resource.IResource)
class _ForeignResource:
    """
    Publishes a resource written for twisted.web itself, whose classes are not
    ours: its "unsupported method" exception becomes ours, so that the client
    gets 405 rather than 500, and its children are published the same way.

    @ivar original: the resource.
    """

    def __init__(self, original: Any) -> None:
        self.original = original

    @property
    def isLeaf(self) -> bool:
        """The resource's own C{isLeaf}."""
        return bool(getattr(self.original, "isLeaf", False))

    def getChildWithDefault(self, name: bytes, request: IRequest) -> IResource:
        """The resource's child C{name}, adapted in turn if it is foreign."""
        return _publishable(self.original.getChildWithDefault(name, request))

    def putChild(self, path: bytes, child: object) -> None:
        """Give the resource a child."""
        self.original.putChild(path, child)

    def render(self, request: IRequest) -> bytes | int:
        """
        Render the resource.

        @raise resource.UnsupportedMethod: it raised its own kind of
            C{UnsupportedMethod} (twisted.web's, which this package must not
            import, is known by its name and its C{allowedMethods}).
        """
        try:
            return self.original.render(request)
        except Exception as error:
            allowed = getattr(error, "allowedMethods", None)
            if type(error).__name__ != "UnsupportedMethod" or allowed is None:
                raise
            raise resource.UnsupportedMethod(list(allowed)) from error


def _publishable(found: Any) -> IResource:
    """C{found}, adapted if it is a foreign resource (see L{_ForeignResource})."""
    return _ForeignResource(found) if _isForeignResource(found) else found


def ResourceScript(path: str | bytes, registry: static.Registry) -> IResource:
    """
    Run the resource script at C{path} and return the resource it assigns to
    C{resource}: the processor for C{.rpy} files in a L{static.File}'s
    C{processors}.

    The script runs with C{__file__} (its file name), C{registry}, C{resource}
    and the functions C{cache()} (from now on use the resource this run makes,
    and stop the script at once when there is one) and C{recache()} (replace
    the cached resource with the one this run makes) in its namespace.

    A resource written for twisted.web rather than for this package is
    adapted, so that a method it lacks is answered 405 rather than 500.

    @param path: the script's file name.
    @param registry: the L{static.Registry} given to the script, which holds
        the cached resources.
    @return: the resource; or, if the script cannot be read, raises, or
        assigns no resource to C{resource}, a resource that fails every
        request with the site's 500 page, the failure having been logged
        with the file's name; or, if the server is short of descriptors or
        memory to read it, a 503 page asking the client to retry.
    """
    filename = os.fsdecode(path)
    scanner = CacheScanner(filename, registry)
    namespace: dict[str, Any] = {
        "__file__": filename,
        "resource": _NO_RESOURCE,
        "registry": registry,
        "cache": scanner.cache,
        "recache": scanner.recache,
    }
    try:
        code = _load(filename)
    except OSError as error:
        if not (isMissing(error) or isForbidden(error)):
            return unavailable(error, filename)
        return _failed(filename, Failure())
    except Exception:
        return _failed(filename, Failure())
    try:
        exec(code, namespace)
    except AlreadyCached as already:
        return already.cached
    # SystemExit too: a script calling sys.exit() must not stop the server.
    except (Exception, SystemExit):
        return _failed(filename, Failure())
    made = namespace["resource"]
    if made is _NO_RESOURCE:
        return _failed(
            filename,
            Failure(RuntimeError(f"{filename} assigns no resource to 'resource'")),
        )
    if not (resource.IResource.providedBy(made) or _isForeignResource(made)):
        return _failed(
            filename,
            Failure(
                TypeError(f"{filename} sets 'resource' to {made!r}, not a resource")
            ),
        )
    made = _publishable(made)
    if scanner.doCache:
        registry.cachePath(filename, made)
    return made


class ResourceScriptWrapper(resource.Resource):
    """
    Publishes the resource a resource script makes, running the script for
    every request (unless it caches its resource): the root of a site made
    with C{--resource-script}.

    @ivar path: the script's file name.
    @ivar registry: the L{static.Registry} given to the script.
    """

    def __init__(
        self, path: str | bytes, registry: static.Registry | None = None
    ) -> None:
        """
        @param path: the script's file name.
        @param registry: the registry for the script; a new one if C{None}.
        """
        super().__init__()
        self.path = os.fsdecode(path)
        self.registry = static.Registry() if registry is None else registry

    def render(self, request: IRequest) -> bytes | int:
        """Render the resource the script makes."""
        return ResourceScript(self.path, self.registry).render(request)

    def getChildWithDefault(self, path: bytes, request: IRequest) -> IResource:
        """
        Return the child C{path} of the resource the script makes; or, if that
        resource is a leaf, that resource itself, with C{path} put back on
        C{request.postpath} for it, as it would have had as the root.
        """
        made = ResourceScript(self.path, self.registry)
        if made.isLeaf:
            request.postpath.insert(0, request.prepath.pop())
            return made
        return made.getChildWithDefault(path, request)


class ResourceScriptDirectory(resource.Resource):
    """
    Publishes a directory of resource scripts: C{/name} runs the file C{name}
    in it as a resource script (see L{ResourceScript}), and a subdirectory is
    published the same way.

    The directory itself is answered 404, and so is every name a
    L{static.File} refuses (see L{twisted_web_re._files.paths.nameOf}): C{..}
    however encoded, names holding a slash, a backslash or NUL, names that
    are not UTF-8, dotfiles, and symbolic links leading out of the tree
    unless C{followSymlinks}.

    @ivar path: the directory's file name.
    @ivar registry: the L{static.Registry} given to the scripts.
    @ivar followSymlinks: run scripts that symbolic links lead to outside the
        tree.
    """

    def __init__(
        self,
        pathname: str | bytes,
        registry: static.Registry | None = None,
        *,
        followSymlinks: bool = False,
    ) -> None:
        """
        @param pathname: the directory's file name.
        @param registry: the registry for the scripts; a new one if C{None}.
        @param followSymlinks: see L{followSymlinks}.
        """
        super().__init__()
        self.path = os.fsdecode(pathname)
        self.registry = static.Registry() if registry is None else registry
        self.followSymlinks = followSymlinks
        self._root = self.path

    def getChild(self, path: bytes, request: IRequest | None) -> IResource:
        """
        Return the script C{path} names in this directory, or a
        L{ResourceScriptDirectory} for a subdirectory, or a 404 page.
        """
        name = nameOf(path)
        if name is None:
            return resource.NoResource()
        try:
            child = entryWithin(
                self.path, name, self._root, followSymlinks=self.followSymlinks
            )
        except OSError as error:
            return unavailable(error, os.path.join(self.path, name))
        if child is None:
            return resource.NoResource()
        if os.path.isdir(child):
            directory = ResourceScriptDirectory(
                child, self.registry, followSymlinks=self.followSymlinks
            )
            directory._root = self._root
            return directory
        if os.path.isfile(child):
            return ResourceScript(child, self.registry)
        return resource.NoResource()

    def render(self, request: IRequest) -> bytes:
        """Answer 404: the directory is not a page."""
        return resource.NoResource().render(request)


class PythonScript(resource.Resource):
    """
    A Python script that writes the response itself (a C{.epy} file), run for
    every request and for every path below it.

    The script runs with C{request}, C{__file__} and C{registry} in its
    namespace; it writes the body with C{request.write}, and the response is
    finished when it ends.  A missing file is answered 404.  A script that
    raises is logged, naming the file, and answered with the site's 500 page,
    which shows the traceback only if the site's C{displayTracebacks} is set
    (twisted.web always shows it, with status 200); if part of the response
    had been sent, the connection is closed instead.

    @ivar filename: the script's file name.
    @ivar registry: the L{static.Registry} given to the script.
    """

    isLeaf = True

    def __init__(self, filename: str | bytes, registry: static.Registry) -> None:
        """
        @param filename: the script's file name.
        @param registry: the registry for the script.
        """
        super().__init__()
        self.filename = os.fsdecode(filename)
        self.registry = registry

    def render(self, request: IRequest) -> bytes | int:
        """
        Run the script for C{request}, and finish the response.

        @raise TypeError: C{request} is not a Site's request (which the
            script is given, and whose error page answers its failure).
        """
        request = siteRequest(request)
        namespace: dict[str, Any] = {
            "request": request,
            "__file__": self.filename,
            "registry": self.registry,
        }
        try:
            code = _load(self.filename)
        except FileNotFoundError:
            return resource.NoResource("File not found.").render(request)
        except OSError as error:
            if isMissing(error) or isForbidden(error):
                return self._answerFailure(request)
            return unavailable(error, self.filename).render(request)
        # SystemExit too: a script calling sys.exit() must not stop the server.
        except (Exception, SystemExit):
            return self._answerFailure(request)
        try:
            exec(code, namespace)
        except (Exception, SystemExit):
            return self._answerFailure(request)
        if not request.finished:
            request.finish()
        return NOT_DONE_YET

    def _answerFailure(self, request: server.Request) -> int:
        """The script failed with the exception being handled: say so."""
        failure = Failure()
        _logFailure(self.filename, failure)
        request.processingFailed(failure)
        return NOT_DONE_YET
