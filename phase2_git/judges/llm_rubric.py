"""``llm_rubric``: an external judge asked whether a mismatch is noise, under a rubric.

Two transports, both configured in ``[judge]``:

* ``command``: a program that reads one JSON request on stdin and prints one JSON verdict,
  ``{"equivalent": bool, "score": 0..1, "reason": str}`` (``score`` or ``equivalent`` may be
  left out; ``score`` is the probability of "equivalent" and decides against ``threshold``);
* ``url``: an OpenAI-compatible chat-completions endpoint, called with the standard library
  (no SDK dependency); the API key comes from the environment variable ``api_key_env`` names.

The judge is a shadow (DESIGN.md §5b): its verdicts are recorded beside the others and justify
nothing until its gate is GO. It spends real money, so every run has a budget (calls,
estimated input tokens, cost); once a limit would be crossed the judge stops for the rest of
the run and every later verdict says ``budget exhausted``. Verdicts are cached under
``.phase2/cache/llm_rubric/`` by (rubric, model, before hash, after hash); a cache hit costs
nothing and is served even after the budget is spent.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phase2_git.core.model import Verdict
from phase2_git.store.atomic import atomic_write_text
from phase2_git.store.judge_settings import JudgeSettings

METHOD = "llm_rubric"
CACHE_DIR = ".phase2/cache/llm_rubric"
REQUEST_SCHEMA = "phase2.llm_rubric.request.v1"
# a judge that fails this many times in a row is down: stop instead of waiting out the
# timeout on every remaining item
MAX_CONSECUTIVE_ERRORS = 3
_NOT_TEXT = ("binary", "symlink", "lfs_pointer", "submodule")


@dataclass(frozen=True)
class JudgeRequest:
    id: str
    path: str | None
    artifact_type: str
    before: bytes | None
    after: bytes | None
    hash_before: str | None = None
    hash_after: str | None = None


@dataclass(frozen=True)
class LlmVerdict:
    """The judge's answer; ``score`` is None when there is no verdict (see ``error``)."""

    score: float | None
    reason: str
    cached: bool = False
    called: bool = False
    error: str | None = None

    @property
    def judged(self) -> bool:
        return self.score is not None

    def to_verdict(self, threshold: float) -> Verdict:
        if self.score is None:
            return Verdict(METHOD, False, 0.0, f"no verdict: {self.error}")
        return Verdict(METHOD, self.score >= threshold, self.score, self.reason)


class JudgeError(Exception):
    """One call failed (timeout, bad exit, bad reply): no verdict for this item."""


@dataclass
class Budget:
    """What one run has spent, and why it stopped (``exhausted``) if it did."""

    max_calls: int
    max_input_tokens: int
    max_cost: float
    cost_in: float
    cost_out: float
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    exhausted: str | None = None

    def admit(self, est_tokens: int) -> bool:
        """Reserve a call of ``est_tokens`` input tokens, or stop for good."""
        if self.exhausted is not None:
            return False
        est_cost = est_tokens / 1000.0 * self.cost_in
        if self.calls + 1 > self.max_calls:
            self.exhausted = f"budget exhausted: max_calls ({self.max_calls}) reached"
        elif self.input_tokens + est_tokens > self.max_input_tokens:
            self.exhausted = (
                f"budget exhausted: max_input_tokens ({self.max_input_tokens}) would be "
                f"exceeded ({self.input_tokens} spent, next call ~{est_tokens})"
            )
        elif self.cost + est_cost > self.max_cost:
            self.exhausted = (
                f"budget exhausted: max_cost ({self.max_cost:g}) would be exceeded "
                f"({self.cost:.4g} spent)"
            )
        return self.exhausted is None

    def spend(self, input_tokens: int, output_tokens: int) -> None:
        self.calls += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cost += input_tokens / 1000.0 * self.cost_in + output_tokens / 1000.0 * self.cost_out

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost": round(self.cost, 6),
            "exhausted": self.exhausted is not None,
            "reason": self.exhausted,
        }


def estimate_tokens(text: str) -> int:
    """~4 characters a token: the usual rule of thumb for English and code, rounded up."""
    return math.ceil(len(text) / 4)


def _side_text(data: bytes, max_chars: int) -> tuple[str, bool]:
    text = data.decode("utf-8", "replace")
    if len(text) > max_chars:
        return text[:max_chars], True
    return text, False


def _content_hash(oid: str | None, data: bytes | None) -> str:
    if oid:
        return oid
    return "sha256:" + hashlib.sha256(data or b"").hexdigest()


def parse_reply(text: str) -> tuple[float, str]:
    """``(score, reason)`` from a judge's JSON reply; raises :class:`JudgeError`."""
    body = text.strip()
    if body.startswith("```"):  # chat models like to fence JSON
        body = body.strip("`")
        body = body[4:] if body.startswith("json") else body
    try:
        obj = json.loads(body)
    except ValueError:
        raise JudgeError(f"reply is not JSON: {text.strip()[:120]!r}") from None
    if not isinstance(obj, dict):
        raise JudgeError("reply is not a JSON object")
    score = obj.get("score")
    equivalent = obj.get("equivalent")
    if score is None:
        if not isinstance(equivalent, bool):
            raise JudgeError("reply has neither a boolean 'equivalent' nor a 'score'")
        score = 1.0 if equivalent else 0.0
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1:
        raise JudgeError(f"reply 'score' must be a number in [0, 1], got {score!r}")
    reason = obj.get("reason", "")
    return float(score), str(reason)[:500]


class LlmRubricJudge:
    """One run's judge: transport, budget and cache. Not thread-safe (one run, one judge)."""

    def __init__(
        self,
        settings: JudgeSettings,
        *,
        cache_root: Path | None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.settings = settings
        self.cache_dir = (
            cache_root / CACHE_DIR if cache_root is not None and settings.cache else None
        )
        self.environ = environ
        self.budget = Budget(
            settings.max_calls,
            settings.max_input_tokens,
            settings.max_cost,
            settings.cost_per_1k_input,
            settings.cost_per_1k_output,
        )
        self.cache_hits = 0
        self.errors = 0
        self._consecutive_errors = 0
        self._down: str | None = None

    # ------------------------------------------------------------------ public

    @property
    def configured(self) -> bool:
        return self.settings.transport is not None

    def judge(self, req: JudgeRequest) -> LlmVerdict:
        """The verdict on one mismatch (never raises on the judge's failures)."""
        if req.artifact_type in _NOT_TEXT:
            return LlmVerdict(0.0, f"not applicable: {req.artifact_type}")
        if req.before is None or req.after is None:
            return LlmVerdict(0.0, "not applicable: one side does not exist or was not recovered")
        key = self._cache_key(req)
        cached = self._cache_get(key)
        if cached is not None:
            self.cache_hits += 1
            return cached
        if not self.configured:
            return LlmVerdict(
                None, "", error="no judge configured (set judge.command or judge.url)"
            )
        if self._down is not None:
            return LlmVerdict(None, "", error=self._down)
        request = self._request(req)
        prompt = self._user_prompt(request)
        est = estimate_tokens(self.settings.rubric) + estimate_tokens(prompt)
        if not self.budget.admit(est):
            return LlmVerdict(None, "", error=self.budget.exhausted)
        try:
            if self.settings.transport == "command":
                reply, usage = self._call_command(request)
            else:
                reply, usage = self._call_http(prompt)
            score, reason = parse_reply(reply)
        except JudgeError as exc:
            self.budget.spend(est, 0)
            self.errors += 1
            self._consecutive_errors += 1
            if self._consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                self._down = (
                    f"judge stopped after {MAX_CONSECUTIVE_ERRORS} failures in a row: {exc}"
                )
            return LlmVerdict(None, "", called=True, error=f"judge error: {exc}")
        self._consecutive_errors = 0
        in_tok = usage[0] if usage[0] is not None else est
        out_tok = usage[1] if usage[1] is not None else estimate_tokens(reply)
        self.budget.spend(in_tok, out_tok)
        verdict = LlmVerdict(score, reason, called=True)
        self._cache_put(key, verdict)
        return verdict

    def summary(self) -> dict[str, Any]:
        out = self.budget.to_json()
        out["cache_hits"] = self.cache_hits
        out["errors"] = self.errors
        out["stopped"] = self._down
        return out

    # ------------------------------------------------------------------ request

    def _request(self, req: JudgeRequest) -> dict[str, Any]:
        assert req.before is not None and req.after is not None
        before, cut_b = _side_text(req.before, self.settings.max_chars)
        after, cut_a = _side_text(req.after, self.settings.max_chars)
        # the classifier's mismatch_type is deliberately not sent: the judge must reach its
        # own answer, or its agreement with the labels would only echo the classifier's
        return {
            "schema": REQUEST_SCHEMA,
            "rubric": self.settings.rubric,
            "model": self.settings.model,
            "id": req.id,
            "path": req.path,
            "artifact_type": req.artifact_type,
            "before": before,
            "after": after,
            "truncated": {"before": cut_b, "after": cut_a},
        }

    @staticmethod
    def _user_prompt(request: Mapping[str, Any]) -> str:
        cut = request["truncated"]
        note = ""
        if cut["before"] or cut["after"]:
            note = "\n(NOTE: content was truncated to the first characters of each side.)"
        return (
            f"PATH: {request['path'] or '(unknown)'}\nARTIFACT TYPE: {request['artifact_type']}\n"
            f"----- BEFORE -----\n{request['before']}\n----- AFTER -----\n{request['after']}\n"
            f"----- END -----{note}"
        )

    def _call_command(
        self, request: Mapping[str, Any]
    ) -> tuple[str, tuple[int | None, int | None]]:
        payload = json.dumps(request, ensure_ascii=False).encode("utf-8")
        try:
            # argv, never a shell: the command comes from config, the content from artifacts
            proc = subprocess.run(
                list(self.settings.command),
                input=payload,
                capture_output=True,
                timeout=self.settings.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise JudgeError(f"command timed out after {self.settings.timeout:g} s") from None
        except OSError as exc:
            raise JudgeError(f"cannot run {self.settings.command[0]!r}: {exc.strerror}") from None
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            first = err[0][:200] if err else "(no message)"
            raise JudgeError(f"command exited {proc.returncode}: {first}")
        return proc.stdout.decode("utf-8", "replace"), (None, None)

    def _endpoint(self) -> str:
        url = self.settings.url.rstrip("/")
        return url if url.endswith("/chat/completions") else url + "/chat/completions"

    def _call_http(self, prompt: str) -> tuple[str, tuple[int | None, int | None]]:
        body = {
            "model": self.settings.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": self.settings.rubric},
                {"role": "user", "content": prompt},
            ],
            "response_format": {"type": "json_object"},
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self.environ.get(self.settings.api_key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(
            self._endpoint(), data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.settings.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise JudgeError(f"HTTP {exc.code} from the judge endpoint") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise JudgeError(f"cannot reach the judge endpoint: {reason}") from None
        try:
            doc = json.loads(raw)
            content = doc["choices"][0]["message"]["content"]
            usage = doc.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError):
            raise JudgeError("the endpoint's answer is not a chat completion") from None
        if not isinstance(content, str):
            raise JudgeError("the completion has no text content")
        prompt_tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
        completion_tokens = usage.get("completion_tokens") if isinstance(usage, dict) else None
        return content, (
            prompt_tokens if isinstance(prompt_tokens, int) else None,
            completion_tokens if isinstance(completion_tokens, int) else None,
        )

    # ------------------------------------------------------------------ cache

    def _cache_key(self, req: JudgeRequest) -> str:
        parts = [
            self.settings.rubric_sha256,
            self.settings.model_id,
            _content_hash(req.hash_before, req.before),
            _content_hash(req.hash_after, req.after),
        ]
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> LlmVerdict | None:
        path = self._cache_path(key)
        if path is None:
            return None
        try:
            obj = json.loads(path.read_bytes())
            score = obj["score"]
            reason = obj["reason"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: a miss, rewritten after the next call
        if not isinstance(score, (int, float)) or isinstance(score, bool) or not 0 <= score <= 1:
            return None
        return LlmVerdict(float(score), str(reason), cached=True)

    def _cache_put(self, key: str, verdict: LlmVerdict) -> None:
        path = self._cache_path(key)
        if path is None:
            return
        doc = {"score": verdict.score, "reason": verdict.reason, "model": self.settings.model_id}
        atomic_write_text(path, json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n")
