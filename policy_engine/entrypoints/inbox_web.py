"""The agent inbox's building blocks (issue 17): the relay protocol, the sign-in limiter, and the pages' HTML, every
customer-written value escaped (``_e``)."""

from __future__ import annotations

import html
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any, Protocol

from sanic import response
from sanic.response import HTTPResponse

from ..service.agents import AgentSession

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


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}"
    ".customer{color:#124}.bot{color:#555}.agent{color:#063}.msg{margin:.2rem 0}nav a{margin-right:1rem}"
    "form.inline{display:inline}textarea{width:100%}"
)


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, session: AgentSession | None = None) -> HTTPResponse:
    nav = ""
    if session is not None:
        nav = (
            f'<nav><a href="/queue">Queue</a><a href="/cases">Cases</a> signed in as {esc(session.name)} '
            f'<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" '
            f'value="{esc(session.csrf_token)}"><button>Sign out</button></form></nav>'
        )
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)} - Support inbox</title>'
        f'<link rel="stylesheet" href="/inbox.css"></head><body>{nav}<h1>{esc(title)}</h1>{body}</body></html>'
    )
    return response.html(document)


def csrf_field(session: AgentSession) -> str:
    return f'<input type="hidden" name="csrf" value="{esc(session.csrf_token)}">'


def conversation_body(detail: dict[str, Any], session: AgentSession) -> str:
    """The conversation page's body: status, who the customer is, the decisions with their clauses and case numbers,
    the transcript (Rasa's live one when reachable) and the actions this agent may take."""
    live = detail.get("live_transcript")
    summary = detail["summary"]
    decisions = "".join(
        f"<li>{esc(d.get('topic'))}: {esc(d.get('outcome'))}, case {esc(d.get('case_id') or '-')}, "
        f"clauses {esc(', '.join(d.get('clauses') or []))}</li>"
        for d in summary.get("decisions", [])
    )
    if live:  # the whole conversation from Rasa's tracker, the customer's new messages included
        lines = [
            {**line, "speaker": f"{line['agent']} (agent)" if line.get("agent") else line["speaker"]} for line in live
        ]
    else:  # Rasa not reachable (or no such tracker): the summary's transcript and the agents' messages
        lines = list(summary.get("transcript", [])) + [
            {"speaker": f"{m['agent']} (agent)", "text": m["text"]} for m in detail["messages"]
        ]
    transcript = "".join(
        f'<p class="msg {esc(str(line.get("speaker")).split(" ")[-1].strip("()"))}"><b>{esc(line.get("speaker"))}:'
        f"</b> {esc(line.get('text'))}</p>"
        for line in lines
    )
    hid = detail["id"]
    actions = ""
    if detail["status"] == "waiting":
        actions += (
            f'<form method="post" action="/handoffs/{hid}/take">{csrf_field(session)}'
            '<button id="take">Take</button></form>'
        )
    if detail["status"] == "taken" and detail["agent"] == session.name:
        actions += (
            f'<form method="post" action="/handoffs/{hid}/reply">{csrf_field(session)}'
            '<textarea name="text" id="reply-text" rows="3" maxlength="2000"></textarea>'
            '<button id="send">Send</button></form>'
            f'<form class="inline" method="post" action="/handoffs/{hid}/hand-back">{csrf_field(session)}'
            '<button id="hand-back">Hand back to the bot</button></form> '
        )
    if detail["status"] in ("waiting", "taken"):
        actions += (
            f'<form class="inline" method="post" action="/handoffs/{hid}/close">{csrf_field(session)}'
            '<button id="close">Close</button></form>'
        )
    verified = (
        f"verified order {esc(summary.get('order_number'))}"
        if summary.get("verified")
        else "not verified (ask for the order number and purchase email, RET-4)"
    )
    body = (
        f'<p id="status">{esc(detail["status"])}{" by " + esc(detail["agent"]) if detail["agent"] else ""}</p>'
        f"<p>Customer: {verified}; topic {esc(summary.get('topic') or '-')}; why: {esc(summary.get('cause'))}; "
        f'channel {esc(detail["channel"])}</p><h2>Decisions</h2><ul id="decisions">{decisions}</ul>'
        f'<h2>Transcript</h2><div id="transcript">{transcript}</div>{actions}'
    )
    return body


def cases_body(tickets: list[dict[str, Any]], session: AgentSession) -> str:
    """The cases page: record an inspection result, issue a refund, and the outside-hours tickets."""
    rows = "".join(
        f"<tr><td>{esc(t['case_id'])}</td><td>{esc(t['order_number'] or 'not verified')}</td>"
        f'<td>{esc(t["created_at"])}</td><td><a href="/handoffs/{t["id"]}">open</a></td></tr>'
        for t in tickets
    )
    body = (
        f'<h2>Record an inspection result (RET-6, REF-1)</h2><form method="post" action="/cases/inspection">'
        f'{csrf_field(session)}<label>Order <input name="order_number" id="inspect-order"></label> '
        '<label><input type="radio" name="passed" value="1" checked id="inspect-passed"> passed</label> '
        '<label><input type="radio" name="passed" value="0"> failed, finding <input name="finding"></label> '
        '<button id="record-inspection">Record</button></form>'
        '<h2>Issue a refund (REF-1, REF-2, CRD-11)</h2><form method="post" action="/cases/refund">'
        f'{csrf_field(session)}<label>Order <input name="order_number" id="refund-order"></label> '
        '<button id="issue-refund">Refund issued</button></form>'
        f'<h2>Tickets from outside the hours</h2><table id="tickets">{rows}</table>'
    )
    return body


def staff_result_body(decision: Any) -> str:
    """A staff operation's answer: the refund status decision, its reasons and clauses."""
    body = (
        f'<p id="result">{esc(decision.topic)}: {esc(decision.outcome.value)} '
        f"({esc(', '.join(decision.reason_codes))}; {esc(', '.join(decision.clauses))})</p>"
        '<p><a href="/cases">Back to cases</a></p>'
    )
    return body
