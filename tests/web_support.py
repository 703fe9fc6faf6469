"""Driving Debian's chromium with Playwright for Python (its bundled driver, never a browser
download: ``playwright install`` is never run). Without chromium or playwright the tests
skip (fail under PHASE2_TEST_STRICT=1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.conftest import require_module, require_tool

WEB_TEST = "pip install -e '.[web,web-test]' and apt-get install chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium_page(*, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh page of a headless chromium (one browser per use: tests stay independent)."""
    executable = require_tool("chromium")
    sync_api = require_module("playwright.sync_api", "browser tests", WEB_TEST)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.set_default_timeout(5_000)
            yield page
        finally:
            browser.close()
