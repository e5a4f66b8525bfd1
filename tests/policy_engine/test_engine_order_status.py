"""Where is my order: status, dates, parcels with tracking, and a late parcel (CAN-1, CAN-3, INS-1, CON-1)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
import yaml

from policy_engine.core.decision import Outcome
from policy_engine.core.errors import InvalidRequest, PolicyError
from policy_engine.core.facts import OrderStatus, Shipment, ShippedLine
from policy_engine.core.order_status import REASON_CODES, STATUSES, decide_order_status, tracking_link
from policy_engine.core.policy_file import policy_from_mapping
from policy_engine.core.topics import TOPICS, decide_topic

POLICY_FILE = Path(__file__).resolve().parents[2] / "policy" / "policy.yml"


def at(text: str) -> datetime:
    """``"2024-03-01 10:00"`` in the policy timezone (Pacific), as conftest's ``at``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("America/Los_Angeles"))


def ship(
    shipped_at: str = "2024-03-02 09:00",
    *,
    lines: tuple[tuple[int, int], ...] = ((1, 1),),
    carrier: str = "ups",
    tracking_number: str = "1Z999AA10123456784",
    expected: tuple[str, str] | str | None = "2024-03-06",
    delivered_at: str | None = None,
    tracking_url: str | None = None,
) -> Shipment:
    earliest, latest = (expected, expected) if isinstance(expected, str) or expected is None else expected
    return Shipment(
        carrier=carrier,
        tracking_number=tracking_number,
        shipped_at=at(shipped_at),
        lines=tuple(ShippedLine(line_id, quantity) for line_id, quantity in lines),
        expected_earliest=date.fromisoformat(earliest) if earliest else None,
        expected_latest=date.fromisoformat(latest) if latest else None,
        delivered_at=at(delivered_at) if delivered_at else None,
        tracking_url=tracking_url,
    )


def shipped_order(make_order, *shipments: Shipment, **kw):
    kw.setdefault("status", OrderStatus.SHIPPED)
    kw.setdefault("shipped_at", shipments[0].shipped_at if shipments else "2024-03-02 09:00")
    return make_order(shipments=tuple(shipments), **kw)


def check_codes(decision) -> None:
    assert decision.topic == "order_status" and decision.outcome is Outcome.ANSWERED
    assert set(decision.reason_codes) <= set(REASON_CODES)
    assert decision.values["status"] in STATUSES


# ------------------------------------------------------------------------------------------ not shipped yet


@pytest.mark.parametrize("status", [OrderStatus.PLACED, OrderStatus.PROCESSING])
def test_not_shipped_yet_can_be_cancelled_within_the_hour_CAN_1_CAN_3(policy, make_order, status):
    """CAN-3: not in the shipping phase; CAN-1: the customer can still cancel until placed + 60 minutes."""
    order = make_order(status=status, placed_at="2024-03-01 10:00")
    d = decide_order_status(order, policy, at("2024-03-01 10:30"))
    check_codes(d)
    assert d.values["status"] == status.value
    assert d.reasons[0].code == "not_shipped_yet" and d.reasons[0].clause == "CAN-3"
    assert [(s.code, s.clause, s.due) for s in d.next_steps] == [("cancel_order", "CAN-1", at("2024-03-01 11:00"))]
    assert d.values["placed_at"] == at("2024-03-01 10:00")


def test_processing_past_the_hour_offers_no_self_cancel_CAN_1(policy, make_order):
    """CAN-1: minute 61 is outside the self-cancel window: no cancel step."""
    order = make_order(status=OrderStatus.PROCESSING, placed_at="2024-03-01 10:00")
    d = decide_order_status(order, policy, at("2024-03-01 11:01"))
    assert d.reason_codes == ("not_shipped_yet",) and d.next_steps == ()
    assert d.values["status"] == "processing"


def test_cancelled_order_CAN_1(policy, make_order):
    d = decide_order_status(make_order(status=OrderStatus.CANCELLED), policy, at("2024-03-01 12:00"))
    check_codes(d)
    assert d.values["status"] == "cancelled" and d.reason_codes == ("order_cancelled",) and d.clauses == ("CAN-1",)


# ------------------------------------------------------------------------------------------ shipped


def test_in_transit_on_time_with_carrier_tracking_and_dates_CAN_3(policy, make_order):
    """CAN-3: in the shipping phase; the parcel's carrier, tracking number, link, dates and line are given."""
    order = shipped_order(make_order, ship(expected=("2024-03-05", "2024-03-07")), worry_free_insurance=True)
    d = decide_order_status(order, policy, at("2024-03-07 20:00"))  # the last expected day: not late yet
    check_codes(d)
    assert d.values["status"] == "in_transit" and d.reason_codes == ("in_transit",) and d.clauses == ("CAN-3",)
    assert d.next_steps == ()
    (parcel,) = d.values["parcels"]
    assert parcel["carrier"] == "ups" and parcel["carrier_name"] == "UPS"
    assert parcel["tracking_number"] == "1Z999AA10123456784"
    assert parcel["tracking_url"] == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert parcel["status"] == "in_transit" and parcel["late"] is False and parcel["days_late"] == 0
    assert parcel["shipped_at"] == at("2024-03-02 09:00")
    assert (parcel["expected_earliest"], parcel["expected_latest"]) == (date(2024, 3, 5), date(2024, 3, 7))
    assert parcel["lines"] == [{"line_id": 1, "sku": "A2633", "name": "Anker 735 Charger", "quantity": 1}]
    assert (d.values["expected_earliest"], d.values["expected_latest"]) == (date(2024, 3, 5), date(2024, 3, 7))
    assert d.values["shipped_at"] == at("2024-03-02 09:00") and d.values["delivered_at"] is None


def test_late_parcel_with_worry_free_leads_to_the_transit_claim_INS_1(policy, make_order):
    """INS-1: Worry-Free covers a delayed delivery; late = undelivered the day after the latest expected date
    (shipping.late_after_days); the next step is the transit claim for a delayed parcel."""
    order = shipped_order(make_order, ship(expected="2024-03-06"), worry_free_insurance=True)
    d = decide_order_status(order, policy, at("2024-03-09 10:00"))
    check_codes(d)
    assert d.values["status"] == "in_transit"
    assert d.reason_codes == ("parcel_late_worry_free", "in_transit")
    assert d.reasons[0].clause == "INS-1"
    assert d.reasons[0].values["days_late"] == 3 and d.reasons[0].values["expected_latest"] == date(2024, 3, 6)
    (step,) = d.next_steps
    assert (step.code, step.clause) == ("transit_claim", "INS-1")
    assert step.values == MappingProxyType({"topic": "transit", "problem": "delayed"})
    assert d.values["parcels"][0]["late"] is True


def test_late_parcel_without_worry_free_points_to_the_contacts_INS_1_CON_1(policy, make_order):
    """INS-1: no Worry-Free insurance, no delay compensation here; CON-1: the support email and phone."""
    order = shipped_order(make_order, ship(expected="2024-03-06"))
    d = decide_order_status(order, policy, at("2024-03-07 00:30"))  # the first late day
    assert d.reason_codes == ("parcel_late_no_worry_free", "in_transit")
    (step,) = d.next_steps
    assert (step.code, step.clause) == ("contact_support", "CON-1")
    assert step.values["email"] == "support@anker.com" and step.values["phone_us"] == "1-800-988-7973"
    assert d.clauses == ("INS-1", "CAN-3", "CON-1")


def test_late_counts_calendar_days_in_the_policy_timezone_INS_1(policy, make_order):
    """INS-1: 23:59 Pacific on the expected day is not late, though it is the next day in UTC."""
    order = shipped_order(make_order, ship(expected="2024-03-06"), worry_free_insurance=True)
    d = decide_order_status(order, policy, at("2024-03-06 23:59"))
    assert d.reason_codes == ("in_transit",) and d.next_steps == ()


def test_late_after_days_is_the_policy_figure_INS_1(policy, make_order):
    """INS-1: with shipping.late_after_days 3, a parcel is late on the third day after the expected date."""
    lenient = dataclasses.replace(policy, shipping=dataclasses.replace(policy.shipping, late_after_days=3))
    order = shipped_order(make_order, ship(expected="2024-03-06"), worry_free_insurance=True)
    assert "parcel_late_worry_free" not in decide_order_status(order, lenient, at("2024-03-08 12:00")).reason_codes
    assert "parcel_late_worry_free" in decide_order_status(order, lenient, at("2024-03-09 00:01")).reason_codes


def test_no_expected_date_is_never_late_INS_1(policy, make_order):
    order = shipped_order(make_order, ship(expected=None), worry_free_insurance=True)
    d = decide_order_status(order, policy, at("2024-06-01 10:00"))
    assert d.reason_codes == ("in_transit",) and d.values["expected_latest"] is None


def test_delivered_parcel_gives_the_delivery_date_CAN_3(policy, make_order):
    order = shipped_order(
        make_order,
        ship(expected="2024-03-06", delivered_at="2024-03-08 14:00"),  # delivered late: not late any more
        status=OrderStatus.DELIVERED,
        delivered_at="2024-03-08 14:00",
        worry_free_insurance=True,
    )
    d = decide_order_status(order, policy, at("2024-03-10 10:00"))
    check_codes(d)
    assert d.values["status"] == "delivered" and d.reason_codes == ("delivered",) and d.next_steps == ()
    assert d.values["delivered_at"] == at("2024-03-08 14:00")
    assert d.values["parcels"][0]["status"] == "delivered" and d.values["parcels"][0]["late"] is False


def test_two_parcels_one_delivered_one_late_CAN_3_INS_1(policy, make_order, make_line):
    """Two parcels, each with its carrier, tracking and lines; the late one (INS-1) names its parcel number."""
    lines = (make_line(line_id=1), make_line(line_id=2, sku="A8856", name="Anker 765 Cable", unit_price="19.99"))
    first = ship("2024-03-02 09:00", lines=((1, 1),), expected="2024-03-05", delivered_at="2024-03-05 12:00")
    second = ship(
        "2024-03-04 09:00", lines=((2, 1),), carrier="fedex", tracking_number="771234567890", expected="2024-03-07"
    )
    order = shipped_order(make_order, second, first, lines=lines, worry_free_insurance=True)  # any order given
    d = decide_order_status(order, policy, at("2024-03-09 10:00"))
    check_codes(d)
    assert d.values["status"] == "in_transit"
    assert d.reason_codes == ("parcel_late_worry_free", "in_transit", "partly_delivered")
    assert d.reasons[0].values["parcels"] == [2] and d.reasons[0].values["tracking_numbers"] == ["771234567890"]
    one, two = d.values["parcels"]
    assert (one["parcel"], one["status"], one["carrier_name"], one["lines"][0]["line_id"]) == (1, "delivered", "UPS", 1)
    assert (two["parcel"], two["status"], two["carrier_name"], two["lines"][0]["line_id"]) == (
        2,
        "in_transit",
        "FedEx",
        2,
    )
    assert two["tracking_url"] == "https://www.fedex.com/fedextrack/?trknbr=771234567890"
    assert d.values["shipped_at"] == at("2024-03-02 09:00") and d.values["awaiting_shipment"] == []


def test_lines_not_in_any_parcel_await_shipment_CAN_3(policy, make_order, make_line):
    lines = (make_line(line_id=1, quantity=3), make_line(line_id=2, sku="A8856", unit_price="19.99"))
    order = shipped_order(make_order, ship(lines=((1, 2),), delivered_at="2024-03-05 12:00"), lines=lines)
    d = decide_order_status(order, policy, at("2024-03-09 10:00"))
    assert d.values["status"] == "shipped"
    assert d.reason_codes == ("partly_delivered", "awaiting_shipment")
    assert [(a["line_id"], a["quantity"]) for a in d.values["awaiting_shipment"]] == [(1, 1), (2, 1)]


def test_shipped_without_a_recorded_parcel_CAN_3(policy, make_order):
    """CAN-3: the order entered the shipping phase; no carrier or tracking number is recorded."""
    d = decide_order_status(make_order(status=OrderStatus.SHIPPED), policy, at("2024-03-05 10:00"))
    check_codes(d)
    assert d.values["status"] == "shipped" and d.reason_codes == ("shipped_without_tracking",)
    assert d.values["parcels"] == [] and d.values["shipped_at"] == at("2024-03-02 10:00")


def test_delivered_order_without_parcels_CAN_3(policy, make_order):
    d = decide_order_status(make_order(status=OrderStatus.DELIVERED), policy, at("2024-03-10 10:00"))
    assert d.values["status"] == "delivered" and d.reason_codes == ("delivered",)
    assert d.values["delivered_at"] == at("2024-03-05 10:00")


def test_an_order_marked_delivered_has_no_late_parcel_INS_1(policy, make_order):
    order = shipped_order(make_order, ship(expected="2024-03-06"), status=OrderStatus.DELIVERED)
    d = decide_order_status(order, policy, at("2024-03-20 10:00"))
    assert d.values["status"] == "delivered" and d.next_steps == ()


# ------------------------------------------------------------------------------------------ links and the rest


def test_tracking_link_from_the_record_else_the_carrier_template(policy):
    assert tracking_link(ship(tracking_url="https://track.example/abc"), policy) == "https://track.example/abc"
    assert tracking_link(ship(carrier="usps", tracking_number="9400 1000"), policy) == (
        "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400%201000"
    )
    assert tracking_link(ship(carrier="local_courier"), policy) is None


def test_unknown_carrier_keeps_its_code_as_name(policy, make_order):
    order = shipped_order(make_order, ship(carrier="local_courier"))
    parcel = decide_order_status(order, policy, at("2024-03-03 10:00")).values["parcels"][0]
    assert parcel["carrier_name"] == "local_courier" and parcel["tracking_url"] is None


def test_naive_clock_is_refused(policy, make_order):
    with pytest.raises(InvalidRequest):
        decide_order_status(make_order(), policy, datetime(2024, 3, 1, 10, 0))


def test_decide_topic_knows_order_status(policy, make_order):
    assert "order_status" in TOPICS
    d = decide_topic("order_status", make_order(status=OrderStatus.SHIPPED), None, policy, at("2024-03-05 10:00"))
    assert d.topic == "order_status" and d.to_dict()["values"]["status"] == "shipped"


def test_policy_file_shipping_section_is_checked_INS_1():
    """INS-1: the lateness figure and the carriers' links are read and checked like every other key."""
    data = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
    assert policy_from_mapping(data).shipping.late_after_days == 1
    bad_cases = [
        (("late_after_days", 0), r"shipping.late_after_days must be a positive integer"),
        (("late_after_days", 400), r"shipping.late_after_days must be at most 60"),
        (("carriers", {}), r"shipping.carriers must be a mapping of carrier codes"),
        (("carriers", {"ups": {"name": "UPS", "tracking_url": "http://x/{tracking_number}"}}), r"must be an https"),
        (("carriers", {"ups": {"name": "UPS", "tracking_url": "https://x/"}}), r"carriers.ups.tracking_url must"),
        (("carriers", {"ups": {"name": "UPS", "tracking_url": "https://x/{tracking_number}/{x}"}}), r"no braces"),
        (("carriers", {"UPS!": {"name": "UPS", "tracking_url": "https://x/{tracking_number}"}}), r"carrier codes"),
        (("carriers", {"ups": {"tracking_url": "https://x/{tracking_number}"}}), r"shipping.carriers.ups.name is"),
    ]
    for (key, value), message in bad_cases:
        broken = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
        broken["shipping"][key] = value
        with pytest.raises(PolicyError, match=message):
            policy_from_mapping(broken)
    del data["shipping"]
    with pytest.raises(PolicyError, match=r"shipping is missing"):
        policy_from_mapping(data)
