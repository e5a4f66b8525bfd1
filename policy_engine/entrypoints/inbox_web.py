"""The agent inbox's building blocks (issue 17): the relay protocol, the sign-in limiter, and the pages' HTML, every
customer-written value escaped (``_e``)."""

from __future__ import annotations

import html
import logging
from typing import Any, Protocol

from sanic import response
from sanic.response import HTTPResponse

from ..service.agents import AgentSession

logger = logging.getLogger(__name__)

COOKIE = "inbox_session"
LOGIN_WINDOW_S = 15 * 60
MAX_BODY_BYTES = 16 * 1024


class CustomerRelay(Protocol):
    """Carries an agent's words to the customer's chat and gives the conversation back to the bot."""

    def deliver(self, conversation_id: str, channel: str, text: str, agent: str) -> str:
        """``live``, ``kept`` (REST: with the customer's next answer), ``failed``, ``""`` (not relayed)."""

    def resume(self, conversation_id: str, channel: str) -> str: ...

    def transcript(self, conversation_id: str) -> list[dict] | None: ...


class NoRelay:
    """No customer channel attached (tests of the desk alone): nothing is delivered."""

    def deliver(self, conversation_id: str, channel: str, text: str, agent: str) -> str:
        return ""

    def resume(self, conversation_id: str, channel: str) -> str:
        return ""

    def transcript(self, conversation_id: str) -> list[dict] | None:
        return None


class LoginLimiter:
    """Failed sign-ins per key (client address, name) within a moving window: the ``limits`` library's
    ``MovingWindowRateLimiter``, in memory (one inbox process) or, with ``storage="redis://..."``
    (``RATE_LIMIT_STORAGE``), in that Redis, so that every inbox process counts the same failures.  Blocking calls
    (Redis): call them off the event loop.  Redis unreachable: sign-in is refused (logged), not left unlimited."""

    def __init__(self, attempts: int, window_s: int = LOGIN_WINDOW_S, storage: str = "memory://") -> None:
        from limits import RateLimitItemPerSecond, strategies
        from limits import storage as limits_storage

        self.item = RateLimitItemPerSecond(attempts, window_s)
        self.shared = not storage.startswith("memory://")
        self.limiter = strategies.MovingWindowRateLimiter(limits_storage.storage_from_string(storage))

    def blocked(self, *keys: str) -> bool:
        try:
            return any(not self.limiter.test(self.item, "inbox-sign-in", key) for key in keys)
        except Exception as error:  # noqa: BLE001 - fail closed: no sign-in while the shared counter is unreachable
            logger.warning("sign-in limiter unavailable (%s): sign-in refused", type(error).__name__)
            return True

    def fail(self, *keys: str) -> None:
        try:
            for key in keys:
                self.limiter.hit(self.item, "inbox-sign-in", key)
        except Exception as error:  # noqa: BLE001
            logger.warning("sign-in limiter unavailable (%s)", type(error).__name__)


def limit_storage(environ: Any) -> str:
    """``RATE_LIMIT_STORAGE`` when it names a Redis (shared by the inbox processes), else in memory."""
    storage = (environ.get("RATE_LIMIT_STORAGE") or "").strip()
    return storage if storage.startswith(("redis://", "rediss://", "unix://")) else "memory://"


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
        f'<h2>Transcript</h2><div id="transcript">{transcript}</div>{delivery_note(detail)}{actions}'
    )
    return body


#: what the agent is told about the last reply (``?delivery=`` after a reply) and about the REST channel
DELIVERY_NOTES = {
    "failed": "Your last message was saved in the conversation but could not be sent to the customer's app (no "
    "address known for this chat, e.g. after a restart): close the conversation and answer the customer by email.",
    "none": "Your last message was saved but the chat server did not take it: try again, or answer by email.",
    "kept": "This customer uses the REST channel, which cannot push messages: what you send is kept and delivered "
    "with the answer to their next message.",
}


def delivery_note(detail: dict[str, Any]) -> str:
    note = DELIVERY_NOTES.get(str(detail.get("delivery"))) if "delivery" in detail else None
    if note is None and detail.get("channel") == "rest":
        note = DELIVERY_NOTES["kept"]
    return f'<p id="delivery" role="status">{esc(note)}</p>' if note else ""


def queue_body(items: list[dict[str, Any]]) -> str:
    """The waiting queue: position and expected wait (issue 17: docs/handoff.md), order or "not verified", topic."""
    rows = "".join(
        f'<tr data-id="{h["id"]}"><td><a href="/handoffs/{h["id"]}">{esc(h["conversation_id"])}</a></td>'
        f"<td>{esc(h['status'])}</td><td>{esc(h['queue_position'] or '')}</td>"
        f"<td>{esc(str(h['expected_wait_minutes']) + ' min' if h.get('expected_wait_minutes') else '')}</td>"
        f"<td>{esc(h['order_number'] or 'not verified')}</td><td>{esc(h['topic'] or '')}</td>"
        f"<td>{esc(h['channel'])}</td><td>{esc(h['agent'] or '')}</td></tr>"
        for h in items
    )
    return (
        '<table id="queue"><tr><th>conversation</th><th>status</th><th>position</th><th>expected wait</th>'
        f"<th>order</th><th>topic</th><th>channel</th><th>agent</th></tr>{rows}</table>"
        '<p><a href="/queue">Refresh</a></p>'
    )


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
