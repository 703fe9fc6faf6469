"""Driving Debian's chromium with Playwright for Python (its bundled driver, never a browser
download: ``playwright install`` is never run). Without chromium or playwright the tests
skip (fail under PHASE2_TEST_STRICT=1)."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


class Served:
    """A ``phase2 serve`` started as a real process: its URL, token and port."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, lines: list[str]) -> None:
        self.proc = proc
        self.url = url
        parts = urllib.parse.urlsplit(url)
        self.token = urllib.parse.parse_qs(parts.query)["token"][0]
        assert parts.port is not None
        self.port: int = parts.port
        self.root = f"http://127.0.0.1:{self.port}"
        self.lines = lines

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """One real HTTP request; (status, body) whatever the status."""
        req = urllib.request.Request(
            self.root + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def api(self, method: str, path: str, payload: object | None = None) -> dict[str, Any]:
        """An API call as the page makes it (token header, JSON body); must succeed."""
        headers = {"X-Phase2-Token": self.token}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        status, data = self.request(method, path, body=body, headers=headers)
        assert status == 200, (status, data)
        result: dict[str, Any] = json.loads(data)
        return result

    def stop(self, *, signal_it: bool = True) -> tuple[int, str]:
        """Ctrl-C, as a person stops it (or, without ``signal_it``, wait for it to stop by
        itself); the exit code and what it printed."""
        if signal_it and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError("phase2 serve did not stop on SIGINT") from None
        return self.proc.returncode, "".join(self.lines) + out.decode("utf-8", "replace")


@contextmanager
def serve(root: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``phase2 serve ARGS --no-browser`` in ``root`` until its URL is printed; stopped (and
    reaped) on the way out."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "phase2_git", "serve", *args, "--no-browser"],
        cwd=root,
        env=env if env is not None else dict(os.environ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,  # unbuffered: select() sees every line that readline() has not taken
    )
    assert proc.stdout is not None
    lines: list[str] = []
    url = None
    deadline = time.monotonic() + 120
    while url is None:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            rest = proc.communicate()[0].decode("utf-8", "replace")
            raise AssertionError(f"phase2 serve printed no URL: {''.join(lines)}{rest}")
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if not ready:
            continue
        line = proc.stdout.readline().decode("utf-8", "replace")
        lines.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+/\?token=[\w-]+)", line)
        if m:
            url = m.group(1)
    served = Served(proc, url, lines)
    try:
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
