"""The built-in agent inbox (issue 17): a small web application of its own (Sanic, .venv-engine) where agents sign in,
see the waiting queue, take a conversation, read its summary (verified order, decisions with clauses and case
numbers, transcript), reply, hand back to the bot or close, and record staff operations (inspection result, refund
issued), each audited with the agent's name by the service layer.

    python -m policy_engine inbox --host 127.0.0.1 --port 8090

Security:
* accounts: argon2id hashes (``service.add_agent``; ``python -m policy_engine agent add --name X``);
* sessions: server-side (``agent_sessions``), the cookie holds a random token only: ``HttpOnly``, ``SameSite=Strict``,
  ``Secure`` when ``INBOX_SECURE_COOKIES=1`` (behind TLS) or the request came over https;
* every state-changing request (POST) needs the session's CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``) and, when the browser sends one, an ``Origin`` equal to the inbox's own; else 403;
* sign-in attempts are limited per client address (the last ``X-Forwarded-For`` entry with ``TRUST_PROXY=1``) and
  per name (``INBOX_LOGIN_ATTEMPTS`` failures per 15 minutes, default 5): 429;
* nothing (queue, conversation, cases) without a session: pages redirect to /login, the JSON API answers 401;
* everything customer-written is HTML-escaped (``html.escape``); a strict Content-Security-Policy, no framing.

Agent replies reach the customer through ``relay`` (``agent_desk``'s ``CustomerRelay``): the built-in relay posts
them to the Rasa server's internal endpoint on loopback with ``HANDOFF_RELAY_TOKEN``.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import os
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qs

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from ..core.errors import InvalidRequest
from ..service.agents import AgentSession
from ..service.handoff import HandoffConflict

logger = logging.getLogger(__name__)

COOKIE = "inbox_session"
LOGIN_WINDOW_S = 15 * 60
MAX_BODY_BYTES = 16 * 1024


class CustomerRelay(Protocol):
    """Carries an agent's words to the customer's chat and gives the conversation back to the bot."""

    def deliver(self, conversation_id: str, channel: str, text: str, agent: str) -> bool: ...

    def resume(self, conversation_id: str, channel: str) -> bool: ...

    def transcript(self, conversation_id: str) -> list[dict] | None: ...


class NoRelay:
    """No customer channel attached (tests of the desk alone): nothing is delivered."""

    def deliver(self, conversation_id: str, channel: str, text: str, agent: str) -> bool:
        return False

    def resume(self, conversation_id: str, channel: str) -> bool:
        return False

    def transcript(self, conversation_id: str) -> list[dict] | None:
        return None


class LoginLimiter:
    """Failed sign-ins per key within a sliding window (in memory: one inbox process)."""

    def __init__(self, attempts: int, window_s: float = LOGIN_WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.attempts, self.window_s, self.clock = attempts, window_s, clock
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, *keys: str) -> bool:
        now = self.clock()
        for key in keys:
            q = self.failures[key]
            while q and q[0] <= now - self.window_s:
                q.popleft()
            if len(q) >= self.attempts:
                return True
        return False

    def fail(self, *keys: str) -> None:
        for key in keys:
            self.failures[key].append(self.clock())


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}"
    ".customer{color:#124}.bot{color:#555}.agent{color:#063}.msg{margin:.2rem 0}nav a{margin-right:1rem}"
    "form.inline{display:inline}textarea{width:100%}"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str, session: AgentSession | None = None) -> HTTPResponse:
    nav = ""
    if session is not None:
        nav = (
            f'<nav><a href="/queue">Queue</a><a href="/cases">Cases</a> signed in as {_e(session.name)} '
            f'<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" '
            f'value="{_e(session.csrf_token)}"><button>Sign out</button></form></nav>'
        )
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)} - Support inbox</title>'
        f'<link rel="stylesheet" href="/inbox.css"></head><body>{nav}<h1>{_e(title)}</h1>{body}</body></html>'
    )
    return response.html(document)


def _csrf_field(session: AgentSession) -> str:
    return f'<input type="hidden" name="csrf" value="{_e(session.csrf_token)}">'


def create_app(service: Any, *, relay: CustomerRelay | None = None, name: str = "agent_inbox") -> Sanic:
    """The inbox over ``service`` (a ``SupportService``)."""
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    desk_relay: CustomerRelay = relay or NoRelay()
    limiter = LoginLimiter(int(os.environ.get("INBOX_LOGIN_ATTEMPTS") or 5))
    secure_env = (os.environ.get("INBOX_SECURE_COOKIES") or "").strip().lower() in {"1", "true", "yes"}
    trust_proxy = (os.environ.get("TRUST_PROXY") or "").strip() == "1"

    def client_address(request: Request) -> str:
        """The caller's address: the socket's, or behind a proxy (TRUST_PROXY=1) the last X-Forwarded-For entry."""
        forwarded = request.headers.get("x-forwarded-for", "")
        if trust_proxy and forwarded:
            return forwarded.split(",")[-1].strip()
        return request.conn_info.client_ip if request.conn_info else "unknown"

    async def call(fn, *args, **kwargs):
        # the service blocks (database, argon2): off the event loop
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kwargs))

    def form(request: Request) -> dict[str, str]:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
        parsed = parse_qs((request.body or b"").decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def wants_json(request: Request) -> bool:
        return request.path.startswith("/api/")

    async def current(request: Request) -> AgentSession | None:
        return await call(service.agent_session, request.cookies.get(COOKIE))

    def origin_ok(request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin:
            return True
        own = f"{request.scheme}://{request.host}"
        return origin.rstrip("/") == own

    def refuse(request: Request, status: int, message: str) -> HTTPResponse:
        if wants_json(request) or status != 401:
            return response.json({"error": message}, status=status)
        return response.redirect("/login")

    async def authorised(request: Request, *, post: bool) -> tuple[AgentSession | None, HTTPResponse | None]:
        session = await current(request)
        if session is None:
            return None, refuse(request, 401, "sign in first")
        if post:
            data = form(request)
            presented = data.get("csrf") or request.headers.get("x-csrf-token") or ""
            if not origin_ok(request) or not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
                return None, response.json({"error": "missing or wrong CSRF token"}, status=403)
        return session, None

    @app.middleware("response")
    async def headers(request: Request, resp: HTTPResponse) -> None:
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'"
        )
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        # same-origin, not no-referrer: with no-referrer the browser sends "Origin: null" on the forms' POSTs
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["Cache-Control"] = "no-store"

    @app.get("/inbox.css")
    async def css(_: Request) -> HTTPResponse:
        return response.text(_STYLE, content_type="text/css")

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/")
    async def root(request: Request) -> HTTPResponse:
        return response.redirect("/queue")

    def login_form(error: str = "") -> HTTPResponse:
        body = (
            (f'<p role="alert">{_e(error)}</p>' if error else "")
            + '<form method="post" action="/login"><label>Name <input name="name" id="name" autocomplete="username">'
            '</label> <label>Password <input type="password" name="password" id="password" '
            'autocomplete="current-password"></label> <button id="sign-in">Sign in</button></form>'
        )
        return _page("Sign in", body)

    @app.get("/login")
    async def login_page(request: Request) -> HTTPResponse:
        return login_form()

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        if not origin_ok(request):
            return response.json({"error": "origin not allowed"}, status=403)
        data = form(request)
        agent_name = data.get("name", "")[:100]
        keys = (f"ip:{client_address(request)}", f"name:{agent_name.lower()}")
        if limiter.blocked(*keys):
            return response.json({"error": "too many failed sign-ins; try again later"}, status=429)
        signed = await call(service.sign_in, agent_name, data.get("password", ""))
        if signed is None:
            limiter.fail(*keys)
            if wants_json(request):
                return response.json({"error": "wrong name or password"}, status=401)
            page = login_form("Wrong name or password.")
            page.status = 401
            return page
        token, session = signed
        resp = (
            response.json({"agent": session.name, "csrf": session.csrf_token})
            if wants_json(request)
            else response.redirect("/queue", status=303)
        )
        resp.cookies[COOKIE] = token
        cookie = resp.cookies[COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        if secure_env or request.scheme == "https":
            cookie["secure"] = True
        return resp

    @app.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        session, refusal = await authorised(request, post=True)
        if refusal:
            return refusal
        await call(service.sign_out, request.cookies.get(COOKIE))
        resp = response.redirect("/login", status=303)
        del resp.cookies[COOKIE]
        return resp

    # ------------------------------------------------------------------------------------------------ the queue
    @app.get("/queue")
    async def queue(request: Request) -> HTTPResponse:
        session, refusal = await authorised(request, post=False)
        if refusal or session is None:
            return refusal or refuse(request, 401, "sign in first")
        items = await call(service.handoff_queue)
        if wants_json(request):
            return response.json({"queue": items, "csrf": session.csrf_token})
        rows = "".join(
            f'<tr data-id="{h["id"]}"><td><a href="/handoffs/{h["id"]}">{_e(h["conversation_id"])}</a></td>'
            f"<td>{_e(h['status'])}</td><td>{_e(h['queue_position'] or '')}</td>"
            f"<td>{_e(h['order_number'] or 'not verified')}</td><td>{_e(h['topic'] or '')}</td>"
            f"<td>{_e(h['agent'] or '')}</td></tr>"
            for h in items
        )
        body = (
            '<table id="queue"><tr><th>conversation</th><th>status</th><th>position</th><th>order</th><th>topic</th>'
            f'<th>agent</th></tr>{rows}</table><p><a href="/queue">Refresh</a></p>'
        )
        return _page("Waiting queue", body, session)

    @app.get("/handoffs/<handoff_id:int>")
    async def conversation(request: Request, handoff_id: int) -> HTTPResponse:
        session, refusal = await authorised(request, post=False)
        if refusal or session is None:
            return refusal or refuse(request, 401, "sign in first")
        try:
            detail = await call(service.handoff_detail, handoff_id)
        except LookupError:
            return response.json({"error": "not found"}, status=404)
        live = await call(desk_relay.transcript, detail["conversation_id"])
        if live is not None:
            detail["live_transcript"] = live
        if wants_json(request):
            return response.json(detail)
        summary = detail["summary"]
        decisions = "".join(
            f"<li>{_e(d.get('topic'))}: {_e(d.get('outcome'))}, case {_e(d.get('case_id') or '-')}, "
            f"clauses {_e(', '.join(d.get('clauses') or []))}</li>"
            for d in summary.get("decisions", [])
        )
        if live:  # the whole conversation from Rasa's tracker, the customer's new messages included
            lines = [
                {**line, "speaker": f"{line['agent']} (agent)" if line.get("agent") else line["speaker"]}
                for line in live
            ]
        else:  # Rasa not reachable (or no such tracker): the summary's transcript and the agents' messages
            lines = list(summary.get("transcript", [])) + [
                {"speaker": f"{m['agent']} (agent)", "text": m["text"]} for m in detail["messages"]
            ]
        transcript = "".join(
            f'<p class="msg {_e(str(line.get("speaker")).split(" ")[-1].strip("()"))}"><b>{_e(line.get("speaker"))}:'
            f"</b> {_e(line.get('text'))}</p>"
            for line in lines
        )
        hid = detail["id"]
        actions = ""
        if detail["status"] == "waiting":
            actions += (
                f'<form method="post" action="/handoffs/{hid}/take">{_csrf_field(session)}'
                '<button id="take">Take</button></form>'
            )
        if detail["status"] == "taken" and detail["agent"] == session.name:
            actions += (
                f'<form method="post" action="/handoffs/{hid}/reply">{_csrf_field(session)}'
                '<textarea name="text" id="reply-text" rows="3" maxlength="2000"></textarea>'
                '<button id="send">Send</button></form>'
                f'<form class="inline" method="post" action="/handoffs/{hid}/hand-back">{_csrf_field(session)}'
                '<button id="hand-back">Hand back to the bot</button></form> '
            )
        if detail["status"] in ("waiting", "taken"):
            actions += (
                f'<form class="inline" method="post" action="/handoffs/{hid}/close">{_csrf_field(session)}'
                '<button id="close">Close</button></form>'
            )
        verified = (
            f"verified order {_e(summary.get('order_number'))}"
            if summary.get("verified")
            else "not verified (ask for the order number and purchase email, RET-4)"
        )
        body = (
            f'<p id="status">{_e(detail["status"])}{" by " + _e(detail["agent"]) if detail["agent"] else ""}</p>'
            f"<p>Customer: {verified}; topic {_e(summary.get('topic') or '-')}; why: {_e(summary.get('cause'))}; "
            f'channel {_e(detail["channel"])}</p><h2>Decisions</h2><ul id="decisions">{decisions}</ul>'
            f'<h2>Transcript</h2><div id="transcript">{transcript}</div>{actions}'
        )
        return _page(f"Conversation {detail['case_id'] or hid}", body, session)

    async def _act(request: Request, handoff_id: int, operation: str) -> HTTPResponse:
        session, refusal = await authorised(request, post=True)
        if refusal or session is None:
            return refusal or refuse(request, 401, "sign in first")
        delivered = None
        try:
            if operation == "take":
                view = await call(service.take_handoff, handoff_id, session)
            elif operation == "reply":
                view = await call(service.record_agent_reply, handoff_id, session, form(request).get("text"))
                delivered = await call(
                    desk_relay.deliver,
                    view["conversation_id"],
                    view["channel"],
                    form(request)["text"].strip(),
                    session.name,
                )
            elif operation == "hand_back":
                view = await call(service.hand_back, handoff_id, session)
                delivered = await call(desk_relay.resume, view["conversation_id"], view["channel"])
            else:
                view = await call(service.close_handoff, handoff_id, session)
                delivered = await call(desk_relay.resume, view["conversation_id"], view["channel"])
        except LookupError:
            return response.json({"error": "not found"}, status=404)
        except HandoffConflict as error:
            return response.json({"error": str(error)}, status=409)
        except InvalidRequest as error:
            return response.json({"error": str(error)}, status=400)
        if request.path.startswith("/api/"):
            return response.json({**view, "delivered": delivered})
        return response.redirect(f"/handoffs/{handoff_id}" if operation in ("take", "reply") else "/queue", status=303)

    for path, operation in (("take", "take"), ("reply", "reply"), ("hand-back", "hand_back"), ("close", "close")):

        def make(op: str):
            async def handler(request: Request, handoff_id: int) -> HTTPResponse:
                return await _act(request, handoff_id, op)

            return handler

        app.add_route(make(operation), f"/handoffs/<handoff_id:int>/{path}", methods=["POST"], name=f"h_{operation}")
        app.add_route(
            make(operation), f"/api/handoffs/<handoff_id:int>/{path}", methods=["POST"], name=f"a_{operation}"
        )

    # ------------------------------------------------------------------------------------------------ cases
    @app.get("/cases")
    async def cases(request: Request) -> HTTPResponse:
        session, refusal = await authorised(request, post=False)
        if refusal or session is None:
            return refusal or refuse(request, 401, "sign in first")
        tickets = await call(service.tickets)
        rows = "".join(
            f"<tr><td>{_e(t['case_id'])}</td><td>{_e(t['order_number'] or 'not verified')}</td>"
            f'<td>{_e(t["created_at"])}</td><td><a href="/handoffs/{t["id"]}">open</a></td></tr>'
            for t in tickets
        )
        body = (
            f'<h2>Record an inspection result (RET-6, REF-1)</h2><form method="post" action="/cases/inspection">'
            f'{_csrf_field(session)}<label>Order <input name="order_number" id="inspect-order"></label> '
            '<label><input type="radio" name="passed" value="1" checked id="inspect-passed"> passed</label> '
            '<label><input type="radio" name="passed" value="0"> failed, finding <input name="finding"></label> '
            '<button id="record-inspection">Record</button></form>'
            '<h2>Issue a refund (REF-1, REF-2, CRD-11)</h2><form method="post" action="/cases/refund">'
            f'{_csrf_field(session)}<label>Order <input name="order_number" id="refund-order"></label> '
            '<button id="issue-refund">Refund issued</button></form>'
            f'<h2>Tickets from outside the hours</h2><table id="tickets">{rows}</table>'
        )
        return _page("Cases", body, session)

    @app.post("/cases/inspection")
    async def inspection(request: Request) -> HTTPResponse:
        session, refusal = await authorised(request, post=True)
        if refusal or session is None:
            return refusal or refuse(request, 401, "sign in first")
        data = form(request)
        passed = data.get("passed", "1") in {"1", "true", "yes"}
        try:
            decision = await call(
                service.record_inspection,
                data.get("order_number", ""),
                passed,
                data.get("finding") or None,
                agent=session.name,
            )
        except InvalidRequest as error:
            return response.json({"error": str(error)}, status=400)
        return _staff_answer(request, session, "Inspection recorded", decision)

    @app.post("/cases/refund")
    async def refund(request: Request) -> HTTPResponse:
        session, refusal = await authorised(request, post=True)
        if refusal or session is None:
            return refusal or refuse(request, 401, "sign in first")
        try:
            decision = await call(service.issue_refund, form(request).get("order_number", ""), agent=session.name)
        except InvalidRequest as error:
            return response.json({"error": str(error)}, status=400)
        return _staff_answer(request, session, "Refund issued", decision)

    def _staff_answer(request: Request, session: AgentSession, title: str, decision) -> HTTPResponse:
        if request.path.startswith("/api/"):
            return response.json(decision.to_dict())
        body = (
            f'<p id="result">{_e(decision.topic)}: {_e(decision.outcome.value)} '
            f"({_e(', '.join(decision.reason_codes))}; {_e(', '.join(decision.clauses))})</p>"
            '<p><a href="/cases">Back to cases</a></p>'
        )
        return _page(title, body, session)

    # the JSON API: the same handlers (they answer JSON under /api/)
    app.add_route(_handler(login), "/api/login", methods=["POST"], name="api_login")
    app.add_route(_handler(queue), "/api/queue", methods=["GET"], name="api_queue")
    app.add_route(_handler(conversation), "/api/handoffs/<handoff_id:int>", methods=["GET"], name="api_conversation")
    app.add_route(_handler(inspection), "/api/cases/inspection", methods=["POST"], name="api_inspection")
    app.add_route(_handler(refund), "/api/cases/refund", methods=["POST"], name="api_refund")
    return app


def _handler(route: Any) -> Any:
    """The function behind a Sanic route decorator's result."""
    return route[1] if isinstance(route, tuple) else route


def run(host: str, port: int) -> None:
    """``python -m policy_engine inbox``: the inbox over the environment's service and the Rasa relay."""
    from ..service import SupportService
    from .inbox_relay import relay_from_env

    app = create_app(SupportService.from_env(), relay=relay_from_env())
    app.run(host=host, port=port, access_log=False, workers=1)
