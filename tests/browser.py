"""Headless Chromium for the tests: Debian's /usr/bin/chromium driven by Playwright.

Every request that leaves the machine is aborted, so what renders is what renders offline.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LOCAL = ("http://localhost", "http://127.0.0.1", "ws://localhost", "ws://127.0.0.1")


def require_browser() -> None:
    """Skip (fail on CI) when Debian chromium or Playwright is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("playwright not installed")
    if not Path(CHROMIUM).exists():
        _missing("Debian chromium not installed")


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must have Debian chromium and playwright (see .ci/run): {reason}")
    pytest.skip(reason)


@contextmanager
def offline_page(
    requests: list[str] | None = None, *, viewport: tuple[int, int] = (1400, 1000)
) -> Iterator[Any]:
    """A Chromium page whose requests to anything but this machine are aborted."""
    from playwright.sync_api import sync_playwright

    def route(r: Any) -> None:
        url = r.request.url
        if requests is not None:
            requests.append(url)
        if url.startswith(LOCAL) or not url.startswith(("http:", "https:")):
            r.continue_()
        else:
            r.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            context.route("**/*", route)
            yield context.new_page()
        finally:
            browser.close()


def colour_shares(png: Path) -> dict[str, float]:
    """Share of greenish (walk-time bands) and reddish (unserved) pixels in a screenshot."""
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    r, g, b = pixels.T
    return {
        "green": float(((g > r + 15) & (g > b + 15)).mean()),
        "red": float(((r > g + 60) & (r > b + 60)).mean()),
    }


def artifacts() -> Path:
    """The folder for screenshots (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def which_chromium() -> str | None:
    """Path of a chromium binary, if any."""
    return shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
