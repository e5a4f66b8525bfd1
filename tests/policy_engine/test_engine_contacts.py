"""CON-1: contacts and hours come from the policy file."""

from __future__ import annotations

from policy_engine import Outcome, contact_info


def test_contact_channels_and_hours_from_policy_CON_1(policy):
    d = contact_info(policy)
    assert d.outcome is Outcome.ANSWERED and d.reason_codes == ("contact_channels",) and d.clauses == ("CON-1",)
    assert d.values["phone_us"] == "1-800-988-7973" and d.values["email"] == "support@anker.com"
    assert (d.values["phone_open"], d.values["phone_close"]) == ("07:00", "17:00")
    assert (d.values["chat_open"], d.values["chat_close"]) == ("10:00", "16:00")
    assert d.values["phone_hours"]["days"] == ["mon", "tue", "wed", "thu", "fri"]


def test_open_now_follows_pacific_hours_CON_1(policy, at):
    """CON-1: phone Mon-Fri 7am-5pm PT, chat Mon-Fri 10am-4pm PT (close time itself is closed)."""
    tue_9 = contact_info(policy, at("2024-03-05 09:00")).values
    assert tue_9["phone_open_now"] is True and tue_9["live_chat_open_now"] is False
    tue_16 = contact_info(policy, at("2024-03-05 16:00")).values
    assert tue_16["phone_open_now"] is True and tue_16["live_chat_open_now"] is False
    tue_1559 = contact_info(policy, at("2024-03-05 15:59")).values
    assert tue_1559["live_chat_open_now"] is True
    sat = contact_info(policy, at("2024-03-09 12:00")).values
    assert sat["phone_open_now"] is False and sat["live_chat_open_now"] is False
