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
import json
import logging
import os
from typing import Any
from urllib.parse import parse_qs

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from ..core.errors import InvalidRequest
from ..service.agents import AgentSession
from ..service.handoff import HandoffConflict
from .inbox_web import (
    COOKIE,
    MAX_BODY_BYTES,
    STYLE,
    CustomerRelay,
    LoginLimiter,
    NoRelay,
    cases_body,
    conversation_body,
    esc,
    limit_storage,
    page,
    queue_body,
    staff_result_body,
)

logger = logging.getLogger(__name__)


def create_app(service: Any, *, relay: CustomerRelay | None = None, name: str = "agent_inbox") -> Sanic:
    """The inbox over ``service`` (a ``SupportService``)."""
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    desk_relay: CustomerRelay = relay or NoRelay()
    limiter = LoginLimiter(int(os.environ.get("INBOX_LOGIN_ATTEMPTS") or 5), storage=limit_storage(os.environ))
    service.configure_sessions(
        float(os.environ.get("INBOX_SESSION_HOURS") or 12), float(os.environ.get("INBOX_IDLE_MINUTES") or 30)
    )
    secure_env = (os.environ.get("INBOX_SECURE_COOKIES") or "").strip().lower() in {"1", "true", "yes"}
    trust_proxy = (os.environ.get("TRUST_PROXY") or "").strip() == "1"
    app.config.PROXIES_COUNT = 1 if trust_proxy else None  # behind nginx: X-Forwarded-Proto for the Origin check

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
        return response.text(STYLE, content_type="text/css")

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/")
    async def root(request: Request) -> HTTPResponse:
        return response.redirect("/queue")

    def login_form(error: str = "") -> HTTPResponse:
        body = (
            (f'<p role="alert">{esc(error)}</p>' if error else "")
            + '<form method="post" action="/login"><label>Name <input name="name" id="name" autocomplete="username">'
            '</label> <label>Password <input type="password" name="password" id="password" '
            'autocomplete="current-password"></label> <button id="sign-in">Sign in</button></form>'
        )
        return page("Sign in", body)

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
        if await call(limiter.blocked, *keys):
            return response.json({"error": "too many failed sign-ins; try again later"}, status=429)
        signed = await call(service.sign_in, agent_name, data.get("password", ""))
        if signed is None:
            await call(limiter.fail, *keys)
            if wants_json(request):
                return response.json({"error": "wrong name or password"}, status=401)
            refused = login_form("Wrong name or password.")
            refused.status = 401
            return refused
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
        body = queue_body(items)
        return page("Waiting queue", body, session)

    @app.get("/handoffs/<handoff_id:int>")
    async def conversation(request: Request, handoff_id: int) -> HTTPResponse:
        session, refusal = await authorised(request, post=False)
        if refusal or session is None:
            return refusal or refuse(request, 401, "sign in first")
        try:
            detail = await call(service.handoff_detail, handoff_id)
        except LookupError:
            return response.json({"error": "not found"}, status=404)
        if request.args.get("delivery") in ("failed", "kept", "none"):
            detail["delivery"] = request.args.get("delivery")
        live = await call(desk_relay.transcript, detail["conversation_id"])
        if live is not None:
            detail["live_transcript"] = live
        if wants_json(request):
            return response.json(detail)
        body = conversation_body(detail, session)
        hid = detail["id"]
        return page(f"Conversation {detail['case_id'] or hid}", body, session)

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
        note = f"?delivery={delivered or 'none'}" if operation == "reply" and delivered != "live" else ""
        after = f"/handoffs/{handoff_id}{note}"
        return response.redirect(after if operation in ("take", "reply") else "/queue", status=303)

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
        body = cases_body(tickets, session)
        return page("Cases", body, session)

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
        body = staff_result_body(decision)
        return page(title, body, session)

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
