"""``phase2 serve``: the review of ``phase2 resolve`` in a local web page.

The same :class:`~phase2_git.app.resolve.Session` (lock, state file, decision log, one apply
step) and the same review loop (:class:`phase2_git.ui.review.Review`: its groups, its tally,
its one ``apply`` per key) as the terminal; only the screen differs. A key pressed in the page
is the key pressed in the terminal: ``POST /api/key`` hands ``ACTIONS[key]`` to
``Review.apply``; ``POST /api/commit`` is ``Session.apply``; audits go through
``app.audit.record_audit`` as ``resolve --audit`` does.

Safety (the page can approve changes and make commits, so nothing else on the machine or on
the web may drive it):

- it listens on 127.0.0.1 only, on a random port; another address needs ``--allow-remote``;
- every request must carry the secret token of the printed URL (``?token=`` for the page,
  the ``X-Phase2-Token`` header for the API, which no cross-site form or image can set):
  without it, 403 and nothing changes;
- the ``Host`` header must be the loopback address served (a DNS-rebinding page sends its own
  name): else 403;
- only ``POST`` changes anything (``GET`` only reads), and only with a JSON body;
- the page is served with a strict Content-Security-Policy (its one script and style by
  hash), ``no-referrer`` (the token stays out of any Referer) and ``no-store``.

Starlette and uvicorn are optional dependencies (the ``web`` extra).
"""

from __future__ import annotations

import hmac
import io
import ipaddress
import secrets
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import IO, Any

from phase2_git.app.resolve import ApplyResult, Session
from phase2_git.core.sanitize import sanitize_line, sanitize_path
from phase2_git.core.summary import FAIL_ON
from phase2_git.errors import UsageError
from phase2_git.ui.render import adopted_line
from phase2_git.ui.review import ACTIONS, UNKNOWN, Group, Review, Tally, build_groups, read_contents

INSTALL = "pip install 'phase2-git[web]'"
TOKEN_HEADER = "x-phase2-token"
# the keys of the terminal review, and c: commit without leaving
KEYS = "arsenuAS?q"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def require() -> None:
    """Raise a usage error (exit 2) naming the install command when the extra is missing."""
    try:
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise UsageError(f"phase2 serve needs the web extra: {INSTALL}") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeOptions:
    base: str | None = None
    head: str = "HEAD"
    host: str = "127.0.0.1"
    port: int = 0
    allow_remote: bool = False
    open_browser: bool = True
    state_file: str | None = None
    restart: bool = False
    revisit_skipped: bool = False
    paths: tuple[str, ...] = ()
    user: str | None = None
    role: str | None = None
    config: str | None = None
    trust_from: str | None = None
    repo: str = "."
    guided: bool = False
    fail_on: str = "real"


# ----------------------------------------------------------------------------- the review


@dataclass
class WebReview:
    """The terminal's :class:`Review` behind a lock, its console writing into a buffer whose
    lines the page shows as messages."""

    session: Session
    review: Review
    buffer: io.StringIO
    lock: threading.Lock = field(default_factory=threading.Lock)
    commits: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    stop: Callable[[], None] = lambda: None
    guided: bool = False

    @classmethod
    def start(cls, session: Session, *, guided: bool = False) -> WebReview:
        from rich.console import Console

        buffer = io.StringIO()
        console = Console(
            file=buffer, no_color=True, highlight=False, markup=False, emoji=False, width=120
        )
        groups = build_groups(session, session.todo())
        if guided:
            from phase2_git.ui.guided import ordered

            groups = ordered(groups)
        review = Review(session, console, False, groups, Tally())
        return cls(session, review, buffer, guided=guided)

    def _drain(self) -> None:
        """What the key said: its console output, then the feedback the terminal shows above
        the next item (``Review.notice``: a rejection, an undo, ``A``)."""
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        said = text.splitlines() + self.review.notice
        self.review.notice = []
        self.messages = [line.strip() for line in said if line.strip()]

    def key(self, key: str) -> None:
        """One key of the terminal review (``d`` pages in the terminal: the page shows the
        whole diff itself, so it never reaches here)."""
        with self.lock:
            self.messages = []
            action = ACTIONS.get(key, UNKNOWN) if key in KEYS else UNKNOWN
            if action.kind == "quit":
                self._commit()
                self.stop()
                return
            if self.review.k >= len(self.review.groups) and action.kind in (
                "decide",
                "approve_safe",
                "skip_rest",
            ):
                self.messages = ["every group is decided: commit (c or q), or undo (u)"]
                return
            self.review.apply(action)
            self.review.done = False  # S ends the terminal loop; the page stays to commit
            self._drain()

    def commit(self) -> None:
        with self.lock:
            self.messages = []
            self._commit()

    def _commit(self) -> None:
        result = self.session.apply()
        # applied decisions are in history now: undo only takes back what is still pending
        self.review.tally.history.clear()
        self.commits += result.commits
        self.messages += commit_messages(result)

    def audit(self, decision_id: str, answer: str) -> None:
        from phase2_git.app.audit import record_audit

        with self.lock:
            self.messages = []
            target = next((a for a in self._audits() if a["id"] == decision_id), None)
            if target is None:
                raise UsageError(f"no pending audit {quote(decision_id)}")
            record_audit(self.session, target, answer)
            self.messages = [f"audit recorded: {answer}"]
            # committed like every decision, as `resolve --audit` commits its answers (the
            # queue reads the committed log: an answer left pending would be asked again)
            self._commit()

    def _audits(self) -> list[Mapping[str, Any]]:
        from phase2_git.app.audit import audit_pending
        from phase2_git.store.decisions import DecisionLog

        return audit_pending(list(DecisionLog(self.session.repo.root).events()))

    # ------------------------------------------------------------------------ what it shows

    def state(self) -> dict[str, Any]:
        with self.lock:
            return self._state()

    def _state(self) -> dict[str, Any]:
        r = self.review
        t = r.tally
        decided: dict[int, str] = {}
        for k, _, counter in t.history:
            decided[k] = counter
        groups = [
            {
                "path": sanitize_path(g.first.path),
                "members": len(g.members),
                "safe": all(m.plan.safe for m in g.members),
                "type": g.first.mismatch_type,
                "status": decided.get(k, "current" if k == r.k else "pending"),
            }
            for k, g in enumerate(r.groups)
        ]
        current = r.groups[r.k] if r.k < len(r.groups) else None
        base = self.session.diff.base
        audits = self._audits()
        return {
            "guided": self._steps(current, len(audits)) if self.guided else None,
            "base": self.session.base_description,
            "base_commit": (base.commit or base.tree or "")[:12],
            "branch": self.session.branch.name,
            "branch_commit": self.session.branch.commit[:12],
            "k": r.k,
            "total": len(r.groups),
            "tally": {
                "approved": t.approved,
                "rejected": t.rejected,
                "skipped": t.skipped,
                "labelled": t.labelled,
            },
            "pending": len(self.session.state.pending),
            # files still to decide (the progress bar: decided / decided + left)
            "left": sum(len(g.members) for g in r.groups[r.k :]),
            "groups": groups,
            "current": self._group(current) if current is not None else None,
            "commits": list(self.commits),
            "messages": [sanitize_line(m) for m in self.messages],
            "notices": [sanitize_line(n) for n in self.session.notices],
            "audits": [
                {
                    "id": a["id"],
                    "path": sanitize_path(a["path"]),
                    "type": sanitize_line(str(a.get("mismatch_type", "?"))),
                    "action": sanitize_line(str(a["action"])),
                }
                for a in audits
            ],
        }

    def _steps(self, current: Group | None, audits: int) -> dict[str, Any]:
        """The guided path: each step with what is left of it, and the step at hand."""
        from phase2_git.ui.guided import kind_of, steps

        r = self.review
        infos = steps(self.session, r.groups[r.k :])
        at = "audits" if audits else "labels"  # every group decided
        if current is not None:
            at = kind_of(current.first)
        return {"steps": [s.to_json() for s in infos], "at": at}

    def _group(self, group: Group) -> dict[str, Any]:
        from phase2_git.reports.html import diff_of, item

        m = group.first
        before: bytes | None = None
        after: bytes | None = None
        for _, b, a in read_contents(self.session, [m]):
            before, after = b, a
        truncated = (m.change.before is not None and before is None) or (
            m.change.after is not None and after is None
        )
        noisy = bool(m.verdicts and m.to_json().get("changes"))
        diff = diff_of(before, after, truncated, noisy=True, all_noise=m.equivalent)
        shown = item(m.to_json(), "real", diff)
        shown["members"] = [sanitize_path(x.path) for x in group.members[1:]]
        shown["confidence"] = m.plan.confidence
        shown["methods"] = [
            f"{v.method} {'✓' if v.equivalent else '✗'}{f' {v.score:.2f}' if v.equivalent else ''}"
            for v in m.verdicts
        ]
        shown["noisy"] = noisy
        return shown


def quote(text: str) -> str:
    return sanitize_line(text)[:200]


# ----------------------------------------------------------------------------- the server


def _page() -> tuple[str, str]:
    """The page and its Content-Security-Policy."""
    import jinja2

    from phase2_git.reports.html import asset, csp_hash

    script = asset("diff.js") + asset("serve.js")
    style = asset("report.css") + asset("serve.css")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("phase2_git.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    from markupsafe import Markup

    html = env.get_template("serve.html.j2").render(script=Markup(script), style=Markup(style))
    csp = (
        f"default-src 'none'; script-src {csp_hash(script)}; style-src {csp_hash(style)}; "
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    return html, csp


class Guard:
    """ASGI middleware in front of every route: the Host header and the token first."""

    def __init__(self, app: ASGIApp, token: str, hosts: frozenset[str]) -> None:
        self.app = app
        self.token = token.encode()
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self._refuse(scope, receive, send, "only HTTP is served")
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if host not in self.hosts:
            # a page on another name that resolves here (DNS rebinding) sends its own Host
            await self._refuse(scope, receive, send, "wrong Host header")
            return
        method = scope.get("method", "GET")
        given = headers.get(TOKEN_HEADER.encode())
        if given is None and method in ("GET", "HEAD"):
            from urllib.parse import parse_qs

            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            values = query.get("token") or [""]
            given = values[0].encode("latin-1", "replace")
        if not given or not hmac.compare_digest(given, self.token):
            await self._refuse(scope, receive, send, "missing or wrong token")
            return
        if method not in ("GET", "HEAD"):
            origin = headers.get(b"origin")
            if origin is not None and origin.decode("latin-1").lower() not in {
                f"http://{h}" for h in self.hosts
            }:
                await self._refuse(scope, receive, send, "cross-origin request")
                return
            if not headers.get(b"content-type", b"").startswith(b"application/json"):
                await self._refuse(scope, receive, send, "a JSON body is required")
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        from starlette.responses import PlainTextResponse

        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = PlainTextResponse(f"403 forbidden: {why}\n", status_code=403)
        await response(scope, receive, send)


SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def make_app(web: WebReview, token: str, hosts: frozenset[str]) -> ASGIApp:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    page, csp = _page()

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers={**SECURITY_HEADERS, "Content-Security-Policy": csp})

    def answer(status: int = 200, error: str | None = None) -> Response:
        body = web.state()
        if error:
            body["error"] = error
        return JSONResponse(body, status_code=status, headers=SECURITY_HEADERS)

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def state(request: Request) -> Response:
        return answer()

    async def key(request: Request) -> Response:
        data = await body_of(request)
        k = data.get("key")
        if not isinstance(k, str) or len(k) != 1 or k not in KEYS:
            return answer(400, "unknown key: press ? for help")
        web.key(k)
        return answer()

    async def commit(request: Request) -> Response:
        web.commit()
        return answer()

    async def audit(request: Request) -> Response:
        data = await body_of(request)
        ident, label = data.get("id"), data.get("answer")
        if not isinstance(ident, str) or label not in ("equivalent", "different"):
            return answer(400, "an audit needs an id and an answer: equivalent or different")
        try:
            web.audit(ident, label)
        except UsageError as exc:
            return answer(400, str(exc))
        return answer()

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/api/state", state, methods=["GET"]),
        Route("/api/key", key, methods=["POST"]),
        Route("/api/commit", commit, methods=["POST"]),
        Route("/api/audit", audit, methods=["POST"]),
    ]
    return Guard(Starlette(routes=routes), token, hosts)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: one the system picks), so the URL printed is the one
    served before anything is accepted."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def serve_main(
    opts: ServeOptions, *, out: IO[str], err: IO[str] = sys.stderr, environ: Mapping[str, str]
) -> int:
    require()
    if not is_loopback(opts.host) and not opts.allow_remote:
        raise UsageError(
            f"--host {quote(opts.host)} is not a loopback address: the review can approve "
            "changes and commit; pass --allow-remote to serve it there anyway"
        )
    if not 0 <= opts.port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {opts.port}")
    if opts.fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, got '{opts.fail_on}'")
    import uvicorn

    from phase2_git.ui.resolve import ResolveOptions, command, finish, review_session

    with review_session(opts, out, ui_mode="interactive", rich=False, environ=environ) as session:
        opened_at = session.branch.commit
        web = WebReview.start(session, guided=opts.guided)
        sock = bind(opts.host, opts.port)
        port = sock.getsockname()[1]
        shown_host = f"[{opts.host}]" if ":" in opts.host else opts.host
        hosts = frozenset(
            {f"{shown_host}:{port}"} | ({f"localhost:{port}"} if is_loopback(opts.host) else set())
        )
        token = secrets.token_urlsafe(32)
        config = uvicorn.Config(
            make_app(web, token, hosts),
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server = uvicorn.Server(config)

        def stop() -> None:
            server.should_exit = True

        web.stop = stop
        url = f"http://{shown_host}:{port}/?token={token}"
        if opts.allow_remote and not is_loopback(opts.host):
            err.write(
                f"warning: serving on {quote(opts.host)}: anyone who can reach it and has the "
                "token can approve changes and commit\n"
            )
        out.write(f"phase2 serve: {len(web.review.groups)} group(s) to review at\n  {url}\n")
        out.write("Ctrl-C stops (decisions are saved; q in the page commits and stops)\n")
        out.flush()
        if opts.open_browser:
            import webbrowser

            webbrowser.open(url)
        interrupted = False
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            interrupted = True
        finally:
            sock.close()
        interrupted = interrupted or bool(getattr(server, "_captured_signals", None))
        session.state.save()
        if web.commits:
            for commit in web.commits:
                out.write(f"commit {commit}\n")
        # the sides, paths and --fail-on of this run, for what is left and how to resume
        again = ResolveOptions(
            base=opts.base,
            head=opts.head,
            state_file=opts.state_file,
            paths=opts.paths,
            fail_on=opts.fail_on,
            guided=opts.guided,
        )
        resume = command(again, verb="serve")
        if interrupted:
            t = web.review.tally
            out.write(
                f"interrupted: {t.approved + t.rejected + t.skipped} decision(s) saved; "
                f"{len(session.state.pending)} not yet committed. Resume with: {resume}\n"
            )
            return 130
        # q ends it as it ends the terminal review: what is left, the exit code by --fail-on
        return finish(session, again, opened_at, out, resume=resume)


def commit_messages(result: ApplyResult) -> list[str]:
    """What the page says once its decisions are applied (a commit, or why there is none)."""
    out: list[str] = []
    adopted = adopted_line(result)
    if adopted is not None:
        out.append(adopted)
    if result.commits:
        out.append(
            f"commit {result.commits[-1]}: {len(result.applied)} file(s) rewritten, "
            f"{result.logged} decision(s) logged"
        )
    elif result.logged:
        out.append(
            f"{result.logged} decision(s) logged in .phase2/decisions.jsonl (no transform "
            "to commit)"
        )
    else:
        out.append("nothing to commit")
    out += [f"left alone (your own changes): {sanitize_path(p)}" for p in result.kept]
    return out
