"""Take the README's pictures of the browser review (docs/img/report.png, docs/img/serve.png)
from a fresh `phase2 demo` repository, with Debian's chromium through Playwright.

    python scripts/web_screenshots.py    # needs pip install -e '.[web-test]' and chromium
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web_support import chromium_page, serve  # noqa: E402


def main() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "phase2_git", "demo"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"Demo repository: (\S+)", out)
    assert match, out
    demo = Path(match.group(1))
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.html"
        subprocess.run(
            [sys.executable, "-m", "phase2_git", "diff", "main", "regen", "--html", str(report)],
            cwd=demo,
            capture_output=True,
            check=False,
        )
        with chromium_page(width=1200, height=900) as page:
            page.goto(report.as_uri())
            page.locator("tr.item", has_text="golden/compat/fetch.json").click()
            page.locator("tr.item", has_text="snapshots/banner.txt").click()
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(ROOT / "docs" / "img" / "report.png"))
    with serve(demo, "main") as s, chromium_page(width=1200, height=820) as page:
        page.goto(s.url)
        page.locator('body[data-ready="1"]').wait_for(state="attached")
        for n, key in enumerate("asss", start=2):  # to golden/compat/fetch.json
            page.keyboard.type(key)
            page.locator(f'body[data-ready="{n}"]').wait_for(state="attached")
        page.screenshot(path=str(ROOT / "docs" / "img" / "serve.png"))
        s.stop()


if __name__ == "__main__":
    main()
