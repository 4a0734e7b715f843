"""Debian's Chromium driven by Playwright, shared by the browser tests, and their screenshots.

Chromium is `/usr/bin/chromium` and axe-core comes from npm into `tests/browser/node_modules`;
`make test` installs both. The tests fail, rather than skip, when either is missing: CI must
run them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium (a Playwright `Browser`), closed on exit."""
    assert CHROMIUM.exists(), (
        "Chromium is missing: `apt-get install -y chromium` (make test does it)"
    )
    assert AXE.exists(), "axe-core is missing: `npm ci` in tests/browser (make test does it)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Screenshots:
    """Saves a PNG of each step of a journey to docs/screenshots/, only when SCREENSHOTS=1."""

    def __init__(self, journey: str) -> None:
        self.journey = journey
        self.step = 0
        self.enabled = os.environ.get("SCREENSHOTS") == "1"

    def take(self, page, name: str, *, fit: bool = False) -> Path | None:
        """Number the step, and save what the viewport shows as `<journey>-<n>-<name>.png`;
        with `fit`, only as much of it as the content fills (for short pages such as emails)."""
        self.step += 1
        if not self.enabled:
            return None
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = SCREENSHOTS / f"{self.journey}-{self.step}-{slug}.png"
        clip = None
        if fit:
            size = page.viewport_size
            height = page.evaluate("document.body.getBoundingClientRect().bottom") + 16
            clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], height)}
        page.screenshot(path=str(path), scale="css", clip=clip)
        return path
