"""
Saying in one line why a fully qualified Python name given on the command line
could not be looked up: no such module or object, or a module that raised
while it was being imported, with the file and line of the error.
"""

from __future__ import annotations

import sys
import traceback

__all__ = ["describeLookupFailure"]


def _isWithin(module: object, name: str) -> bool:
    """
    Tell whether C{module} is C{name} or one of the packages and modules on
    the way to it.

    @param module: A module's C{__name__}, or anything else.
    @param name: A fully qualified name such as C{package.module.object}.
    @return: Whether C{name} starts with C{module} followed by a dot, or is
        C{module}.
    """
    return isinstance(module, str) and (name == module or name.startswith(module + "."))


def _failedModule(name: str, error: BaseException) -> str | None:
    """
    Find the module on the way to C{name} whose import raised C{error}.

    @param name: The fully qualified name being looked up.
    @param error: What looking it up raised.
    @return: The name of the outermost module of C{name} whose top-level code
        was running when C{error} was raised (or, for a syntax error, which
        stops a module before it runs, the first module of C{name} that is
        not imported); L{None} if no module of C{name} failed to import, so
        that C{name} itself is wrong.
    """
    frame = error.__traceback__
    while frame is not None:
        code = frame.tb_frame.f_code
        module = frame.tb_frame.f_globals.get("__name__")
        if code.co_name == "<module>" and _isWithin(module, name):
            return str(module)
        frame = frame.tb_next
    if isinstance(error, SyntaxError):
        parts = name.split(".")
        for length in range(1, len(parts)):
            prefix = ".".join(parts[:length])
            if prefix not in sys.modules:
                return prefix
    return None


def _where(error: BaseException) -> tuple[str, int | None] | None:
    """
    Find the file and line where C{error} was raised.

    @param error: An exception raised while importing a module.
    @return: The file and line of the offending source for a syntax error,
        else those of the innermost frame of its traceback; L{None} if it has
        neither.
    """
    if isinstance(error, SyntaxError) and error.filename:
        return error.filename, error.lineno
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return None
    return frames[-1].filename, frames[-1].lineno


def describeLookupFailure(name: str, error: BaseException) -> str:
    """
    Say in one line why looking C{name} up raised C{error}.

    @param name: A fully qualified Python name, such as
        C{package.module.application}, given on the command line.
    @param error: What L{twisted.python.reflect.namedAny} raised for it.
    @return: C{importing 'MODULE' failed: TYPE: MESSAGE (FILE, line LINE)}
        when a module of C{name} raised while it was imported, else
        C{cannot find 'NAME': TYPE: MESSAGE}.
    """
    text = error.msg if isinstance(error, SyntaxError) else str(error)
    summary = f"{type(error).__name__}: {text}"
    module = _failedModule(name, error)
    if module is None:
        line = f"cannot find {name!r}: {summary}"
    else:
        line = f"importing {module!r} failed: {summary}"
        where = _where(error)
        if where is not None:
            line += f" ({where[0]}, line {where[1]})"
    return " ".join(line.split())
