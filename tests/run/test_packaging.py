"""
Tests that the built wheel carries the twistd dropin, and only the dropin, into
C{twisted/plugins/}, and that twistd finds it beside Twisted's own plugins.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins

REPO = Path(__file__).resolve().parent.parent.parent
DROPIN = "twisted/plugins/twisted_web_re.py"

# Building is one subprocess; well under this on a 2-core machine.
BUILD_TIMEOUT = 60

# What never belongs in the copy of the tree the wheel is built from: stale
# build output would leak into the wheel, and the rest is slow to copy.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    "dropin.cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
)


def _offlineBuildPossible() -> str | None:
    """
    Say why this interpreter cannot build a wheel without the network, if so.

    @return: L{None} when setuptools can build a wheel offline, else the reason.
    """
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return "setuptools is not installed"
    major, minor = (int(part) for part in version.split(".")[:2])
    if (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None:
        return None
    return (
        f"setuptools {version} needs the 'wheel' package to build"
        " wheels: run `make install-test` or `pip install wheel`"
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """
    The wheel of this project, built once from a clean copy of the tree.
    """
    reason = _offlineBuildPossible()
    if reason is not None:
        pytest.fail(reason)
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCE)
    out = root / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [built] = out.glob("twisted_web_re-*.whl")
    yield built


def _names(wheel: Path) -> list[str]:
    """
    List the files in C{wheel}.

    @param wheel: A wheel file.
    @return: The archive names of its files, directories left out.
    """
    with zipfile.ZipFile(wheel) as archive:
        return [n for n in archive.namelist() if not n.endswith("/")]


def test_onlyDropinUnderTwisted(wheel: Path) -> None:
    """
    The only file the wheel installs under C{twisted/} is the dropin: above
    all no C{__init__.py}, which would replace Twisted's own package.
    """
    underTwisted = [n for n in _names(wheel) if n.startswith("twisted/")]
    assert underTwisted == [DROPIN]


def test_packageShipped(wheel: Path) -> None:
    """
    The wheel carries the package, its command line module and its type
    marker, and no caches or bytecode.
    """
    names = _names(wheel)
    assert "twisted_web_re/__init__.py" in names
    assert "twisted_web_re/tap.py" in names
    assert "twisted_web_re/py.typed" in names
    assert not [n for n in names if n.endswith((".pyc", "dropin.cache"))]
    assert not [n for n in names if "__pycache__" in n]


def test_noInitInTree() -> None:
    """
    The source tree has no C{__init__.py} in C{twisted/} or C{twisted/plugins/},
    so the dropin directory joins Twisted's plugin package instead of hiding
    it.
    """
    assert (REPO / DROPIN).is_file()
    assert not (REPO / "twisted" / "__init__.py").exists()
    assert not (REPO / "twisted" / "plugins" / "__init__.py").exists()


def test_installedWheelFound(wheel: Path, tmp_path: Path) -> None:
    """
    Installed from the wheel, the dropin is found by twistd, Twisted's own
    C{web} plugin still is, and C{twisted} itself is still Twisted's.
    """
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT,
    )
    assert not (target / "twisted" / "__init__.py").exists()
    probe = (
        "import twisted, twisted.plugins.twisted_web_re as dropin\n"
        "from twisted.application.service import IServiceMaker\n"
        "from twisted.plugin import getPlugins\n"
        "print(twisted.__file__)\n"
        "print(dropin.__file__)\n"
        "print(sorted({p.tapname for p in getPlugins(IServiceMaker)}))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    twistedFile, dropinFile, tapnames = result.stdout.splitlines()
    assert not twistedFile.startswith(str(target))
    assert dropinFile.startswith(str(target))
    assert "'web-re'" in tapnames
    assert "'web'" in tapnames


def test_pluginsFound() -> None:
    """
    Twisted's plugin system finds a service maker C{web-re} for this project
    and still finds Twisted's own C{web}.
    """
    makers = {maker.tapname: maker for maker in getPlugins(IServiceMaker)}
    assert "web" in makers
    assert "web-re" in makers
    assert getattr(makers["web-re"], "module", None) == "twisted_web_re.tap"
