"""
Headless Chromium for the end-to-end tests: where it is, the mark that skips
a test without it, and one way to run it with the flags every test needs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

needsChromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def runChromium(
    profile: Path, *args: str, deadline: float
) -> subprocess.CompletedProcess[bytes]:
    """
    Run headless Chromium with a fresh profile in C{profile}, no network of
    its own (no QUIC, no background fetches), then C{args}; wait at most
    C{deadline} seconds.

    @raise RuntimeError: Chromium is not installed.
    """
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed")
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        timeout=deadline,
        check=False,
    )
