"""CON-1, a person takes over: live-chat hours with the holiday calendar, the next opening, the handoff decision and
the summary an agent sees.  Every time is injected."""

from __future__ import annotations

from datetime import datetime, timezone

from policy_engine.core.decision import Outcome
from policy_engine.core.handoff import (
    HandoffCause,
    TranscriptLine,
    decide_handoff,
    decision_line,
    handoff_summary,
    live_chat_open,
    next_opening,
)


def test_live_chat_hours_boundaries_CON_1(policy, at):
    assert live_chat_open(policy, at("2024-03-05 10:00")) is True
    assert live_chat_open(policy, at("2024-03-05 15:59")) is True
    assert live_chat_open(policy, at("2024-03-05 09:59")) is False
    assert live_chat_open(policy, at("2024-03-05 16:00")) is False
    assert live_chat_open(policy, at("2024-03-09 12:00")) is False  # Saturday


def test_live_chat_closed_on_a_holiday_of_the_calendar_CON_1(policy, at):
    """2024-07-04 is a Thursday and a holiday of policy.yml's calendar."""
    assert live_chat_open(policy, at("2024-07-04 12:00")) is False
    assert next_opening(policy, at("2024-07-04 12:00")) == at("2024-07-05 10:00")


def test_live_chat_hours_are_pacific_whatever_the_clock_zone_CON_1(policy):
    # 18:30 UTC on Tuesday 5 March 2024 is 10:30 PST
    assert live_chat_open(policy, datetime(2024, 3, 5, 18, 30, tzinfo=timezone.utc)) is True
    assert live_chat_open(policy, datetime(2024, 3, 5, 17, 30, tzinfo=timezone.utc)) is False


def test_next_opening_CON_1(policy, at):
    assert next_opening(policy, at("2024-03-05 11:00")) == at("2024-03-05 11:00")  # open: now
    assert next_opening(policy, at("2024-03-05 08:00")) == at("2024-03-05 10:00")  # later today
    assert next_opening(policy, at("2024-03-05 16:00")) == at("2024-03-06 10:00")  # tomorrow
    assert next_opening(policy, at("2024-03-08 17:00")) == at("2024-03-11 10:00")  # Friday evening -> Monday
    # Wednesday 25 December 2024 is a holiday: Tuesday evening -> Thursday
    assert next_opening(policy, at("2024-12-24 16:30")) == at("2024-12-26 10:00")


def test_handoff_decision_inside_hours_CON_1(policy, at):
    d = decide_handoff(policy, at("2024-03-05 11:00"), queue_position=2)
    assert d.topic == "handoff" and d.outcome is Outcome.ANSWERED
    assert d.reason_codes == ("agent_joining",) and d.clauses == ("CON-1",)
    assert d.values["queue_position"] == 2 and d.case_id is None


def test_handoff_decision_outside_hours_is_a_ticket_CON_1(policy, at):
    d = decide_handoff(policy, at("2024-03-09 12:00"), ticket_id="HND-000007", cause=HandoffCause.NOT_UNDERSTOOD)
    assert d.reason_codes == ("ticket_opened",) and d.case_id == "HND-000007"
    assert d.values["next_opening"] == at("2024-03-11 10:00") and d.values["cause"] == "not_understood"
    assert d.next_steps[0].code == "agent_replies" and d.next_steps[0].due == at("2024-03-11").date()


def test_naive_clock_refused(policy):
    import pytest

    from policy_engine.core.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        live_chat_open(policy, datetime(2024, 3, 5, 11, 0))


def test_summary_lists_decisions_with_clauses_and_cases_and_keeps_the_words(at):
    stored = {
        "topic": "return",
        "outcome": "approved",
        "case_id": "RET-000001",
        "reasons": [{"code": "within_window", "clause": "RET-1"}, {"code": "verified", "clause": "RET-4"}],
    }
    line = decision_line(stored, created_at=at("2024-03-05 10:05"))
    assert line["clauses"] == ["RET-1", "RET-4"] and line["case_id"] == "RET-000001"
    summary = handoff_summary(
        verified_order="AK1000003",
        topic="return",
        cause=HandoffCause.CUSTOMER_ASKED,
        decisions=[line],
        transcript=[TranscriptLine("customer", "<b>hi</b>"), TranscriptLine("bot", "Hello")],
    )
    assert summary["verified"] is True and summary["order_number"] == "AK1000003"
    assert summary["transcript"][0] == {"speaker": "customer", "text": "<b>hi</b>", "at": None, "agent": None}
    unverified = handoff_summary(
        verified_order=None, topic=None, cause=HandoffCause.CUSTOMER_ASKED, decisions=[], transcript=[]
    )
    assert unverified["verified"] is False and unverified["order_number"] is None


def test_expected_wait_is_position_times_the_median_recent_wait_or_the_default_CON_1():
    from datetime import timedelta

    from policy_engine.core.handoff import expected_wait_minutes

    assert expected_wait_minutes(1, [], 5) == 5 and expected_wait_minutes(3, [], 5) == 15
    waits = [timedelta(minutes=1), timedelta(minutes=4), timedelta(seconds=90)]
    assert expected_wait_minutes(1, waits, 5) == 2  # median 1.5 minutes, rounded up
    assert expected_wait_minutes(2, waits, 5) == 3
    assert expected_wait_minutes(1, [timedelta(seconds=5)], 5) == 1  # never "0 minutes"
    assert expected_wait_minutes(0, waits, 5) == 0  # not waiting
