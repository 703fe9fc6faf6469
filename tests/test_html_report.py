"""``phase2 diff --html`` / ``phase2 report merge --html``: a self-contained HTML report.

Real repositories, the real CLI; the page is opened from ``file://`` in Debian's chromium
through Playwright (tests/web_support.py) and read the way a person would: rows, filters,
details. The hostile test proves an artifact full of markup and escapes only ever shows as
text: no script it holds runs, no handler fires, no element it spells exists.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.web_support import chromium_page


def _web() -> None:
    from tests.conftest import require_module

    require_module("jinja2", "the HTML report", "pip install -e '.[web]'")


def demo_like(repo) -> tuple[str, str]:
    """A base and a head holding noise, a mixed file and real changes."""
    repo.write("golden/service.json", '{"a": 1, "b": [1, 2]}\n')
    repo.write("golden/compat.json", '{\n  "x": {\n    "v": "10.1",\n    "w": 2\n  }\n}\n')
    repo.write("snapshots/banner.txt", "Welcome to orders\n")
    repo.write("snapshots/render.txt", "a\nb\nc\n")
    repo.write("gone.txt", "bye\n")
    base = repo.commit("base")
    repo.write(
        "golden/service.json", '{\n    "a": 1,\n    "b": [\n        1,\n        2\n    ]\n}\n'
    )
    repo.write(
        "golden/compat.json", '{\n    "x": {\n        "v": "10.3",\n        "w": 2\n    }\n}\n'
    )
    repo.write("snapshots/banner.txt", "Welcome to Orders 2.0\n")
    repo.write("snapshots/render.txt", "a\r\nb\r\nc\r\n")
    (repo.root / "gone.txt").unlink()
    repo.write("new.txt", "hello\n")
    head = repo.commit("head")
    return base, head


def report(cli, repo, tmp_path: Path, *args: str):
    out = tmp_path / "report.html"
    code, stdout, err = cli("diff", *args, "--format", "json", "--html", str(out), repo=repo)
    assert code in (0, 1), err
    return out, json.loads(stdout)


def data_of(page_html: str):
    m = re.search(r'<script type="application/json" id="phase2-data">(.*?)</script>', page_html)
    assert m is not None
    return json.loads(m.group(1))


# ----------------------------------------------------------------- without the browser


def test_report_is_self_contained_and_strict(cli, repo, tmp_path):
    _web()
    base, head = demo_like(repo)
    out, doc = report(cli, repo, tmp_path, base, head)
    text = out.read_text("utf-8")
    # no external URL: nothing to fetch, so it works from file:// and as a CI artifact
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "http://" not in text and "https://" not in text
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert csp is not None
    assert "default-src 'none'" in csp.group(1)
    assert "'unsafe-inline'" not in csp.group(1) and "'unsafe-eval'" not in csp.group(1)
    assert not re.search(r"\son[a-z]+\s*=", text)  # no inline event handler anywhere
    data = data_of(text)
    assert [i["path"] for i in data["items"]] == [m["path"] for m in doc["mismatches"]]
    # the mixed file: its change list and a side-by-side diff with the noise apart
    compat = next(i for i in data["items"] if i["path"] == "golden/compat.json")
    assert compat["changes"]["real"][0]["line"] == '$.x.v: "10.1" → "10.3"'
    assert compat["changes"]["noise"][0]["type"] == "whitespace"
    kinds = {row[0] for row in compat["diff"]}
    assert {"real", "noise"} <= kinds
    real_rows = [row for row in compat["diff"] if row[0] == "real"]
    assert real_rows[0][2][1] != real_rows[0][4][1]  # the changed part is marked
    # line endings made visible
    render = next(i for i in data["items"] if i["path"] == "snapshots/render.txt")
    assert render["verdict"] == "noise"
    assert any(str(row[4]).endswith("␍") for row in render["diff"] if row[0] == "noise")


def test_missing_extra_names_the_install_command(cli, repo, tmp_path, monkeypatch):
    base, head = demo_like(repo)
    monkeypatch.setitem(sys.modules, "jinja2", None)  # as if the web extra were not installed
    out = tmp_path / "r.html"
    code, _, err = cli("diff", base, head, "--html", str(out), repo=repo)
    assert code == 2
    assert "pip install 'phase2-git[web]'" in err
    assert not out.exists()


def test_merge_writes_the_same_list(cli, repo, tmp_path):
    _web()
    base, head = demo_like(repo)
    shards = []
    for k in (1, 2):
        code, stdout, err = cli(
            "diff", base, head, "--shard", f"{k}/2", "--format", "json", repo=repo
        )
        assert code in (0, 1), err
        path = tmp_path / f"s{k}.json"
        path.write_text(stdout)
        shards.append(str(path))
    merged = tmp_path / "merged.html"
    code, _, err = cli("report", "merge", *shards, "--html", str(merged), repo=repo)
    assert code in (0, 1), err
    direct, _doc = report(cli, repo, tmp_path, base, head)
    a, b = data_of(merged.read_text()), data_of(direct.read_text())
    assert [i["id"] for i in a["items"]] == [i["id"] for i in b["items"]]
    assert a == b


def test_embedded_json_cannot_end_its_script():
    from phase2_git.reports.html import embed_json

    hostile = "</script><script>alert(1)</script><!-- & \u2028"
    text = embed_json({"s": hostile})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"s": hostile}


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_embedded_json_roundtrips_and_holds_no_markup(value):
    from phase2_git.reports.html import embed_json

    text = embed_json(value)
    assert not set(text) & set("<>&")
    assert json.loads(text) == value


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="ab \t\r\x1b<\ufeff", max_size=6), max_size=30),
    st.lists(st.text(alphabet="ab \t\r\x1b<\ufeff", max_size=6), max_size=30),
    st.booleans(),
    st.booleans(),
)
def test_side_by_side_covers_every_changed_line(a_lines, b_lines, a_eol, b_eol):
    from phase2_git.reports.html import DIFF_ROWS, side_by_side

    a = "\n".join(a_lines) + ("\n" if a_eol and a_lines else "")
    b = "\n".join(b_lines) + ("\n" if b_eol and b_lines else "")
    rows = side_by_side(a.encode(), b.encode(), noisy=True)
    assert len(rows) <= DIFF_ROWS + 1
    left = [r[1] for r in rows if r[0] not in ("gap", "cut") and r[1] is not None]
    right = [r[3] for r in rows if r[0] not in ("gap", "cut") and r[3] is not None]
    assert left == sorted(left) and right == sorted(right)  # in order, never repeated
    assert len(set(left)) == len(left) and len(set(right)) == len(right)
    for r in rows:
        for c in (r[2], r[4]):
            shown = "".join(c) if isinstance(c, list) else str(c)
            assert "\x1b" not in shown and "\r" not in shown
            if r[0] != "ctx":  # a changed line shows its tabs (→); context keeps them
                assert "\t" not in shown
    if a == b:
        assert not [r for r in rows if r[0] in ("real", "noise", "add", "del")]
    else:
        changed = [r for r in rows if r[0] in ("real", "noise", "add", "del", "cut")]
        assert changed


def test_size_stays_proportional(cli, repo, tmp_path):
    """Many mismatches: every one listed, at most MAX_DIFFS with a diff, bytes per row
    bounded (the JSON report has every mismatch's full form)."""
    _web()
    from phase2_git.reports.html import MAX_DIFFS

    n = 600
    for i in range(n):
        repo.write(f"g/{i:04d}.txt", f"value {i}\n" + "same\n" * 40)
    base = repo.commit("base")
    for i in range(n):
        repo.write(f"g/{i:04d}.txt", f"value {i + 1}\n" + "same\n" * 40)
    head = repo.commit("head")
    out, doc = report(cli, repo, tmp_path, base, head)
    data = data_of(out.read_text())
    assert len(data["items"]) == n == doc["summary"]["total"]
    assert sum(1 for i in data["items"] if i["diff"] is not None) == MAX_DIFFS
    assert out.stat().st_size < 40_000 + n * 1500


# ------------------------------------------------------------------------- in the browser


def detail_of(page, path: str):
    """The opened detail of the mismatch listed as ``path``."""
    return page.locator(f'tr.item:has(td.path:text-is("{path}")) + tr.detail-row td.detail')


def test_browser_lists_every_mismatch_and_filters(cli, repo, tmp_path):
    _web()
    base, head = demo_like(repo)
    out, doc = report(cli, repo, tmp_path, base, head)
    with chromium_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(out.as_uri())
        rows = page.locator("tr.item")
        assert rows.count() == doc["summary"]["total"]
        shown = [rows.nth(i).locator("td.path").inner_text() for i in range(rows.count())]
        expected = [
            (f"{m['old_path']} → {m['path']}" if m["old_path"] else m["path"])
            for m in doc["mismatches"]
        ]
        assert shown == expected
        page.select_option("#f-verdict", "real")
        assert rows.count() == doc["summary"]["real"]
        page.select_option("#f-verdict", "noise")
        assert rows.count() == doc["summary"]["noise"]
        page.select_option("#f-verdict", "")
        page.fill("#f-path", "banner")
        assert rows.count() == 1
        assert page.locator("#shown").inner_text() == f"showing 1 of {doc['summary']['total']}"
        # keyboard: focus the row, Enter opens its detail with the change and the diff
        rows.first.focus()
        page.keyboard.press("Enter")
        detail = page.locator("td.detail")
        assert "line 1: Welcome to orders → Welcome to Orders 2.0" in detail.inner_text()
        assert detail.locator("tr.real mark").count() == 2
        page.fill("#f-path", "")
        page.check("#f-failing")
        assert rows.count() == doc["summary"]["failing"]
        page.uncheck("#f-failing")
        # the mixed file: noise lines collapsed until asked for, the real change shown
        page.locator("tr.item", has_text="golden/compat.json").click()
        compat = detail_of(page, "golden/compat.json")
        assert compat.locator("tr.real").first.is_visible()
        assert not compat.locator("tr.noise").first.is_visible()
        compat.locator("button.noise-run").first.click()
        assert compat.locator("tr.noise").first.is_visible()
        page.locator("tr.item", has_text="snapshots/render.txt").click()
        render = detail_of(page, "snapshots/render.txt")
        assert not render.locator("tr.real, tr.add, tr.del").count()  # all of it noise
        render.locator("button.noise-run").first.click()
        assert "␍" in render.inner_text()
        assert errors == []


def test_browser_pages_through_thousands(cli, repo, tmp_path):
    _web()
    n = 1234
    for i in range(n):
        repo.write(f"d/{i:05d}.json", f'{{"v": {i}}}\n')
    base = repo.commit("base")
    for i in range(n):
        repo.write(f"d/{i:05d}.json", f'{{"v": {i + 1}}}\n')
    head = repo.commit("head")
    out, _doc = report(cli, repo, tmp_path, base, head)
    with chromium_page() as page:
        page.goto(out.as_uri())
        assert page.locator("tr.item").count() == 100  # a page at a time
        assert page.locator("#page").inner_text() == "page 1 of 13"
        seen = 0
        for _ in range(13):
            seen += page.locator("tr.item").count()
            if page.locator("#next").is_disabled():
                break
            page.click("#next")
        assert seen == n
        page.fill("#f-path", "d/01233")
        assert page.locator("tr.item").count() == 1


HOSTILE_NAME = "<img src=x onerror=window.__pwned=1>.txt"
HOSTILE = (
    "<script>window.__pwned = 'script'</script>\n"
    "<img src=x onerror=\"window.__pwned='onerror'\">\n"
    "<a href=\"javascript:window.__pwned='link'\">click me</a>\n"
    "</script><script>window.__pwned = 'breakout'</script><!--\n"
    "\x1b[2J\x1b]0;owned\x07 terminal escapes\n"
    "{{ 7*7 }} {% raw %}\n"
)


def test_hostile_artifact_renders_as_text(cli, repo, tmp_path):
    _web()
    repo.write(HOSTILE_NAME, "plain\n")
    repo.write("evil.json", '{"k": "<b>bold</b>"}\n')
    base = repo.commit("base")
    repo.write(HOSTILE_NAME, HOSTILE)
    repo.write("evil.json", '{"k": "<script>window.__pwned=5</script>\\u001b[2J"}\n')
    head = repo.commit("head")
    out, _doc = report(cli, repo, tmp_path, base, head)
    text = out.read_text("utf-8")
    assert "<script>window" not in text and "<img" not in text
    with chromium_page() as page:
        violations: list[str] = []
        page.on("console", lambda msg: violations.append(msg.text) if msg.type == "error" else None)
        page.goto(out.as_uri())
        page.evaluate(
            "document.addEventListener('securitypolicyviolation',"
            " e => (window.__violations = (window.__violations || 0) + 1))"
        )
        rows = page.locator("tr.item")
        assert rows.count() == 2
        for i in range(rows.count()):
            page.locator("tr.item").nth(i).click()
        for button in page.locator("button.noise-run").all():
            button.click()
        body = page.locator("body").inner_text()
        # shown, as text, with the escapes escaped
        assert "<img·src=x·onerror=window.__pwned=1>.txt" in body or HOSTILE_NAME in body
        assert "<script>window.__pwned·=·'script'</script>" in body
        assert "\\x1b[2J\\x1b]0;owned\\x07" in body
        assert "<script>window.__pwned=5</script>" in body
        assert "{{·7*7·}}" in body
        # nothing ran, nothing was even attempted, and no element the artifact spells exists
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("window.__violations || 0") == 0
        assert page.locator("img, a, iframe, object, embed").count() == 0
        assert page.evaluate("document.scripts.length") == 2  # the data and the page's own
        assert violations == []
