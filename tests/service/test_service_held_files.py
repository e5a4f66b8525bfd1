"""Files held for a conversation (issue 16, item 2) on SQLite and PostgreSQL: a file registered while another question
was asked (kind ``file``) and a WAR-7 photo (``defect``) are linked to the next case the conversation opens, whatever
its kind; a case found again (a second "yes") links nothing new; another conversation's files stay out of it."""

from __future__ import annotations

import pytest

from policy_engine import ReturnRequest, WarrantyRequest
from policy_engine.core.errors import InvalidRequest
from policy_engine.store.upload_files import UploadFiles
from tests.service.test_service_cases import _login
from tests.service.test_service_purchase_claims import store_upload

CONV, OTHER = "held-files-conversation", "held-files-other"


@pytest.fixture
def svc(service, tmp_path):
    service.upload_files = UploadFiles(tmp_path / "uploads")
    return service


def linked(svc, conversation):
    return [(e.kind, e.case_id) for e in svc.conversation_evidence(conversation)]


def test_a_held_file_goes_with_the_next_case_a_return(svc, tmp_path):
    held = store_upload(tmp_path / "uploads", CONV)
    theirs = store_upload(tmp_path / "uploads", OTHER)
    assert svc.register_upload(CONV, held, "file").case_id is None
    svc.register_upload(OTHER, theirs, "file")
    _login(svc, "AK1000003", "emma.twenty@example.com", conv=CONV)
    case_id = svc.open_return(CONV, "AK1000003", ReturnRequest(1, 1, "unopened", False)).case_id
    assert case_id and case_id.startswith("RET-")
    assert linked(svc, CONV) == [("file", case_id)]
    assert linked(svc, OTHER) == [("file", None)], "another conversation's file is not this case's"
    assert [e.upload_id for e in svc.evidence_for_case(case_id)] == [held]

    later = store_upload(tmp_path / "uploads", CONV)
    svc.register_upload(CONV, later, "file")
    again = svc.open_return(CONV, "AK1000003", ReturnRequest(1, 1, "unopened", False))
    assert again.case_id == case_id and again.values.get("repeated")
    assert linked(svc, CONV) == [("file", case_id), ("file", None)], "held for the next new case"


def test_the_defect_photo_and_a_held_file_go_with_the_warranty_claim_WAR_7(svc, tmp_path):
    early = store_upload(tmp_path / "uploads", CONV)
    photo = store_upload(tmp_path / "uploads", CONV, data=b"\xff\xd8\xff\xe0" + b"\x00" * 64, content_type="image/jpeg")
    svc.register_upload(CONV, early, "file")
    svc.register_upload(CONV, photo, "defect")
    _login(svc, "AK1000010", "ava.solix@example.com", conv=CONV)
    request = WarrantyRequest(
        line_id=1, defect="it stopped charging", cause="quality", troubleshooting_done=True, evidence_provided=True
    )
    case_id = svc.open_warranty_claim(CONV, "AK1000010", request).case_id
    assert case_id and case_id.startswith("WAR-")
    assert linked(svc, CONV) == [("file", case_id), ("defect", case_id)]


def test_an_unknown_kind_is_refused(svc, tmp_path):
    with pytest.raises(InvalidRequest):
        svc.register_upload(CONV, store_upload(tmp_path / "uploads", CONV), "video")
