"""
Tests for L{twisted_web_re._run.lookupfailure}: the one line that says why a
fully qualified name given to C{--wsgi}, C{--class} or C{--processor} could
not be used.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.python import reflect

from twisted_web_re._run.lookupfailure import describeLookupFailure

#: The modules each test writes: name -> source.
MODULES = {
    "lf_raises.py": "def application(environ, respond):\n    pass\n\nx = 1 / 0\n",
    "lf_needsdep.py": "import lf_no_such_dependency\n",
    "lf_syntax.py": "x = (\n",
    "lf_indirect.py": "import lf_raises\n",
    "lf_pkg/__init__.py": "",
    "lf_pkg/sub.py": "\n\nraise RuntimeError('<in sub>')\n",
}


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """
    A directory on the import path holding L{MODULES}; every module imported
    from it is forgotten afterwards.
    """
    for relative, source in MODULES.items():
        path = tmp_path / relative
        path.parent.mkdir(exist_ok=True)
        path.write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("lf_")]:
        del sys.modules[name]


def describe(name: str) -> str:
    """
    Look C{name} up as C{twistd web-re} does, and describe why it failed.

    @param name: A fully qualified name that cannot be looked up.
    @return: The one-line description.
    """
    with pytest.raises(Exception) as raised:
        reflect.namedAny(name)
    return describeLookupFailure(name, raised.value)


def test_moduleRaises(modules: Path) -> None:
    """
    A module that raises while it is imported: the line says that importing
    it failed, with the exception and the file and line that raised it.
    """
    assert describe("lf_raises.application") == (
        "importing 'lf_raises' failed: ZeroDivisionError: division by zero"
        f" ({modules / 'lf_raises.py'}, line 4)"
    )


def test_moduleImportsMissingModule(modules: Path) -> None:
    """
    A module that imports a module that does not exist failed to import
    itself: the line names it, and the import statement's file and line.
    """
    assert describe("lf_needsdep.application") == (
        "importing 'lf_needsdep' failed: ModuleNotFoundError: No module named"
        f" 'lf_no_such_dependency' ({modules / 'lf_needsdep.py'}, line 1)"
    )


def test_syntaxError(modules: Path) -> None:
    """
    A module that does not compile: the line names the module, the syntax
    error and where it is.
    """
    assert describe("lf_syntax.application") == (
        "importing 'lf_syntax' failed: SyntaxError: '(' was never closed"
        f" ({modules / 'lf_syntax.py'}, line 1)"
    )


def test_indirect(modules: Path) -> None:
    """
    When the module named imports another that raises, the line names the
    module named, and the file and line where the error was raised.
    """
    assert describe("lf_indirect.application") == (
        "importing 'lf_indirect' failed: ZeroDivisionError: division by zero"
        f" ({modules / 'lf_raises.py'}, line 4)"
    )


def test_moduleInPackage(modules: Path) -> None:
    """
    A module in a package that raises is named in full.
    """
    assert describe("lf_pkg.sub.Root") == (
        "importing 'lf_pkg.sub' failed: RuntimeError: <in sub>"
        f" ({modules / 'lf_pkg' / 'sub.py'}, line 3)"
    )


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("lf_no_such_module.app", "ObjectNotFound"),
        ("os.no_such_attribute", "AttributeError: module 'os' has no attribute"),
        ("lf_pkg.no_such_module.app", "AttributeError"),
    ],
)
def test_notFound(modules: Path, name: str, detail: str) -> None:
    """
    A name whose modules all import but that names nothing is not found, and
    no import is blamed.
    """
    line = describe(name)
    assert line.startswith(f"cannot find {name!r}: ")
    assert detail in line
    assert "importing" not in line
