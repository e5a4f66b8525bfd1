"""The built-in agent inbox (issue 17) against the secure stack's real inbox process: nothing for anyone not signed
in, wrong passwords refused and then throttled, CSRF and Origin checked on every state-changing request, two agents
cannot take one conversation (real concurrent requests), customer-written text escaped, cookie flags, every agent
action in the audit log.  The handoffs are queued through the service on the stack's own database, with a clock
inside the live-chat hours (the bot's side is in tests/e2e/test_e2e_handoff.py)."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timezone

import pytest
import requests

from policy_engine.service import SupportService
from policy_engine.store import make_engine, make_session_factory
from tests.dialogue.dialogue_client import new_address
from tests.support.smtp import RecordingMailer
from tests.support.store import repository_policy

#: a Wednesday, 11:00 in Los Angeles: inside the live-chat hours
IN_HOURS = datetime(2025, 3, 12, 18, 0, tzinfo=timezone.utc)
PASSWORD = "a long enough password for tests"


@pytest.fixture(scope="module")
def desk(secure_stack):
    engine = make_engine(secure_stack.settings.database_url)
    service = SupportService(make_session_factory(engine), repository_policy(), lambda: IN_HOURS, RecordingMailer())
    yield service
    engine.dispose()


@pytest.fixture
def inbox(settings) -> str:
    return settings.inbox_url.rstrip("/")


def _queue_one(desk, text: str = "hello") -> int:
    conversation = f"sec-{secrets.token_hex(6)}"
    from policy_engine.core.handoff import TranscriptLine

    desk.request_handoff(conversation, channel="socketio", transcript=[TranscriptLine("customer", text)])
    return next(h["id"] for h in desk.handoff_queue() if h["conversation_id"] == conversation)


def _agent(desk, inbox: str) -> tuple[requests.Session, str]:
    name = f"agent-{secrets.token_hex(4)}"
    desk.add_agent(name, PASSWORD)
    session = requests.Session()
    session.headers["X-Forwarded-For"] = new_address()
    answer = session.post(f"{inbox}/api/login", json={"name": name, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return session, answer.json()["csrf"]


def test_nothing_without_signing_in(desk, inbox):
    handoff_id = _queue_one(desk, "my order AK1000003, email emma.twenty@example.com")
    anonymous = requests.Session()
    for path in ("/api/queue", f"/api/handoffs/{handoff_id}"):
        answer = anonymous.get(f"{inbox}{path}", timeout=30)
        assert answer.status_code == 401 and "AK1000003" not in answer.text
    for path in ("/queue", f"/handoffs/{handoff_id}", "/cases"):
        answer = anonymous.get(f"{inbox}{path}", allow_redirects=False, timeout=30)
        assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    for path in (f"/api/handoffs/{handoff_id}/take", f"/api/handoffs/{handoff_id}/reply", "/api/cases/refund"):
        answer = anonymous.post(f"{inbox}{path}", json={"order_number": "AK1000016", "text": "x"}, timeout=30)
        assert answer.status_code == 401
    forged = requests.get(f"{inbox}/api/queue", cookies={"inbox_session": "forged-token"}, timeout=30)
    assert forged.status_code == 401
    assert desk.handoff_detail(handoff_id)["status"] == "waiting"


def test_a_wrong_password_is_refused_and_then_throttled(desk, inbox):
    name = f"agent-{secrets.token_hex(4)}"
    desk.add_agent(name, PASSWORD)
    address = new_address()
    for _ in range(5):
        answer = requests.post(
            f"{inbox}/api/login",
            json={"name": name, "password": "not the password"},
            headers={"X-Forwarded-For": address},
            timeout=30,
        )
        assert answer.status_code == 401 and "set-cookie" not in answer.headers
    right = requests.post(
        f"{inbox}/api/login",
        json={"name": name, "password": PASSWORD},
        headers={"X-Forwarded-For": address},
        timeout=30,
    )
    assert right.status_code == 429  # throttled for this name and this address, even with the right password
    other = requests.post(
        f"{inbox}/api/login",
        json={"name": "someone-else", "password": PASSWORD},
        headers={"X-Forwarded-For": address},
        timeout=30,
    )
    assert other.status_code == 429
    unknown = requests.post(
        f"{inbox}/api/login",
        json={"name": "nobody-here", "password": PASSWORD},
        headers={"X-Forwarded-For": new_address()},
        timeout=30,
    )
    assert unknown.status_code == 401


def test_the_session_cookie_is_httponly_and_samesite_strict(desk, inbox):
    name = f"agent-{secrets.token_hex(4)}"
    desk.add_agent(name, PASSWORD)
    answer = requests.post(
        f"{inbox}/api/login",
        json={"name": name, "password": PASSWORD},
        headers={"X-Forwarded-For": new_address()},
        timeout=30,
    )
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    assert answer.headers["x-frame-options"] == "DENY"


def test_state_changes_need_the_csrf_token_and_the_own_origin(desk, inbox):
    handoff_id = _queue_one(desk)
    agent, csrf = _agent(desk, inbox)
    take = f"{inbox}/api/handoffs/{handoff_id}/take"
    assert agent.post(take, json={}, timeout=30).status_code == 403  # missing
    assert agent.post(take, json={"csrf": "wrong"}, timeout=30).status_code == 403
    assert agent.post(take, headers={"X-CSRF-Token": csrf + "x"}, timeout=30).status_code == 403
    foreign = agent.post(take, json={"csrf": csrf}, headers={"Origin": "https://evil.example"}, timeout=30)
    assert foreign.status_code == 403
    assert desk.handoff_detail(handoff_id)["status"] == "waiting"
    # a form post (as the page sends it) with the token works
    assert (
        agent.post(f"{inbox}/handoffs/{handoff_id}/take", data={"csrf": csrf}, allow_redirects=False).status_code == 303
    )
    assert desk.handoff_detail(handoff_id)["status"] == "taken"
    # another agent's CSRF token does not work with this agent's cookie
    _, other_csrf = _agent(desk, inbox)
    reply = agent.post(f"{inbox}/api/handoffs/{handoff_id}/reply", json={"csrf": other_csrf, "text": "hi"}, timeout=30)
    assert reply.status_code == 403
    refund = agent.post(f"{inbox}/api/cases/refund", json={"order_number": "AK1000016"}, timeout=30)
    assert refund.status_code == 403


def test_two_agents_cannot_take_the_same_conversation(desk, inbox):
    handoff_ids = [_queue_one(desk) for _ in range(3)]
    agents = [_agent(desk, inbox) for _ in range(4)]
    results: list[tuple[int, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(agents))

    def take_all(session: requests.Session, csrf: str) -> None:
        barrier.wait()
        for handoff_id in handoff_ids:
            answer = session.post(f"{inbox}/api/handoffs/{handoff_id}/take", json={"csrf": csrf}, timeout=60)
            with lock:
                results.append((handoff_id, answer.status_code))

    threads = [threading.Thread(target=take_all, args=agent) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for handoff_id in handoff_ids:
        codes = sorted(code for h, code in results if h == handoff_id)
        assert codes == [200, 409, 409, 409], (handoff_id, codes)
    assert all(desk.handoff_detail(h)["agent"] for h in handoff_ids)  # one agent named per conversation
    takes = [
        row
        for row in SupportDatabaseRows(desk).audit()
        if row["operation"] == "take" and row["handoff_id"] in handoff_ids
    ]
    assert len(takes) == len(handoff_ids)


def test_only_the_taking_agent_replies_hands_back_or_closes(desk, inbox):
    handoff_id = _queue_one(desk)
    (ann, ann_csrf), (bob, bob_csrf) = _agent(desk, inbox), _agent(desk, inbox)
    assert ann.post(f"{inbox}/api/handoffs/{handoff_id}/take", json={"csrf": ann_csrf}).status_code == 200
    base = f"{inbox}/api/handoffs/{handoff_id}"
    assert bob.post(f"{base}/reply", json={"csrf": bob_csrf, "text": "hi"}).status_code == 409
    assert bob.post(f"{base}/hand-back", json={"csrf": bob_csrf}).status_code == 409
    assert bob.post(f"{base}/close", json={"csrf": bob_csrf}).status_code == 409
    assert ann.post(f"{base}/reply", json={"csrf": ann_csrf, "text": " "}).status_code == 400
    assert ann.post(f"{base}/reply", json={"csrf": ann_csrf, "text": "x" * 2001}).status_code == 400
    assert ann.post(f"{base}/close", json={"csrf": ann_csrf}).status_code == 200
    assert ann.post(f"{inbox}/api/handoffs/999999/take", json={"csrf": ann_csrf}).status_code == 404


def test_customer_written_text_is_escaped_on_the_page(desk, inbox):
    handoff_id = _queue_one(desk, '<script>alert("x")</script><img src=x onerror=alert(1)>')
    agent, _ = _agent(desk, inbox)
    page = agent.get(f"{inbox}/handoffs/{handoff_id}", timeout=30)
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text


class SupportDatabaseRows:
    """The audit rows of agent actions, read through the service's session factory."""

    def __init__(self, service: SupportService) -> None:
        self.service = service

    def audit(self) -> list[dict]:
        from sqlalchemy import select

        from policy_engine.store import unit_of_work
        from policy_engine.store.models import DecisionAuditRow

        with unit_of_work(self.service._sessions) as uow:
            return [
                row.inputs
                for row in uow.session.scalars(select(DecisionAuditRow).where(DecisionAuditRow.topic == "agent"))
            ]
