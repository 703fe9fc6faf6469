"""Property tests of noise stripping (core/changes.py): over random documents, random noise
(re-indent and other formatting, key reorder, CRLF, BOM, final newline, float jitter within
tolerance) and random real edits (change a leaf, add a key, remove a key, append to an
array), the stripped head

(a) is the head's document (canonical JSON, numbers within tolerance): no real change lost;
(b) strips to itself (idempotent);
(c) is the head byte for byte when the head has no noise;
(d) is the base byte for byte when the head has no real edit.

The same four for text, line by line, under the file's whitespace rules."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from phase2_git.core import changes, jsonvalue, whitespace
from phase2_git.core.whitespace import WhitespaceRules

REL_TOL = 1e-9
PROPS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)  # no lone surrogate
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**66), max_value=2**66)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
    | text
)
docs = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(text, kids, max_size=4),
    max_leaves=20,
)
# how a serializer may write a document: indent, separators, escapes
styles = st.tuples(
    st.sampled_from([None, 0, 1, 2, 4, "\t"]),
    st.sampled_from([(", ", ": "), (",", ":"), (",", ": "), (" , ", " : ")]),
    st.booleans(),
)


def dump(doc: Any, style: tuple[Any, tuple[str, str], bool]) -> str:
    indent, seps, ascii_only = style
    if indent is not None:
        seps = (seps[0].rstrip(), seps[1])  # json.dumps' own rule for indented output
    return json.dumps(doc, indent=indent, separators=seps, ensure_ascii=ascii_only)


# ------------------------------------------------------------------------------ edits


def nodes(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = [(path, doc)]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += nodes(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += nodes(v, (*path, i))
    return out


def replace_at(doc: Any, path: tuple[Any, ...], fn: Any) -> Any:
    if not path:
        return fn(doc)
    head, *rest = path
    if isinstance(doc, dict):
        return {k: (replace_at(v, tuple(rest), fn) if k == head else v) for k, v in doc.items()}
    return [replace_at(v, tuple(rest), fn) if i == head else v for i, v in enumerate(doc)]


def edit(doc: Any, kind: str, rng: random.Random) -> Any | None:
    """``doc`` with one real edit, or None when ``doc`` has no place for that kind."""
    found = nodes(doc)
    if kind == "leaf":
        leaves = [(p, v) for p, v in found if not isinstance(v, (dict, list))]
        if not leaves:
            return None
        path, old = rng.choice(leaves)
        new = "changed!" if old != "changed!" else 12345
        return replace_at(doc, path, lambda _: new)
    objects = [(p, v) for p, v in found if isinstance(v, dict)]
    if kind == "add":
        if not objects:
            return None
        path, obj = rng.choice(objects)
        key = "new key"
        while key in obj:
            key += "!"
        return replace_at(doc, path, lambda o: {**o, key: [1, {"x": 2.5}]})
    if kind == "remove":
        objects = [(p, v) for p, v in objects if v]
        if not objects:
            return None
        path, obj = rng.choice(objects)
        gone = rng.choice(list(obj))
        return replace_at(doc, path, lambda o: {k: v for k, v in o.items() if k != gone})
    arrays = [(p, v) for p, v in found if isinstance(v, list)]
    if kind in ("insert", "drop"):
        # an element inserted or removed anywhere, and another changed beyond it: the middle
        # between them differs in length (aligned on its equal elements)
        arrays = [(p, v) for p, v in arrays if len(v) >= 2]
        if not arrays:
            return None
        path, items = rng.choice(arrays)
        at = rng.randrange(len(items))
        if kind == "insert":
            out = [*items[:at], {"inserted": [at]}, *items[at:]]
        else:
            out = [*items[:at], *items[at + 1 :]]
        other = rng.randrange(len(out))
        out[other] = "changed!" if out[other] != "changed!" else 12345
        return replace_at(doc, path, lambda _: out)
    if not arrays:
        return None
    path, _ = rng.choice(arrays)
    return replace_at(doc, path, lambda a: [*a, {"appended": True}])


def reorder(doc: Any, rng: random.Random) -> Any:
    if isinstance(doc, dict):
        keys = list(doc)
        rng.shuffle(keys)
        return {k: reorder(doc[k], rng) for k in keys}
    if isinstance(doc, list):
        return [reorder(v, rng) for v in doc]
    return doc


def jitter(doc: Any) -> Any:
    """Every float a hair off: within the tolerance, most of them with another text."""
    if isinstance(doc, dict):
        return {k: jitter(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [jitter(v) for v in doc]
    if isinstance(doc, float) and doc:
        return doc * (1 + 1e-13)
    return doc


def same_document(x: bytes, y: bytes) -> bool:
    return jsonvalue.compare(
        jsonvalue.parse(x), jsonvalue.parse(y), ordered=False, numbers="value", rel_tol=REL_TOL
    ).equal


def strip(a: bytes, b: bytes) -> bytes:
    return changes.strip_json(a, b, rel_tol=REL_TOL)


@st.composite
def json_cases(draw: st.DrawFn) -> tuple[bytes, bytes, bool, bool]:
    """(base, head, head has noise, head has a real edit)."""
    doc = draw(docs)
    rng = draw(st.randoms(use_true_random=False))
    base_style = draw(styles)
    base_final = draw(st.booleans())
    base = dump(doc, base_style) + ("\n" if base_final else "")
    real = draw(st.sampled_from(["none", "leaf", "add", "remove", "append", "insert", "drop"]))
    head_doc = doc if real == "none" else edit(doc, real, rng)
    if head_doc is None:
        head_doc, real = doc, "none"
    noise = draw(st.sets(st.sampled_from(["style", "reorder", "crlf", "bom", "final", "jitter"])))
    if "reorder" in noise:
        head_doc = reorder(head_doc, rng)
    if "jitter" in noise:
        head_doc = jitter(head_doc)
    head_style = draw(styles) if "style" in noise else base_style
    head = dump(head_doc, head_style) + ("\n" if base_final != ("final" in noise) else "")
    if "crlf" in noise:
        head = head.replace("\n", "\r\n")
    data_a = base.encode()
    data_b = ("\ufeff" if "bom" in noise else "").encode() + head.encode()
    return data_a, data_b, bool(noise), real != "none"


@PROPS
@given(json_cases())
def test_strip_json_keeps_the_head_and_only_the_head(case: tuple[bytes, bytes, bool, bool]) -> None:
    a, b, noisy, real = case
    out = strip(a, b)
    assert same_document(out, b)  # (a) no real change is lost
    assert strip(a, out) == out  # (b) idempotent
    if not noisy:
        assert out == b  # (c) no churn on an edit-only head
    if not real:
        assert out == a  # (d) a noise-only head is the base
    if noisy and real:
        # nothing of the noise is left: the stripped head lists no noise beside its change
        found = changes.analyse_json(
            a, out, jsonvalue.parse(a), jsonvalue.parse(out), rel_tol=REL_TOL
        )
        assert found is not None and not found.noise, found


# arrays rewritten as regenerations rewrite them: elements inserted, removed, changed and
# repeated, among duplicates, numbers a float may jitter, nested and mixed kinds; then noise
_ELEMENTS = st.sampled_from(
    [
        {"id": 1, "v": "a"},
        {"v": "a", "id": 1},
        1.0,
        1.5,
        {"v": [1.0, 2], "id": 2},
        1,
        "1",
        2,
        None,
        True,
        [1, {"k": 2}],
        [],
        {},
        "x",
        [[1]],
        0,
    ]
) | st.recursive(
    st.integers(0, 3) | st.sampled_from(["a", "1"]),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.sampled_from("ab"), kids, max_size=2)
    ),
    max_leaves=5,
)


@st.composite
def array_cases(draw: st.DrawFn) -> tuple[bytes, bytes]:
    base = draw(st.lists(_ELEMENTS, max_size=30))
    head = list(base)
    for _ in range(draw(st.integers(0, 8))):
        # "shift": one removed and one inserted, the length kept (a sorted list that lost an
        # element and gained another); "swap": two elements trade places
        op = draw(st.sampled_from(["insert", "remove", "change", "repeat", "shift", "swap"]))
        if op == "insert":
            head.insert(draw(st.integers(0, len(head))), draw(_ELEMENTS))
        elif head:
            at = draw(st.integers(0, len(head) - 1))
            if op == "remove":
                del head[at]
            elif op == "change":
                head[at] = draw(_ELEMENTS)
            elif op == "shift":
                del head[at]
                head.insert(draw(st.integers(0, len(head))), draw(_ELEMENTS))
            elif op == "swap":
                to = draw(st.integers(0, len(head) - 1))
                head[at], head[to] = head[to], head[at]
            else:
                head.insert(at, head[at])
    wrap = draw(st.sampled_from(["root", "object", "nested"]))

    def wrapped(items: list[Any]) -> Any:
        if wrap == "root":
            return items
        if wrap == "object":
            return {"k": items, "z": 1}
        return {"k": [items, {"q": items}, [items, items[:3]]], "z": [1.5]}

    base_doc, head_doc = wrapped(base), wrapped(head)
    rng = draw(st.randoms(use_true_random=False))
    noise = draw(st.sets(st.sampled_from(["style", "reorder", "crlf", "jitter"])))
    if "reorder" in noise:
        head_doc = reorder(head_doc, rng)
    if "jitter" in noise:
        head_doc = jitter(head_doc)
    style = draw(styles)
    if wrap == "root" and draw(st.booleans()):
        # each element written in a style of its own, as hand-edited or merged files are
        # (the base's element styles are the head's, unless the head's style is noise)
        chosen = draw(st.lists(styles, min_size=len(base_doc), max_size=len(base_doc)))
        base_text = "[" + ", ".join(dump(v, st_) for v, st_ in zip(base_doc, chosen)) + "]"
        heads = [draw(styles) if "style" in noise else st_ for st_ in chosen]
        heads += [style] * (len(head_doc) - len(heads))
        text = "[" + ", ".join(dump(v, st_) for v, st_ in zip(head_doc, heads)) + "]\n"
    else:
        base_text = dump(base_doc, style)
        text = dump(head_doc, draw(styles) if "style" in noise else style) + "\n"
    if "crlf" in noise:
        text = text.replace("\n", "\r\n")
    return (base_text + "\n").encode(), text.encode()


@PROPS
@given(array_cases())
def test_an_array_strip_keeps_the_head_and_strips_again_to_itself(
    case: tuple[bytes, bytes],
) -> None:
    """However its elements are aligned (by index, or on elements that key alike where the
    lengths differ or the elements shifted), the strip keeps the head's document, strips to
    itself, leaves no noise, and the change list's lines are lines of the files."""
    a, b = case
    out = strip(a, b)
    assert same_document(out, b)
    assert strip(a, out) == out
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b), rel_tol=REL_TOL)
    assert found is not None
    assert (found.total == 0) == same_document(a, b)
    for c in found.real:
        assert c.line is None or 1 <= c.line <= b.count(b"\n") + 1, c
        assert c.base_line is None or 1 <= c.base_line <= a.count(b"\n") + 1, c
    if not same_document(a, b):
        again = changes.analyse_json(
            a, out, jsonvalue.parse(a), jsonvalue.parse(out), rel_tol=REL_TOL
        )
        assert again is not None and not again.noise, again


@PROPS
@given(json_cases())
def test_the_change_list_names_the_noise_it_was_given(
    case: tuple[bytes, bytes, bool, bool],
) -> None:
    a, b, noisy, real = case
    found = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b), rel_tol=REL_TOL)
    assert found is not None
    if not noisy:
        assert not found.noise
    if real and not same_document(a, b):
        assert found.total >= 1  # an edit that is a real change is listed
    if not real:
        assert found.total == 0


@PROPS
@given(json_cases())
def test_the_value_walk_that_stops_at_noise_gives_what_the_whole_walk_gave(
    case: tuple[bytes, bytes, bool, bool],
) -> None:
    """analyse_json's first walk, of the values only, stops at the first reordered key or
    rewritten number (the text is walked instead). Held to the whole value walk it replaces:
    the same decision to walk the text, and then the same change list."""
    a, b, _, _ = case
    a_doc, b_doc = jsonvalue.parse(a), jsonvalue.parse(b)
    docs = changes._texts(a, b)
    full = changes._walk_json(docs, a_doc, b_doc, REL_TOL, 0.0, spans=False)
    needs_text = bool(full.walk.n_order or full.walk.n_number)
    try:
        changes._walk_json(docs, a_doc, b_doc, REL_TOL, 0.0, spans=False, bail=True)
    except changes._NeedsText:
        stopped = True
    else:
        stopped = False
    assert stopped == needs_text
    found = changes.analyse_json(a, b, a_doc, b_doc, rel_tol=REL_TOL)
    spans = docs.eol is not None or changes._style_differs(docs.a, docs.b) or needs_text
    again = full if not spans else changes._walk_json(docs, a_doc, b_doc, REL_TOL, 0.0)
    assert found is not None
    assert found.total == again.walk.n_real
    assert found.noise == changes._noise(again)


def strip_in_two_walks(a: bytes, b: bytes) -> bytes:
    """strip_json as it was written before it learned to walk once: a first walk for whether
    the head's formatting differs, then the walk that emits with that known."""
    a_doc, b_doc = jsonvalue.parse(a), jsonvalue.parse(b)
    docs = changes._texts(a, b)
    first = changes._walk_json(docs, a_doc, b_doc, REL_TOL, 0.0)
    if first.pieces is None:
        return a
    fmt = bool(first.walk.n_fmt or first.lead_tail_fmt)
    result = changes._walk_json(docs, a_doc, b_doc, REL_TOL, 0.0, emit=True, fmt=fmt)
    assert result.pieces is not None
    a0, a1, _, _ = result.spans
    text = docs.a[:a0] + "".join(result.pieces) + docs.a[a1:]
    return (jsonvalue.UTF8_BOM if docs.a_bom else b"") + text.encode("utf-8", "surrogatepass")


@PROPS
@given(json_cases(), st.sampled_from(["indent", "compact", "none"]))
def test_strip_in_one_walk_gives_what_two_walks_gave(
    case: tuple[bytes, bytes, bool, bool], emptied: str
) -> None:
    """The one walk strip_json runs where the head's formatting agrees with the base's, or
    where nothing it writes depends on it, held byte for byte to the two walks it replaced;
    also with a container the head emptied (written in the base's style)."""
    a, b, _, _ = case
    if emptied != "none":
        # the whole head replaced by an empty object inside a new one: the base's style decides
        doc = {"kept": json.loads(a.decode("utf-8-sig")), "gone": {}}
        b = json.dumps(doc, indent=2 if emptied == "indent" else None).encode()
    assert strip(a, b) == strip_in_two_walks(a, b)


# ------------------------------------------------------------------------------ text

RULES = [whitespace.DEFAULT, whitespace.STRICT._replace(format="YAML"), whitespace.INSIGNIFICANT]
line = st.text(alphabet=st.sampled_from(list("ab #\t\\:")), max_size=6)


@st.composite
def text_cases(draw: st.DrawFn) -> tuple[bytes, bytes, WhitespaceRules, bool, bool]:
    rules = draw(st.sampled_from(RULES))
    lines = draw(st.lists(line.filter(lambda s: s.strip(" \t") != ""), min_size=1, max_size=8))
    final = draw(st.booleans())
    base = "\n".join(lines) + ("\n" if final else "")
    head_lines = list(lines)
    kind = draw(st.sampled_from(["none", "change", "add", "remove"]))
    at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    if kind == "change":
        head_lines[at] = head_lines[at] + "Z"
    elif kind == "add":
        head_lines.insert(at, "NEW")
    elif kind == "remove":
        del head_lines[at]
    edited = "\n".join(head_lines) + ("\n" if final else "")
    noise = draw(st.sets(st.sampled_from(["trailing", "crlf", "bom", "final", "indent"])))
    if "trailing" in noise:
        head_lines = [h + " \t" for h in head_lines]
    if "indent" in noise:
        head_lines = ["  " + h for h in head_lines]
    head = "\n".join(head_lines) + ("\n" if final != ("final" in noise) else "")
    if "crlf" in noise:
        head = head.replace("\n", "\r\n")
    data_b = ("\ufeff" if "bom" in noise else "").encode() + head.encode()
    # what the rules say, not what was meant: trailing blanks after a backslash, or any
    # indentation in YAML, are real changes
    key = whitespace.key
    real = key(head.lstrip("\ufeff"), rules) != key(base, rules)
    return base.encode(), data_b, rules, data_b != edited.encode(), real


@PROPS
@given(text_cases())
# a removed line beside one that looks like it: the head's line stays as it was
@example((b":\n: ", b": ", whitespace.DEFAULT, False, True))
def test_strip_text_keeps_the_head_and_only_the_head(
    case: tuple[bytes, bytes, WhitespaceRules, bool, bool],
) -> None:
    a, b, rules, noisy, real = case
    out = changes.strip_text(a, b, rules)
    key = whitespace.key
    assert key(jsonvalue.decode_text(out), rules) == key(jsonvalue.decode_text(b), rules)
    assert changes.strip_text(a, out, rules) == out
    if not noisy:
        assert out == b
    if not real:
        assert out == a
    found = changes.analyse_text(a, b, rules)
    assert found is not None
    assert (found.total > 0) == real
    if not noisy:
        assert not found.noise


# lines of a few characters, blanks and backslashes among them: many look alike
alike = st.text(alphabet=st.sampled_from(list("ab \t\\")), max_size=4)


@PROPS
@given(
    st.lists(alike, max_size=12),
    st.lists(alike, max_size=12),
    st.sampled_from(RULES),
    st.booleans(),
    st.booleans(),
)
# each of these took a strip that was not idempotent: lines equal byte for byte are paired
# before the rest, and a strip's output (more such lines) aligned otherwise, which the strip
# did not check
@example(
    ["a", "a \t", "\\", "a", "a \t"],
    ["a \t", "a \t \t", "\\ \t", "a \t", "a \t \t"],
    whitespace.DEFAULT,
    False,
    False,
)
# an empty base line paired with the head's last, blank one: the text ended in a line break
@example(["", "\\"], ["\\", " "], whitespace.DEFAULT, False, False)
@example(["", "", "\\"], ["", " "], whitespace.DEFAULT, False, False)
def test_strip_text_of_any_head_is_idempotent(
    base: list[str], head: list[str], rules: WhitespaceRules, end_a: bool, end_b: bool
) -> None:
    """Any head, not only one edit away from the base: the strip keeps what the rules see,
    and stripping its output again gives it back."""
    a = ("\n".join(base) + ("\n" if end_a else "")).encode()
    b = ("\n".join(head) + ("\n" if end_b else "")).encode()
    out = changes.strip_text(a, b, rules)
    key = whitespace.key
    assert key(jsonvalue.decode_text(out), rules) == key(jsonvalue.decode_text(b), rules)
    assert changes.strip_text(a, out, rules) == out


# a line with its own line break: a text may mix them, and the strip writes the base's beside
# the head's
ended = st.tuples(alike, st.sampled_from(["\n", "\r\n", "\r"]))


def _joined(lines: list[tuple[str, str]]) -> bytes:
    return "".join(text + eol for text, eol in lines).encode()


@PROPS
@given(st.lists(ended, max_size=10), st.lists(ended, max_size=10), st.sampled_from(RULES))
# a lone CR written before an empty line whose LF the strip moved: one CRLF, a line lost
@example(
    [(" ", "\n"), ("", "\r"), ("a", "")],
    [(" ", "\n"), (" ", "\r"), ("", "\r\n"), ("", "\n"), ("a ", "")],
    whitespace.DEFAULT,
)
def test_strip_text_of_mixed_line_endings_keeps_every_line(
    base: list[tuple[str, str]], head: list[tuple[str, str]], rules: WhitespaceRules
) -> None:
    """LF, CRLF and CR mixed within each side: every break the strip writes reads back as
    the break it meant (a CR and the LF after it read back as one CRLF)."""
    a, b = _joined(base), _joined(head)
    out = changes.strip_text(a, b, rules)
    key = whitespace.key
    assert key(jsonvalue.decode_text(out), rules) == key(jsonvalue.decode_text(b), rules)
    assert changes.strip_text(a, out, rules) == out


@PROPS
@given(json_cases(), st.lists(st.integers(0, 200), max_size=3), st.booleans())
def test_jsonc_lists_the_changes_json_lists_and_its_comments(
    case: tuple[bytes, bytes, bool, bool], at: list[int], edit: bool
) -> None:
    """A JSON pair with comment lines put between its lines (never inside a string: a JSON
    string holds no raw line break) lists, as JSONC, the real changes it lists as JSON, by
    the same paths, and the comments that differ besides."""
    from phase2_git.core import jsonc

    a, b, _, _ = case
    if b.startswith(b"\xef\xbb\xbf"):
        return  # a BOM before the first comment line: not what this is about

    def commented(data: bytes, note: str) -> bytes:
        lines = data.split(b"\n")
        for k in sorted(at, reverse=True):
            lines.insert(1 + k % max(1, len(lines) - 1), f"// {note}".encode())
        return b"\n".join(lines)

    ca, cb = commented(a, "note"), commented(b, "edited" if edit else "note")
    plain = changes.analyse_json(a, b, jsonvalue.parse(a), jsonvalue.parse(b), rel_tol=REL_TOL)
    found = changes.analyse_json(
        ca,
        cb,
        jsonc.parse(ca),
        jsonc.parse(cb),
        rel_tol=REL_TOL,
        jsonc=(jsonc.scan(jsonvalue.decode_text(ca)), jsonc.scan(jsonvalue.decode_text(cb))),
    )
    assert plain is not None and found is not None
    assert found.total == plain.total + (len(at) if edit else 0)
    if found.more == 0:  # every change listed: the same ones (their order may differ, as the
        # blanked comments may make the walk read the text where the JSON's needed no text)
        values = sorted((c.kind, c.path) for c in found.real if c.path is not None)
        assert values == sorted((c.kind, c.path) for c in plain.real)
