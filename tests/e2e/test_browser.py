"""
A real headless browser against C{twistd web-re --path}: the directory listing
as a browser parses it, and an audio file fetched with range requests.

Skipped where Chromium is not installed (Debian's C{chromium} package).
"""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from _chromium import needsChromium, runChromium
from _servers import startWebRe, stopServer

pytestmark = needsChromium

LOOPBACK = "127.0.0.1"
DEADLINE = 30.0


def _tone() -> bytes:
    """One second of 8 kHz mono silence as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8000)
    return out.getvalue()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    """
    A web root with an odd file name, a WAV and a page playing it, served by
    C{twistd -n web-re --path} with an access log; yields (port, root, log).
    """
    root = tmp_path / "root"
    (root / "media").mkdir(parents=True)
    (root / "media" / 'a "quoted" <name>.txt').write_text("x")
    (root / "media" / "tone.wav").write_bytes(_tone())
    (root / "player.html").write_text(
        '<!DOCTYPE html><audio id="a" src="/media/tone.wav" preload="auto"></audio>'
    )
    log = tmp_path / "access.log"
    server = startWebRe(tmp_path, "--path", str(root), "--logfile", str(log))
    try:
        yield server.port, root, log
    finally:
        stopServer(server)


def _chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium with C{args}; return what it printed."""
    result = runChromium(
        profile,
        "--autoplay-policy=no-user-gesture-required",
        *args,
        deadline=DEADLINE * 2,
    )
    return result.stdout.decode("utf-8", "replace")


def test_listingInBrowser(site: tuple[int, Path, Path], tmp_path: Path) -> None:
    """
    The listing's DOM, as Chromium builds it, shows the odd file name as text
    (escaped, not markup) and links to it by its URL-quoted name.
    """
    port, _, _ = site
    dom = _chromium(
        tmp_path / "profile", "--dump-dom", f"http://{LOOPBACK}:{port}/media/"
    )
    assert "Directory listing for /media/" in dom
    # A serialised DOM escapes < and > in text, not quotes: the name is text.
    assert 'a "quoted" &lt;name&gt;.txt' in dom
    assert 'href="a%20%22quoted%22%20%3Cname%3E.txt"' in dom
    assert "tone.wav" in dom


def test_audioFetchedWithRanges(site: tuple[int, Path, Path], tmp_path: Path) -> None:
    """
    Chromium loading an audio element asks for the file with a Range header;
    the server answers 206 (the access log records it).
    """
    port, _, log = site
    _chromium(
        tmp_path / "profile",
        "--virtual-time-budget=5000",
        "--dump-dom",
        f"http://{LOOPBACK}:{port}/player.html",
    )
    deadline = time.monotonic() + 5
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = [
            line
            for line in (log.read_text() if log.exists() else "").splitlines()
            if "/media/tone.wav" in line
        ]
        if lines:
            break
        time.sleep(0.2)
    assert lines, "the browser never asked for the audio file"
    assert any('" 206 ' in line for line in lines), lines
