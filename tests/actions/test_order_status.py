"""Where an order is (issue 15, item 1): identity first, then the status, one line per parcel with its carrier,
tracking number and link, and for a late parcel the delay claim (INS-1) or the contacts (CON-1); at most three
messages (item 7)."""

from __future__ import annotations

from actions.order_status import ActionOrderStatus, ValidateOrderStatusForm, parcel_response
from actions.transit import ActionOpenTransitClaim


def verified(chat, order_number, email):
    chat.run(ValidateOrderStatusForm(), {"order_number": order_number, "email": email})
    assert chat.slots["verified"] is True
    return chat


def test_an_order_on_its_way_gives_carrier_tracking_number_link_and_date(chat, service, counts):
    verified(chat, "AK1000032", "chloe.ontheway@example.com")
    before = counts()
    chat.run(ActionOrderStatus())
    assert counts() == before  # a read: nothing written
    assert chat.responses == ["utter_order_status_in_transit", "utter_order_status_parcel_in_transit"]
    assert chat.messages[0]["custom"]["decision"]["topic"] == "order_status"
    # the status and the parcel line are one message (item 7), the parcel's line filled from its own values
    assert len(chat.messages) == 1
    parcel = chat.messages[0]["text"].split("\n")[1]
    assert "UPS" in parcel and "https://" in parcel
    tracking_url = parcel.split("Track it here: ")[1]
    assert tracking_url.startswith("https://") and parcel.split("tracking number ")[1].split(")")[0] in tracking_url
    expected = parcel.split("expected by ")[1]
    assert expected.split()[0] in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    assert chat.slots["pending_confirmation"] is None


def test_a_late_parcel_with_worry_free_asks_for_the_delay_claim_and_yes_opens_it_INS_1(chat, service, counts):
    verified(chat, "AK1000033", "owen.delayed@example.com")
    chat.run(ActionOrderStatus())
    assert chat.responses == [
        "utter_order_status_parcel_late_worry_free",
        "utter_order_status_parcel_late",
        "utter_next_step_transit_claim",
    ]
    assert "INS-1" in chat.messages[0]["custom"]["decision"]["clauses"]
    assert chat.slots["pending_confirmation"] == "transit" and chat.slots["transit_problem"] == "delayed"
    before = counts()
    chat.run(ActionOpenTransitClaim())  # the customer said yes (data/rules/transit.yml)
    assert chat.responses == ["utter_case_opened"] and chat.messages[0]["case_id"].startswith("INS-")
    assert counts()["transit_claims"] == before["transit_claims"] + 1


def test_a_late_parcel_without_insurance_points_to_the_contacts_CON_1(chat, service):
    verified(chat, "AK1000034", "ruby.waiting@example.com")
    chat.run(ActionOrderStatus())
    assert chat.responses == [
        "utter_order_status_parcel_late_no_worry_free",
        "utter_order_status_parcel_late",
        "utter_next_step_contact_support",
    ]
    assert chat.slots["pending_confirmation"] is None


def test_two_parcels_one_delivered_one_on_its_way(chat, service):
    verified(chat, "AK1000036", "nora.twoparcels@example.com")
    chat.run(ActionOrderStatus())
    assert chat.responses == [
        "utter_order_status_in_transit",
        "utter_order_status_parcel_delivered",
        "utter_order_status_parcel_in_transit",
    ]
    lines = chat.messages[0]["text"].split("\n")[1:]
    assert [line.split()[:2] for line in lines] == [["Parcel", "1"], ["Parcel", "2"]]


def test_an_order_not_shipped_yet(chat, service):
    verified(chat, "AK1000031", "mason.packing@example.com")
    chat.run(ActionOrderStatus())
    assert chat.responses[0] == "utter_order_status_not_shipped_yet" and len(chat.responses) <= 3


def test_no_status_without_verification(chat, service, counts):
    chat.run(ActionOrderStatus(), {"order_number": "AK1000032"})
    assert chat.messages == []


def test_parcel_response_names():
    delivered = {"status": "delivered", "tracking_url": "https://x"}
    assert parcel_response(delivered) == "utter_order_status_parcel_delivered"
    assert parcel_response({"status": "in_transit", "late": True}) == "utter_order_status_parcel_late_no_link"
    assert parcel_response({"status": "in_transit", "expected_latest": None, "tracking_url": "https://x"}) == (
        "utter_order_status_parcel_in_transit_undated"
    )
