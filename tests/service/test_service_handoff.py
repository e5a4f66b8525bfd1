"""A person takes over (issue 17, CON-1) on real SQLite and PostgreSQL: the queue and its summary (verified order,
decisions with clauses and case numbers, transcript), taking (two agents at once with real threads: one wins),
replies, hand back and close by the taking agent only, the outside-hours ticket with its confirmation through a real
SMTP server, agent accounts (argon2) and sessions, and the audit row of every agent action."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from policy_engine.core.errors import InvalidRequest
from policy_engine.core.handoff import HandoffCause, TranscriptLine
from policy_engine.service import SupportService
from policy_engine.service.handoff import HandoffConflict
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.handoff_models import AgentRow
from policy_engine.store.mail import SmtpMailer
from policy_engine.store.models import DecisionAuditRow
from tests.support.store import repository_policy

PASSWORD = "correct horse battery staple"
#: Saturday 15 March 2025, 12:00 in Los Angeles: the live chat is closed
SATURDAY_NOON = datetime(2025, 3, 15, 19, 0, tzinfo=timezone.utc)


def _agent(service, name):
    service.add_agent(name, PASSWORD)
    signed = service.sign_in(name, PASSWORD)
    assert signed is not None
    return signed[1]


def _audit(engine, topic="agent"):
    with unit_of_work(make_session_factory(engine)) as uow:
        rows = uow.session.scalars(
            select(DecisionAuditRow).where(DecisionAuditRow.topic == topic).order_by(DecisionAuditRow.id)
        )
        return [r.inputs for r in rows]


def test_inside_hours_the_conversation_queues_with_its_summary_CON_1(service, engine):
    assert service.verify_customer("c-olivia", "AK1000001", "olivia.fresh@example.com").verified
    cancelled = service.cancel_order("c-olivia", "AK1000001")
    transcript = [TranscriptLine("customer", "cancel my order <script>x</script>"), TranscriptLine("bot", "Done")]
    first = service.request_handoff("c-olivia", channel="socketio", topic="cancellation", transcript=transcript)
    assert first.reason_codes == ("agent_joining",) and first.values["queue_position"] == 1
    second = service.request_handoff("c-other", channel="socketio")
    assert second.values["queue_position"] == 2
    assert service.request_handoff("c-olivia", channel="socketio").values["queue_position"] == 1  # same place
    assert service.handoff_active("c-olivia") and not service.handoff_active("c-nobody")

    queue = service.handoff_queue()
    assert [(h["conversation_id"], h["queue_position"]) for h in queue] == [("c-olivia", 1), ("c-other", 2)]
    detail = service.handoff_detail(queue[0]["id"])
    summary = detail["summary"]
    assert summary["verified"] is True and summary["order_number"] == "AK1000001" and summary["topic"] == "cancellation"
    assert [d["case_id"] for d in summary["decisions"]] == [cancelled.case_id]
    assert set(cancelled.clauses) <= set(summary["decisions"][0]["clauses"])
    assert summary["transcript"][0]["text"] == "cancel my order <script>x</script>"  # kept; the page escapes it
    assert service.handoff_detail(queue[1]["id"])["summary"]["verified"] is False


def test_take_reply_hand_back_close_by_the_taking_agent_only_and_audited(service, engine):
    service.request_handoff("c-1", channel="socketio")
    ann, bob = _agent(service, "Ann"), _agent(service, "Bob")
    handoff_id = service.handoff_queue()[0]["id"]
    with pytest.raises(HandoffConflict):
        service.record_agent_reply(handoff_id, ann, "hello")  # not taken yet
    assert service.take_handoff(handoff_id, ann)["status"] == "taken"
    with pytest.raises(HandoffConflict):
        service.take_handoff(handoff_id, bob)  # double take refused
    with pytest.raises(HandoffConflict):
        service.record_agent_reply(handoff_id, bob, "hi, I'm Bob")
    with pytest.raises(HandoffConflict):
        service.hand_back(handoff_id, bob)
    with pytest.raises(InvalidRequest):
        service.record_agent_reply(handoff_id, ann, "   ")
    service.record_agent_reply(handoff_id, ann, "Hello, I'm Ann")
    assert service.handoff_detail(handoff_id)["messages"][0]["agent"] == "Ann"
    assert service.hand_back(handoff_id, ann)["status"] == "handed_back"
    assert not service.handoff_active("c-1")
    with pytest.raises(HandoffConflict):
        service.close_handoff(handoff_id, ann)  # handed back already
    service.request_handoff("c-1", channel="socketio")  # asks again: a new handoff
    again = service.handoff_queue()[0]["id"]
    assert again != handoff_id and service.close_handoff(again, bob)["status"] == "closed"  # waiting: anyone
    with pytest.raises(LookupError):
        service.take_handoff(999_999, ann)
    operations = [(a["operation"], a["agent"]) for a in _audit(engine)]
    assert operations == [
        ("add_agent", "Ann"),
        ("sign_in", "Ann"),
        ("add_agent", "Bob"),
        ("sign_in", "Bob"),
        ("take", "Ann"),
        ("reply", "Ann"),
        ("hand_back", "Ann"),
        ("close", "Bob"),
    ]


def test_two_agents_taking_at_once_one_wins(service, engine, clock):
    """Real threads, each with its own service on the same database: exactly one take succeeds per conversation."""
    for n in range(5):
        service.request_handoff(f"c-race-{n}", channel="socketio")
    agents = [_agent(service, f"Agent {i}") for i in range(4)]
    factory = make_session_factory(engine)
    ids = [h["id"] for h in service.handoff_queue()]
    wins: list[tuple[int, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(agents))

    def take_all(agent):
        mine = SupportService(factory, repository_policy(), clock)
        barrier.wait()
        for handoff_id in ids:
            try:
                mine.take_handoff(handoff_id, agent)
            except HandoffConflict:
                continue
            with lock:
                wins.append((handoff_id, agent.name))

    threads = [threading.Thread(target=take_all, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(h for h, _ in wins) == sorted(ids)  # each conversation taken exactly once
    queue = {h["id"]: h["agent"] for h in service.handoff_queue()}
    assert all(queue[h] == name for h, name in wins)
    assert len([a for a in _audit(engine) if a["operation"] == "take"]) == len(ids)


def test_outside_hours_a_ticket_and_a_confirmation_to_the_verified_email_CON_1(service, clock, smtp_server):
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, sender="support@anker.test")
    mailing = SupportService(service._sessions, repository_policy(), clock, mailer)
    clock.now = SATURDAY_NOON
    assert mailing.verify_customer("c-grace", "AK1000016", "grace.refunds@example.com").verified
    decision = mailing.request_handoff("c-grace", channel="socketio", cause=HandoffCause.NOT_UNDERSTOOD)
    assert decision.reason_codes == ("ticket_opened",) and decision.case_id.startswith("HND-")
    assert decision.values["next_opening"].isoformat() == "2025-03-17T10:00:00-07:00"  # Monday, PDT
    assert not mailing.handoff_active("c-grace")  # a ticket does not pause the bot
    assert mailing.tickets()[0]["case_id"] == decision.case_id
    received = smtp_server.to("grace.refunds@example.com")
    assert len(received) == 1
    body = received[0].message.get_content()
    assert decision.case_id in received[0].message["Subject"] and decision.case_id in body
    assert "Monday 17 March 2025 at 10:00 PDT" in body
    mailing.request_handoff("c-anonymous", channel="socketio")  # not verified: a ticket, no mail
    assert len(smtp_server.messages) == 1


def test_accounts_hash_passwords_and_sessions_expire(service, engine, clock):
    service.add_agent("Carol", PASSWORD)
    with unit_of_work(make_session_factory(engine)) as uow:
        stored = uow.session.scalars(select(AgentRow.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(InvalidRequest):
        service.add_agent("Carol", PASSWORD)
    with pytest.raises(InvalidRequest):
        service.add_agent("Dave", "short")
    assert service.sign_in("Carol", "wrong password!!") is None
    assert service.sign_in("Nobody", PASSWORD) is None
    token, session = service.sign_in("Carol", PASSWORD)
    assert service.agent_session(token) == session and session.csrf_token
    assert service.agent_session("forged") is None
    clock.advance(hours=13)
    assert service.agent_session(token) is None
    token, _ = service.sign_in("Carol", PASSWORD)
    service.sign_out(token)
    assert service.agent_session(token) is None


def test_staff_operations_carry_the_agents_name_in_the_audit(service, engine):
    service.record_inspection("AK1000015", True, agent="Ann")
    rows = _audit(engine, topic="refund")
    assert rows[-1]["operation"] == "record_inspection" and rows[-1]["agent"] == "Ann"


def test_the_expected_wait_is_measured_from_recent_takes_else_the_policy_default_CON_1(service, clock):
    """Issue 17, item 3: no take in the last 7 days -> position x contacts.live_chat_wait_minutes (5); after takes,
    position x the median of their waits (docs/handoff.md)."""
    ann = _agent(service, "Ann")
    first = service.request_handoff("c-wait-1", channel="socketio")
    assert first.values["expected_wait_minutes"] == 5
    assert service.request_handoff("c-wait-2", channel="socketio").values["expected_wait_minutes"] == 10
    clock.advance(minutes=2)
    queue = service.handoff_queue()
    assert [h["expected_wait_minutes"] for h in queue] == [5, 10]
    service.take_handoff(queue[0]["id"], ann)  # waited 2 minutes
    clock.advance(minutes=1)
    service.take_handoff(queue[1]["id"], ann)  # waited 3 minutes: median 2.5
    third = service.request_handoff("c-wait-3", channel="socketio")
    assert (third.values["queue_position"], third.values["expected_wait_minutes"]) == (1, 3)
    assert service.request_handoff("c-wait-4", channel="socketio").values["expected_wait_minutes"] == 5
    clock.advance(days=8)  # the takes are too old to say anything now
    assert [h["expected_wait_minutes"] for h in service.handoff_queue() if h["status"] == "waiting"] == [5, 10]


def test_sessions_end_when_idle_slide_while_used_and_never_outlive_their_lifetime(service, clock):
    service.configure_sessions(hours=1, idle_minutes=30)
    service.add_agent("Carol", PASSWORD)
    token, session = service.sign_in("Carol", PASSWORD)
    for minutes in (20, 20, 19):  # used every 20 minutes: 30 minutes idle are never reached...
        clock.advance(minutes=minutes)
        assert service.agent_session(token) == session
    clock.advance(minutes=2)  # ...but the hour since the sign-in is over
    assert service.agent_session(token) is None
    token, _ = service.sign_in("Carol", PASSWORD)
    clock.advance(minutes=31)  # unused for longer than the idle timeout
    assert service.agent_session(token) is None


def test_disabling_an_agent_ends_their_sessions_and_is_audited(service, engine):
    dana = _agent(service, "Dana")
    token, _ = service.sign_in("Dana", PASSWORD)
    assert service.agent_session(token) is not None and dana.name == "Dana"
    assert service.disable_agent("Dana", by="Lead") == 2  # _agent signed in once too
    assert service.agent_session(token) is None and service.sign_in("Dana", PASSWORD) is None
    (row,) = [a for a in _audit(engine) if a["operation"] == "disable_agent"]
    assert row == {"operation": "disable_agent", "agent": "Lead", "handoff_id": None, "disabled": "Dana", "sessions": 2}
    with pytest.raises(InvalidRequest):
        service.disable_agent("Nobody", by="Lead")
