"""Driving Debian's headless chromium for the report tests (a helper, not a test module)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest


def find_chromium() -> str:
    """The chromium binary; skips the test without one, unless ``CI`` is set (then fails)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail("chromium is not installed (apt-get install chromium fonts-wqy-zenhei)")
        pytest.skip("chromium is not installed")
    return found


def start_chromium(chromium: str, profile: Path, *args: str) -> subprocess.Popen[str]:
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-extensions",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--window-size=390,844",
        *args,
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> str:
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-2000:]
    return out


class Elements(HTMLParser):
    """Names of the elements in the browser's DOM (script bodies are not parsed)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.append(tag)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def dump_and_shoot(chromium: str, page: Path, shot: Path, tmp: Path) -> str:
    """The DOM after scripts ran, and a 390x844 (phone) screenshot, from two browsers at once."""
    dumping = start_chromium(chromium, tmp / "profile-dom", "--dump-dom", page.as_uri())
    shooting = start_chromium(chromium, tmp / "profile-shot", f"--screenshot={shot}", page.as_uri())
    try:
        dom = finish(dumping)
        finish(shooting)
    finally:
        for proc in (dumping, shooting):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return dom


def drawn_charts(dom: str) -> list[str]:
    """Ids of the chart elements ECharts initialised, sorted."""
    return sorted(
        re.findall(r'<div class="chart[^"]*" id="([\w-]+)"[^>]*_echarts_instance_="ec_\d+"', dom)
    )


def elements(dom: str) -> list[str]:
    parser = Elements()
    parser.feed(dom)
    parser.close()
    return parser.names
