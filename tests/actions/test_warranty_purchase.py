"""Warranty for a product bought elsewhere (WAR-9/12/20, issue 15 item 2): the form's validators, the upload's
registration (only this conversation's), the preview and the claim under a code-checked email, against a real SQLite
store and a real upload directory."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal

import pytest

from actions.warranty_purchase import (
    ActionAbandonPurchaseClaim,
    ActionOpenPurchaseClaim,
    ActionPreviewPurchaseWarranty,
    ValidatePurchaseEmailForm,
    ValidatePurchaseWarrantyForm,
    parse_day,
    parse_price,
)
from policy_engine.store.upload_files import UploadFiles

EMAIL = "jo.reseller@example.com"
FACTS = {
    "purchase_seller": "Best Buy",
    "purchase_product": "Anker 737 Power Bank (PowerCore 24K)",
    "purchase_sku": "A1289",
    "purchase_day": "2024-11-01",
    "purchase_price": "149.99",
    "purchase_serial": "A1289X0000012345",
    "purchase_defect": "it no longer charges anything",
    "purchase_troubleshooting": True,
}


@pytest.fixture
def uploads(service, tmp_path):
    service.upload_files = UploadFiles(tmp_path / "uploads")
    return tmp_path / "uploads"


def stored(directory, conversation_id, data=b"\x89PNG\r\n\x1a\n" + b"\x00" * 32):
    upload_id = os.urandom(16).hex()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{upload_id}.bin").write_bytes(data)
    (directory / f"{upload_id}.json").write_text(
        json.dumps(
            {
                "upload_id": upload_id,
                "conversation_id": conversation_id,
                "content_type": "image/png",
                "size": len(data),
                "sha256": "0" * 64,
                "channel": "socketio",
                "received_at": 1_700_000_000,
            }
        )
    )
    return upload_id


@pytest.mark.parametrize(
    "typed, day",
    [
        ("2025-03-14", date(2025, 3, 14)),
        ("on 14 March 2025", date(2025, 3, 14)),
        ("March 14th, 2025", date(2025, 3, 14)),
        ("3/14/2025", date(2025, 3, 14)),
        ("last spring", None),
        ("31 February 2025", None),
    ],
)
def test_dates_as_customers_write_them(typed, day):
    assert parse_day(typed) == day


@pytest.mark.parametrize(
    "typed, price",
    [("$59.99", Decimal("59.99")), ("59,99", Decimal("59.99")), ("1,299.00", Decimal("1299.00")), ("sixty", None)],
)
def test_prices_as_customers_write_them(typed, price):
    assert parse_price(typed) == price


def test_the_product_is_matched_in_the_catalogue(chat, service):
    chat.run(ValidatePurchaseWarrantyForm(), {"purchase_product": "the 737 power bank"})
    assert chat.slots["purchase_sku"] == "A1289"
    chat.run(ValidatePurchaseWarrantyForm(), {"purchase_product": "a toaster"})
    assert chat.slots["purchase_product"] is None and "utter_invalid_purchase_product" in chat.responses


def test_somewhere_else_asks_for_the_shops_name(chat, service):
    chat.run(ValidatePurchaseWarrantyForm(), {"purchase_seller": "somewhere else"})
    assert chat.slots["purchase_seller"] is None and chat.responses == ["utter_invalid_purchase_seller"]


def test_a_serial_that_cannot_be_found_is_never_asked_twice(chat, service):
    chat.run(ValidatePurchaseWarrantyForm(), {"purchase_serial": "no idea where it is"})
    assert chat.slots["purchase_serial"] == "unknown" and chat.responses == []


def test_the_receipt_is_received_only_from_this_conversation(chat, new_chat, service, uploads, counts):
    theirs = stored(uploads, "someone-else")
    chat.run(ValidatePurchaseWarrantyForm(), {"purchase_receipt": theirs}, intent="upload_file")
    assert chat.slots["purchase_receipt"] is None and chat.responses == ["utter_invalid_purchase_receipt"]
    assert counts()["evidence"] == 0
    mine = stored(uploads, chat.sender_id)
    chat.run(ValidatePurchaseWarrantyForm(), {"purchase_receipt": mine}, intent="upload_file")
    assert chat.slots["purchase_receipt"] == mine and chat.responses == ["utter_upload_received_receipt"]
    assert counts()["evidence"] == 1


def test_preview_then_yes_then_email_code_then_the_case(chat, service, uploads, counts):
    receipt = stored(uploads, chat.sender_id)
    chat.run(ValidatePurchaseWarrantyForm(), {"purchase_receipt": receipt}, intent="upload_file")
    chat.slots.update(FACTS)
    chat.slots["purchase_photo"] = "skipped"
    chat.run(ActionPreviewPurchaseWarranty())
    decisions = [m["custom"]["decision"] for m in chat.messages if m.get("custom")]
    assert decisions and decisions[0]["outcome"] == "approved" and decisions[0].get("case_id") is None
    assert chat.responses[-1] == "utter_confirm_purchase_warranty"
    assert chat.slots["pending_confirmation"] == "purchase_warranty"
    assert counts()["purchase_claims"] == 0

    # no claim without the email's code
    chat.run(ActionOpenPurchaseClaim())
    assert counts()["purchase_claims"] == 0
    chat.slots.update({**FACTS, "purchase_photo": "skipped", "pending_confirmation": "purchase_warranty"})

    chat.run(ValidatePurchaseEmailForm(), {"claim_email": f"it's {EMAIL}"})
    assert chat.slots["claim_email"] == EMAIL
    chat.run(
        ValidatePurchaseEmailForm(),
        {"claim_email_code": "000000" if service.mailer.code_for(EMAIL) != "000000" else "111111"},
    )
    assert chat.slots["claim_email_code"] is None and chat.responses == ["utter_invalid_claim_email_code"]
    chat.run(ValidatePurchaseEmailForm(), {"claim_email_code": service.mailer.code_for(EMAIL)})
    assert chat.slots["claim_email_code"] == "verified"

    chat.run(ActionOpenPurchaseClaim())
    opened = chat.message("utter_case_opened")
    assert opened["case_id"].startswith("WAR-E") and opened["custom"]["decision"]["case_id"] == opened["case_id"]
    assert counts()["purchase_claims"] == 1
    assert [e.case_id for e in service.conversation_evidence(chat.sender_id)] == [opened["case_id"]]
    assert chat.slots["pending_confirmation"] is None and chat.slots["purchase_receipt"] is None


def test_an_unauthorised_seller_is_told_and_nothing_is_asked(chat, service, uploads, counts):
    chat.slots.update(
        {**FACTS, "purchase_seller": "Gadget Bazaar", "purchase_receipt": "none", "purchase_photo": "skipped"}
    )
    chat.run(ActionPreviewPurchaseWarranty())
    assert "utter_warranty_unauthorised_reseller" in chat.responses
    assert "utter_confirm_purchase_warranty" not in chat.responses and chat.slots["pending_confirmation"] is None
    assert counts()["purchase_claims"] == 0 and counts()["decision_audit"] == 0


def test_no_receipt_asks_for_the_proof_and_offers_nothing(chat, service, uploads):
    chat.slots.update({**FACTS, "purchase_receipt": "none", "purchase_photo": "skipped"})
    chat.run(ActionPreviewPurchaseWarranty())
    assert "utter_warranty_proof_of_purchase_required" in chat.responses
    assert "utter_confirm_purchase_warranty" not in chat.responses


def test_abandon_clears_everything(chat, service):
    chat.slots.update({**FACTS, "pending_confirmation": "purchase_warranty"})
    chat.run(ActionAbandonPurchaseClaim())
    assert chat.responses == ["utter_request_abandoned"]
    assert all(chat.slots[name] is None for name in FACTS) and chat.slots["pending_confirmation"] is None


def test_no_serial_and_no_photo_asks_for_the_evidence_WAR_7(chat, service, uploads):
    chat.run(
        ValidatePurchaseWarrantyForm(), {"purchase_receipt": stored(uploads, chat.sender_id)}, intent="upload_file"
    )
    chat.slots.update({**FACTS, "purchase_serial": "unknown", "purchase_photo": "skipped"})
    chat.run(ActionPreviewPurchaseWarranty())
    decision = next(m["custom"]["decision"] for m in chat.messages if m.get("custom"))
    assert decision["outcome"] == "needs_information" and decision["missing"] == ["serial_number_or_evidence"]
    assert "utter_confirm_purchase_warranty" not in chat.responses


def test_a_photo_stands_in_for_the_serial_WAR_7(chat, service, uploads):
    chat.run(
        ValidatePurchaseWarrantyForm(), {"purchase_receipt": stored(uploads, chat.sender_id)}, intent="upload_file"
    )
    photo = stored(uploads, chat.sender_id, b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    chat.run(ValidatePurchaseWarrantyForm(), {"purchase_photo": photo}, intent="upload_file")
    assert chat.responses == ["utter_upload_received_photo"]
    chat.slots.update({**FACTS, "purchase_serial": "unknown"})
    chat.run(ActionPreviewPurchaseWarranty())
    decision = next(m["custom"]["decision"] for m in chat.messages if m.get("custom"))
    assert decision["outcome"] == "approved"
