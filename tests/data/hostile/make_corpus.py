"""The hostile corpus of tests/test_hostile.py, generated deterministically.

Every case is a path with its content on a base side and a head side (``None``: absent) and the
classification ``phase2 diff`` must give it. Content is spelled out here as escaped literals, so
a reviewer reads ``\\x1b]52;`` rather than a raw escape; the two cases too big to commit (JSON
nested 100,000 deep is only 200 KB, but a 50 MB single-line document is not) are built by
functions at test time.

Besides being imported by ``tests/test_hostile.py`` and the fuzzers, the script writes the
corpus out for inspection or as a fuzz seed corpus::

    python tests/data/hostile/make_corpus.py OUTDIR          # OUTDIR/base/..., OUTDIR/head/...
    python tests/data/hostile/make_corpus.py OUTDIR --big    # also the 50 MB document

Standard library only; no git needed to import it.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Union

DEEP = 100_000
BIG_BYTES = 50 * 1024 * 1024
# what /etc/passwd starts with on every Unix: must never show up in any output
PASSWD_MARKER = "root:x:0:0"


@dataclass(frozen=True)
class Link:
    """A symbolic link (mode 120000) pointing at ``target``."""

    target: str


@dataclass(frozen=True)
class Gitlink:
    """A submodule entry (mode 160000) naming ``commit``; no submodule repository exists."""

    commit: str


@dataclass(frozen=True)
class Exec:
    """A regular file with the executable bit (mode 100755)."""

    data: bytes


Content = Union[bytes, Link, Gitlink, Exec]  # noqa: UP007 - runtime alias on 3.10


@dataclass(frozen=True)
class Case:
    name: str
    path: str  # may hold any byte git allows; invalid UTF-8 as surrogateescape
    base: Content | None
    head: Content | None
    # (status, artifact_type, mismatch_type) that `phase2 diff BASE HEAD` must report
    expect: tuple[str, str, str]
    why: str = ""


def deep_array(depth: int = DEEP, *, sep: str = "") -> bytes:
    return ("[" * depth + sep + "]" * depth).encode()


def deep_object(depth: int = DEEP) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


def big_json(size: int = BIG_BYTES, *, order: str = "ab") -> bytes:
    """One line of ``size`` bytes: an object whose two keys hold long strings (the shape of an
    embedded base64 payload); ``order`` picks the key order, so two of them are reordered twins.
    """
    pad = size // 2 - 16
    parts = {"a": '"a":"' + "A" * pad + '"', "b": '"b":"' + "b" * pad + '"'}
    return ("{" + ",".join(parts[k] for k in order) + "}").encode()


def lfs_pointer(digit: str, size: int = 12345) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{digit * 64}\nsize {size}\n"
    ).encode()


def utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # clipboard write
OSC8 = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"  # hyperlink
CSI2J = "\x1b[2J\x1b[H"  # clear screen, cursor home
C1 = "\u009b2J\u009d52;c;aGk=\u0007"  # the 8-bit forms of CSI and OSC
BIDI = "\u202e"  # right-to-left override (Trojan Source)
NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")
BAD_BYTE = os.fsdecode(b"\xff")  # a path byte that is not UTF-8

REORDER_BASE = b'{"a": 1, "b": 2}\n'
REORDER_HEAD = b'{"b": 2, "a": 1}\n'
FAKE_COMMIT_A = "1" * 40
FAKE_COMMIT_B = "2" * 40

C = Case
CASES: tuple[Case, ...] = (
    # -- JSON structure
    C(
        "deep-array-head",
        "deep/array.json",
        b'{"a": 1}\n',
        deep_array() + b"\n",
        ("modified", "json", "content"),
        "100,000-deep array on head: invalid, a finding",
    ),
    C(
        "deep-array-both-ws",
        "deep/both.json",
        deep_array(sep=" "),
        deep_array(sep="\n  "),
        ("modified", "json", "whitespace"),
        "both too deep to parse: the text ladder decides",
    ),
    C(
        "deep-object-eol",
        "deep/object.json",
        deep_object() + b"\n",
        deep_object(),
        ("modified", "json", "trailing_newline"),
    ),
    C(
        "dup-keys-swapped",
        "dup/swapped.json",
        b'{"a": 1, "a": 2}\n',
        b'{"a": 2, "a": 1}\n',
        ("modified", "json", "content"),
        "which duplicate wins is parser-defined: never ordering",
    ),
    C(
        "dup-keys-reformatted",
        "dup/reformatted.json",
        b'{"a": 1, "a": 2}\n',
        b'{\n  "a": 1,\n  "a": 2\n}\n',
        ("modified", "json", "whitespace"),
    ),
    C(
        "lone-surrogate-reordered",
        "str/surrogate.json",
        b'{"s": "\\ud800", "t": 1}\n',
        b'{"t": 1, "s": "\\ud800"}\n',
        ("modified", "json", "json_ordering"),
    ),
    C(
        "surrogate-pair-split",
        "str/pair.json",
        b'{"s": "\\ud83d\\ude00"}\n',
        b'{"s": "\\ud83d"}\n',
        ("modified", "json", "content"),
    ),
    C(
        "nan-head",
        "num/nan.json",
        b'{"x": 1}\n',
        b'{"x": NaN}\n',
        ("modified", "json", "content"),
        "NaN is not JSON",
    ),
    C(
        "infinity-both",
        "num/infinity.json",
        b'{"x": Infinity, "y": -Infinity}\n',
        b'{"y": -Infinity, "x": Infinity}\n',
        ("modified", "json", "content"),
    ),
    C(
        "1e400-spelling",
        "num/e400.json",
        b'{"x": 1e400}\n',
        b'{"x": 1E400}\n',
        ("modified", "json", "numeric_precision"),
    ),
    C(
        "1e400-jitter",
        "num/e400-jitter.json",
        b'{"x": 1.0000000000001e400}\n',
        b'{"x": 1.0000000000002e400}\n',
        ("modified", "json", "numeric_precision"),
    ),
    C(
        "huge-exponent",
        "num/huge.json",
        b'{"x": 1.5e999999999}\n',
        b'{"x": 1.6e999999999}\n',
        ("modified", "json", "content"),
        "beyond Decimal's default context",
    ),
    C(
        "huge-exponent-text",
        "num/huge.txt",
        b"x = 1.5e999999999\n",
        b"x = 1.6e999999999\n",
        ("modified", "text", "content"),
    ),
    C(
        "tiny-exponent",
        "num/tiny.json",
        b'{"x": 1.5e-999999999}\n',
        b'{"x": 1.6e-999999999}\n',
        ("modified", "json", "content"),
        "6% apart: must not underflow to equal",
    ),
    C(
        "5000-digit-int",
        "num/bigint.json",
        b'{"n": 1' + b"0" * 5000 + b"}\n",
        b'{"n": 1' + b"0" * 4999 + b"1}\n",
        ("modified", "json", "content"),
    ),
    # -- encodings and bytes
    C(
        "invalid-utf8-text",
        "enc/latin1.txt",
        b"caf\xc3\xa9\n",
        b"caf\xe9\n",
        ("modified", "text", "content"),
    ),
    C(
        "invalid-utf8-json",
        "enc/bad.json",
        b'{"a": "x"}\n',
        b'{"a": "\xff\xfe"}\n',
        ("modified", "json", "content"),
    ),
    C(
        "utf16-bom",
        "enc/utf16.json",
        b'{"a": 1}\n',
        utf16('{"a": 1}\n'),
        ("modified", "binary", "binary"),
        "NUL bytes: git and phase2 call it binary",
    ),
    C(
        "utf8-bom",
        "enc/bom.json",
        b'{"a": 1}\n',
        b'\xef\xbb\xbf{"a": 1}\n',
        ("modified", "json", "bom"),
    ),
    C("nul-bytes", "bin/nul.dat", b"a\x00b\n", b"a\x00c\n", ("modified", "binary", "binary")),
    C(
        "nul-after-sniff",
        "bin/late-nul.txt",
        b"a\n" * 5000 + b"\x00\n",
        b"a\n" * 5000 + b"\x00\x00\n",
        ("modified", "text", "content"),
        "NUL past git's 8000-byte sniff: text, so excerpts must escape it",
    ),
    C("cr-only", "enc/cr.txt", b"one\ntwo\n", b"one\rtwo\r", ("modified", "text", "line_endings")),
    # -- terminal escapes in content
    C(
        "osc52",
        "esc/osc52.txt",
        b"hello\n",
        f"hello {OSC52}\n".encode(),
        ("modified", "text", "content"),
    ),
    C("osc8", "esc/osc8.txt", b"plain\n", f"{OSC8}\n".encode(), ("modified", "text", "content")),
    C(
        "csi-2j",
        "esc/csi.txt",
        b"keep\n",
        f"{CSI2J}wiped\n".encode(),
        ("modified", "text", "content"),
    ),
    C("c1-controls", "esc/c1.txt", b"x\n", f"{C1}\n".encode(), ("modified", "text", "content")),
    C(
        "escape-in-json-string",
        "esc/value.json",
        b'{"a": "x"}\n',
        b'{"a": "\\u001b]52;c;aGk=\\u0007"}\n',
        ("modified", "json", "content"),
    ),
    C(
        "raw-escape-in-json",
        "esc/raw.json",
        b'{"a": "x"}\n',
        f'{{"a": "{CSI2J}"}}\n'.encode(),
        ("modified", "json", "content"),
        "a raw control character makes the JSON invalid",
    ),
    C(
        "escape-crlf",
        "esc/crlf.txt",
        f"a{CSI2J}\nb\n".encode(),
        f"a{CSI2J}\r\nb\r\n".encode(),
        ("modified", "text", "line_endings"),
    ),
    C(
        "escape-whitespace",
        "esc/ws.txt",
        f"{OSC52} x\n".encode(),
        f"{OSC52} x   \n".encode(),  # trailing: noise in plain text (inner runs are not)
        ("modified", "text", "whitespace"),
    ),
    # -- hostile names (every one carries JSON ordering noise, so resolve rewrites it)
    C(
        "name-osc52",
        f"names/clip{OSC52}.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-csi",
        f"names/{CSI2J}.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-newline",
        "names/new\nline.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-tab-cr",
        "names/tab\there\r.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-quote-backslash",
        'names/"q\\uote".json',
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-leading-dash",
        "-rf.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-double-dash",
        "--help.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-nfc",
        f"names/{NFC}.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-nfd",
        f"names/{NFD}.json",
        b'{"x": 1}\n',
        b'{"x": 2}\n',
        ("modified", "json", "content"),
        "the NFD twin is another file with another change",
    ),
    C(
        "name-dotdot-like",
        "names/..json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-dots-dir",
        "names/.../x.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-onedot-leader",
        "names/\u2024\u2024/x.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
        "U+2024 ONE DOT LEADER looks like '..'",
    ),
    C("name-bidi", f"names/{BIDI}nosj.txt", b"a\n", b"a\r\n", ("modified", "text", "line_endings")),
    C(
        "name-invalid-utf8",
        f"names/bad{BAD_BYTE}.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    C(
        "name-pathspec-magic",
        "names/:(glob)*.json",
        REORDER_BASE,
        REORDER_HEAD,
        ("modified", "json", "json_ordering"),
    ),
    # -- links, pointers, submodules, shapes
    C(
        "symlink-to-passwd",
        "links/passwd",
        Link("target-a"),
        Link("/etc/passwd"),
        ("modified", "symlink", "content"),
    ),
    C(
        "symlink-added-outside-dir",
        "links/outside",
        None,
        Link("../../../../../../../../tmp"),
        ("added", "symlink", "added"),
    ),
    C(
        "file-becomes-symlink",
        "links/config.json",
        b'{"a": 1}\n',
        Link("/etc/passwd"),
        ("modified", "symlink", "content"),
    ),
    C(
        "symlink-dir-retarget",
        "links/etc",
        Link("/etc"),
        Link("/root"),
        ("modified", "symlink", "content"),
    ),
    C(
        "lfs-pointer",
        "lfs/model.bin",
        lfs_pointer("a"),
        lfs_pointer("b"),
        ("modified", "lfs_pointer", "content"),
    ),
    C(
        "lfs-pointer-over-real",
        "lfs/weights.bin",
        b"\x00\x01real bytes",
        lfs_pointer("c"),
        ("modified", "lfs_pointer", "content"),
    ),
    C(
        "submodule-moved",
        "sub/module",
        Gitlink(FAKE_COMMIT_A),
        Gitlink(FAKE_COMMIT_B),
        ("modified", "submodule", "content"),
    ),
    C("submodule-added", "sub/new", None, Gitlink(FAKE_COMMIT_A), ("added", "submodule", "added")),
    C("file-then-dir:file", "shape/a", b"a file\n", None, ("deleted", "text", "deleted")),
    C("file-then-dir:dir", "shape/a/inner.json", None, b'{"a": 1}\n', ("added", "json", "added")),
    C(
        "dir-then-file:dir",
        "shape/b/inner.json",
        b'{"b": 2}\n',
        None,
        ("deleted", "json", "deleted"),
    ),
    C("dir-then-file:file", "shape/b", None, b"now a file\n", ("added", "text", "added")),
    C("mode-only", "mode/run.sh", b"#!/bin/sh\n", Exec(b"#!/bin/sh\n"), ("mode", "text", "mode")),
)

BY_PATH = {c.path: c for c in CASES}
assert len(BY_PATH) == len(CASES), "two cases share a path"


def materialize(root: Path, side: str, cases: tuple[Case, ...] = CASES) -> list[Case]:
    """Write one side's regular files and symlinks under ``root``; return the gitlink cases
    (a caller with git adds those with ``update-index --cacheinfo``)."""
    gitlinks: list[Case] = []
    for case in cases:
        content = case.base if side == "base" else case.head
        if content is None:
            continue
        target = root / case.path
        if isinstance(content, Gitlink):
            gitlinks.append(case)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Link):
            os.symlink(content.target, target)
        elif isinstance(content, Exec):
            target.write_bytes(content.data)
            target.chmod(0o755)
        else:
            target.write_bytes(content)
    return gitlinks


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    out = Path(argv[0])
    for side in ("base", "head"):
        for case in materialize(out / side, side):
            content = case.base if side == "base" else case.head
            assert isinstance(content, Gitlink)
            note = out / side / (case.path + ".gitlink")
            note.parent.mkdir(parents=True, exist_ok=True)
            note.write_text(content.commit + "\n")
    if "--big" in argv[1:]:
        (out / "base" / "big.json").write_bytes(big_json(order="ab"))
        (out / "head" / "big.json").write_bytes(big_json(order="ba"))
    print(f"wrote {len(CASES)} cases under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
