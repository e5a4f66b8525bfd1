"""``SupportService.order_status``: behind the verification grant (RET-4), nothing written, the demo orders' stories
(CAN-3, INS-1, CON-1); and ``python -m policy_engine decide`` with topic ``order_status``."""

import io
import json
import sys
from datetime import date

import pytest

from policy_engine.entrypoints.cli import main as cli_main
from policy_engine.service import NotVerified
from policy_engine.store.demo_logins import DEMO_LOGINS
from tests.support.store import build_demo, row_counts


def _verified(service, number):
    login = next(ln for ln in DEMO_LOGINS if ln.order_number == number)
    conversation = f"status-{number}"
    assert service.verify_customer(conversation, number, login.email).verified
    return conversation


def test_order_status_needs_the_verification_RET_4(service):
    """RET-4: no grant, a grant for another order, a wrong email or a foreign conversation: NotVerified."""
    with pytest.raises(NotVerified):
        service.order_status("nobody", "AK1000033")
    conversation = _verified(service, "AK1000032")
    with pytest.raises(NotVerified):
        service.order_status(conversation, "AK1000033")
    assert not service.verify_customer("guess", "AK1000033", "chloe.ontheway@example.com").verified
    with pytest.raises(NotVerified):
        service.order_status("guess", "AK1000033")
    with pytest.raises(NotVerified):
        service.order_status("another", "AK1000032")


def test_order_status_writes_nothing(service, engine):
    conversation = _verified(service, "AK1000033")
    before = row_counts(engine)
    decision = service.order_status(conversation, "AK1000033")
    assert decision.topic == "order_status"
    assert row_counts(engine) == before  # no audit row, no case: a read like refund_status


STORIES = [
    ("AK1000031", "processing", ("not_shipped_yet",), ()),
    ("AK1000032", "in_transit", ("in_transit",), ()),
    ("AK1000033", "in_transit", ("parcel_late_worry_free", "in_transit"), (("transit_claim", "INS-1"),)),
    ("AK1000034", "in_transit", ("parcel_late_no_worry_free", "in_transit"), (("contact_support", "CON-1"),)),
    ("AK1000035", "delivered", ("delivered",), ()),
    ("AK1000036", "in_transit", ("in_transit", "partly_delivered"), ()),
    ("AK1000002", "shipped", ("shipped_without_tracking",), ()),
    ("AK1000003", "delivered", ("delivered",), ()),
]


@pytest.mark.parametrize("number,status,codes,steps", STORIES)
def test_demo_order_status_stories_CAN_3_INS_1_CON_1(service, number, status, codes, steps):
    """The demo orders of docs/demo-data.md: CAN-3 in the shipping phase; a late parcel leads to the transit claim
    with Worry-Free insurance (INS-1), else to the contacts (CON-1)."""
    decision = service.order_status(_verified(service, number), number)
    assert decision.values["status"] == status
    assert decision.reason_codes == codes
    assert tuple((s.code, s.clause) for s in decision.next_steps) == steps
    login = next(ln for ln in DEMO_LOGINS if ln.order_number == number)
    if number >= "AK1000031":
        assert set(login.clauses) <= set(decision.clauses)


def test_late_insured_parcel_details_and_the_transit_claim_it_leads_to_INS_1(service):
    """INS-1: the late parcel's carrier, tracking number, link and dates; the transit claim (problem delayed) that
    the next step names is then approved for the same order."""
    from policy_engine import TransitRequest

    conversation = _verified(service, "AK1000033")
    decision = service.order_status(conversation, "AK1000033")
    (parcel,) = decision.values["parcels"]
    assert parcel["carrier_name"] == "FedEx" and parcel["tracking_number"] == "449044304137821"
    assert parcel["tracking_url"] == "https://www.fedex.com/fedextrack/?trknbr=449044304137821"
    assert parcel["expected_latest"] == date(2025, 3, 8) and parcel["days_late"] == 4
    assert parcel["lines"][0]["sku"] == "A1761"
    step = decision.next_steps[0]
    claim = service.transit_claim(conversation, "AK1000033", TransitRequest(step.values["problem"]))
    assert claim.reason_codes[0] == "worry_free_covered" and claim.case_id.startswith("INS-")


def test_two_parcels_each_with_their_lines_and_tracking(service):
    decision = service.order_status(_verified(service, "AK1000036"), "AK1000036")
    first, second = decision.values["parcels"]
    assert (first["carrier"], first["status"], [ln["line_id"] for ln in first["lines"]]) == ("ups", "delivered", [1])
    assert (second["carrier"], second["status"], second["lines"][0]["quantity"]) == ("fedex", "in_transit", 2)
    assert decision.values["expected_latest"] == date(2025, 3, 14)
    assert decision.to_dict()["values"]["parcels"][1]["expected_latest"] == "2025-03-14"  # JSON-ready


# ------------------------------------------------------------------------------------------------ the CLI


def _decide(monkeypatch, capsys, tmp_path, payload, db=None):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLICY_FILE", raising=False)
    monkeypatch.setenv("DATABASE_URL", db or f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(payload)))
    capsys.readouterr()
    code = cli_main(["decide"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_decides_order_status_from_the_database(monkeypatch, capsys, tmp_path, sqlite_templates):
    db = sqlite_templates.copy("demo", build_demo, tmp_path, "cli.db")
    payload = {"topic": "order_status", "order_number": "AK1000034", "now": "2025-03-12T18:00:00Z"}
    code, out, err = _decide(monkeypatch, capsys, tmp_path, payload, db)
    assert code == 0, err
    decision = json.loads(out)
    assert decision["reasons"][0]["code"] == "parcel_late_no_worry_free" and "CON-1" in decision["clauses"]


INLINE = {
    "topic": "order_status",
    "now": "2025-03-12T18:00:00Z",
    "products": [{"sku": "A1", "name": "Charger", "category": "charger", "price": "10.00"}],
    "order": {
        "order_number": "AK0000001",
        "email": "a@example.com",
        "placed_at": "2025-03-01T10:00:00Z",
        "status": "shipped",
        "shipped_at": "2025-03-02T10:00:00Z",
        "worry_free_insurance": True,
        "lines": [{"line_id": 1, "sku": "A1", "quantity": 1, "unit_price": "10.00"}],
        "shipments": [
            {
                "carrier": "dhl",
                "tracking_number": "1234567890",
                "shipped_at": "2025-03-02T10:00:00Z",
                "expected_delivery": "2025-03-05",
                "lines": [{"line_id": 1}],
            }
        ],
    },
}


def test_cli_decides_order_status_on_inline_facts_INS_1(monkeypatch, capsys, tmp_path):
    """INS-1: an inline order's parcel 7 days past its date, with Worry-Free: the transit claim is next."""
    code, out, err = _decide(monkeypatch, capsys, tmp_path, INLINE)
    assert code == 0, err
    decision = json.loads(out)
    assert decision["reasons"][0]["code"] == "parcel_late_worry_free"
    assert decision["next_steps"][0]["code"] == "transit_claim"
    assert decision["values"]["parcels"][0]["days_late"] == 7


def test_cli_refuses_bad_inline_shipments(monkeypatch, capsys, tmp_path):
    payload = json.loads(json.dumps(INLINE))
    payload["order"]["shipments"][0]["lines"] = [{"line_id": 2}]
    code, out, err = _decide(monkeypatch, capsys, tmp_path, payload)
    assert code == 1 and out == ""
    assert "order.shipments[0].lines[0].line_id: the order has no line 2" in err
