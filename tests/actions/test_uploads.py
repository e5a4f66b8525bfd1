"""Files in a conversation (issue 16): WAR-7's photo of the defect in a web-store warranty claim, registered and linked
to the ``WAR-`` case; a file sent while another question is asked is held (kind ``file``), the question asked again,
and linked to the next case; another conversation's upload is refused; against a real SQLite store and a real upload
directory."""

from __future__ import annotations

import pytest

from actions.returns import ActionOpenReturn, ActionPreviewReturn, ValidateReturnForm
from actions.uploads import ActionKeepUpload
from actions.warranty import ActionOpenWarrantyClaim, ActionPreviewWarranty, ValidateWarrantyForm
from actions.warranty_purchase import ValidatePurchaseWarrantyForm
from policy_engine.store.upload_files import UploadFiles
from tests.actions.test_warranty import AVA, COVERED_FACTS, serial_of
from tests.actions.test_warranty_purchase import stored

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
EMMA = {"order_number": "AK1000003", "email": "emma.twenty@example.com"}


@pytest.fixture
def uploads(service, tmp_path):
    service.upload_files = UploadFiles(tmp_path / "uploads")
    return tmp_path / "uploads"


def sends(chat, form, upload_id: str, requested: str | None, new_slots: dict | None = None):
    """The customer sends a file (``/upload_file{"upload_id": ...}``) while ``requested`` is asked."""
    chat.slots["requested_slot"] = requested
    return chat.run(
        form,
        new_slots,
        intent="upload_file",
        entities=[{"entity": "upload_id", "value": upload_id}],
    )


def evidence(service, conversation_id):
    return [(e.upload_id, e.kind, e.case_id) for e in service.conversation_evidence(conversation_id)]


def claim_without_evidence(chat, service):
    chat.run(ValidateWarrantyForm(), AVA)
    facts = {k: v for k, v in COVERED_FACTS.items() if k != "evidence_provided"}
    chat.run(ValidateWarrantyForm(), {**facts, "serial_number": serial_of(service, chat, "AK1000010")})
    assert chat.slot_events()["requested_slot"] == "evidence_provided"


def test_the_photo_of_the_defect_is_registered_and_linked_to_the_claim_WAR_7(chat, service, uploads):
    claim_without_evidence(chat, service)
    photo = stored(uploads, chat.sender_id, JPEG)
    sends(chat, ValidateWarrantyForm(), photo, "evidence_provided", {"evidence_provided": photo})
    assert chat.responses == ["utter_upload_received_photo"]
    assert chat.slots["evidence_provided"] is True
    assert evidence(service, chat.sender_id) == [(photo, "defect", None)]

    chat.run(ActionPreviewWarranty())
    assert chat.responses[-1] == "utter_confirm_warranty"
    chat.run(ActionOpenWarrantyClaim())
    case_id = chat.messages[0]["case_id"]
    assert case_id.startswith("WAR-")
    assert evidence(service, chat.sender_id) == [(photo, "defect", case_id)]
    [staff_view] = service.evidence_for_case(case_id)  # what `python -m policy_engine evidence` lists
    assert staff_view.kind == "defect" and staff_view.path is not None and staff_view.path.is_file()


def test_no_photo_is_accepted_where_the_serial_number_is_enough_WAR_7(chat, service, uploads):
    claim_without_evidence(chat, service)
    chat.run(ValidateWarrantyForm(), {"evidence_provided": False})
    assert chat.slots["evidence_provided"] is False
    chat.run(ActionPreviewWarranty())
    assert chat.responses[-1] == "utter_confirm_warranty"  # a valid serial number stands in for the photo


def test_a_bare_yes_asks_for_the_photo_itself(chat, service, uploads):
    claim_without_evidence(chat, service)
    chat.run(ValidateWarrantyForm(), {"evidence_provided": True})
    assert chat.responses == ["utter_invalid_evidence_provided"]
    assert chat.slots["evidence_provided"] is None


def test_someone_elses_upload_is_not_the_claims_photo(chat, service, uploads, counts):
    claim_without_evidence(chat, service)
    theirs = stored(uploads, "someone-else", JPEG)
    before = counts()
    sends(chat, ValidateWarrantyForm(), theirs, "evidence_provided", {"evidence_provided": theirs})
    assert chat.responses == ["utter_upload_not_found"]
    assert chat.slots["evidence_provided"] is None
    assert counts() == before


def test_a_file_sent_while_the_order_number_is_asked_is_held_and_the_question_repeated(chat, service, uploads):
    chat.active_loop = "warranty_form"
    early = stored(uploads, chat.sender_id, JPEG)
    events = sends(chat, ValidateWarrantyForm(), early, "order_number")
    assert chat.responses == ["utter_upload_kept"]
    assert {"event": "slot", "name": "requested_slot", "value": "order_number"} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]
    assert evidence(service, chat.sender_id) == [(early, "file", None)]

    # the claim goes on; the photo asked for by WAR-7 comes too; the case gets both files
    claim_without_evidence(chat, service)
    photo = stored(uploads, chat.sender_id, JPEG)
    sends(chat, ValidateWarrantyForm(), photo, "evidence_provided", {"evidence_provided": photo})
    chat.run(ActionPreviewWarranty())
    chat.run(ActionOpenWarrantyClaim())
    case_id = chat.messages[0]["case_id"]
    assert evidence(service, chat.sender_id) == [(early, "file", case_id), (photo, "defect", case_id)]


def test_a_held_file_goes_with_the_next_case_of_any_kind(chat, service, uploads):
    chat.active_loop = "return_form"
    chat.run(ValidateReturnForm(), EMMA)
    receipt = stored(uploads, chat.sender_id)
    sends(chat, ValidateReturnForm(), receipt, chat.slots["requested_slot"])
    assert "utter_upload_kept" in chat.responses
    for slot, value in {"order_line": "1", "item_condition": "undamaged", "quality_issue": False}.items():
        chat.run(ValidateReturnForm(), {slot: value})
    chat.run(ActionPreviewReturn())
    chat.run(ActionOpenReturn())
    case_id = chat.messages[0]["case_id"]
    assert case_id.startswith("RET-")
    assert evidence(service, chat.sender_id) == [(receipt, "file", case_id)]


def test_a_file_outside_any_form_is_held_and_acknowledged(chat, service, uploads):
    upload = stored(uploads, chat.sender_id)
    chat.run(ActionKeepUpload(), intent="upload_file", entities=[{"entity": "upload_id", "value": upload}])
    assert chat.responses == ["utter_upload_kept"]
    assert evidence(service, chat.sender_id) == [(upload, "file", None)]


def test_a_file_while_the_shop_is_asked_in_a_reseller_claim_is_held(chat, service, uploads):
    chat.active_loop = "purchase_warranty_form"
    upload = stored(uploads, chat.sender_id)
    sends(chat, ValidatePurchaseWarrantyForm(), upload, "purchase_seller")
    assert chat.responses == ["utter_upload_kept"]
    assert chat.slots["requested_slot"] == "purchase_seller"
    assert evidence(service, chat.sender_id) == [(upload, "file", None)]
