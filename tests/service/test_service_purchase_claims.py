"""Warranty for a product bought elsewhere (WAR-9, WAR-12, WAR-20), with its proof uploaded (issue 15, item 2), on
real SQLite and PostgreSQL: the preview reads no order, the claim is written only under an email whose one-time code
came back into the same conversation, an upload counts only in the conversation that sent it, the case carries its
evidence, a second yes gives the same case, and staff find the files by case."""

from __future__ import annotations

import json
import os
import stat
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from policy_engine.core.errors import InvalidRequest, NotVerified
from policy_engine.core.warranty_request import WarrantyRequest
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.evidence_models import EmailVerificationRow, EvidenceRow, PurchaseClaimRow
from policy_engine.store.models import DecisionAuditRow
from policy_engine.store.upload_files import UploadFiles
from tests.support.store import FIXED_NOW

CONV, OTHER = "c" * 32, "d" * 32
EMAIL = "jo.reseller@example.com"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SERIAL = "A1289X0000012345"


def store_upload(directory, conversation_id, data=PNG, content_type="image/png"):
    """What chat_channels/uploads.py writes (the contract of store/upload_files.py)."""
    upload_id = os.urandom(16).hex()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{upload_id}.bin").write_bytes(data)
    meta = {
        "upload_id": upload_id,
        "conversation_id": conversation_id,
        "content_type": content_type,
        "size": len(data),
        "sha256": "0" * 64,
        "channel": "socketio",
        "received_at": int(FIXED_NOW.timestamp()),
    }
    (directory / f"{upload_id}.json").write_text(json.dumps(meta))
    return upload_id


@pytest.fixture
def svc(service, tmp_path):
    service.upload_files = UploadFiles(tmp_path / "uploads")
    return service


def stated(**kw):
    facts = {"seller": "Best Buy", "purchased_on": date(2024, 11, 1), "price": Decimal("149.99"), "country": "US"}
    facts.update(kw)
    return facts


def request(**kw):
    kw.setdefault("line_id", None)
    kw.setdefault("serial_number", SERIAL)
    kw.setdefault("defect", "it no longer charges any phone")
    kw.setdefault("cause", "quality")
    kw.setdefault("troubleshooting_done", True)
    return WarrantyRequest(**kw)


def verify_email(svc, conversation=CONV, email=EMAIL):
    assert svc.send_claim_email_code(conversation, email).code == "code_sent"
    code = svc.mailer.code_for(email)
    assert code is not None
    assert svc.verify_claim_email(conversation, code).code == "verified"


def test_find_product_by_sku_or_model_words(svc):
    assert svc.find_product("A1289")["sku"] == "A1289"
    assert svc.find_product("the 737 power bank")["sku"] == "A1289"
    assert svc.find_product("my SOLIX C1000")["sku"] == "A1761"
    assert svc.find_product("a toaster") is None
    assert svc.find_product("737") is None  # the 737 charger and the 737 power bank: ask again


def test_preview_without_receipt_asks_for_the_proof_WAR_9_and_writes_nothing(svc, engine):
    d = svc.preview_purchase_claim(CONV, "A1289", stated(), request())
    assert d.outcome.value == "needs_information" and "proof_of_purchase" in d.missing
    assert "proof_of_purchase_required" in d.reason_codes and "WAR-9" in d.clauses
    with unit_of_work(make_session_factory(engine)) as uow:
        assert uow.session.scalars(select(DecisionAuditRow)).all() == []


def test_preview_with_a_receipt_from_an_authorised_reseller_is_covered(svc, tmp_path):
    svc.register_upload(CONV, store_upload(tmp_path / "uploads", CONV), "receipt")
    d = svc.preview_purchase_claim(CONV, "A1289", stated(), request())
    assert d.outcome.value == "approved" and "covered" in d.reason_codes and "proof_valid" in d.reason_codes


def test_unauthorised_seller_is_denied_WAR_20(svc, tmp_path):
    svc.register_upload(CONV, store_upload(tmp_path / "uploads", CONV), "receipt")
    d = svc.preview_purchase_claim(CONV, "A1289", stated(seller="Gadget Bazaar"), request())
    assert d.outcome.value == "denied" and "unauthorised_reseller" in d.reason_codes and "WAR-20" in d.clauses


def test_out_of_period_is_denied_WAR_14(svc, tmp_path):
    svc.register_upload(CONV, store_upload(tmp_path / "uploads", CONV), "receipt")
    d = svc.preview_purchase_claim(CONV, "A1289", stated(purchased_on=date(2022, 1, 1)), request())
    assert d.outcome.value == "denied" and "outside_warranty_period" in d.reason_codes


def test_a_future_date_or_unknown_product_is_refused(svc):
    tomorrow = FIXED_NOW.date() + timedelta(days=2)
    with pytest.raises(InvalidRequest):
        svc.preview_purchase_claim(CONV, "A1289", stated(purchased_on=tomorrow), request())
    with pytest.raises(InvalidRequest):
        svc.preview_purchase_claim(CONV, "NOPE1", stated(), request())
    with pytest.raises(InvalidRequest):
        svc.preview_purchase_claim(CONV, "A1289", stated(price=Decimal("-1")), request())


def test_an_upload_counts_only_in_the_conversation_that_sent_it(svc, tmp_path):
    mine = store_upload(tmp_path / "uploads", CONV)
    with pytest.raises(InvalidRequest, match="no such upload"):
        svc.register_upload(OTHER, mine, "receipt")  # someone else's id: refused like an unknown one
    with pytest.raises(InvalidRequest, match="no such upload"):
        svc.register_upload(CONV, "0" * 32, "receipt")
    with pytest.raises(InvalidRequest, match="no such upload"):
        svc.register_upload(CONV, "../../etc/passwd", "receipt")
    first = svc.register_upload(CONV, mine, "receipt")
    again = svc.register_upload(CONV, mine, "receipt")
    assert first.upload_id == again.upload_id == mine and first.content_type == "image/png"
    assert [e.upload_id for e in svc.conversation_evidence(CONV)] == [mine]
    assert svc.conversation_evidence(OTHER) == ()


def test_no_claim_without_a_verified_email(svc, tmp_path, engine):
    svc.register_upload(CONV, store_upload(tmp_path / "uploads", CONV), "receipt")
    with pytest.raises(NotVerified):
        svc.open_purchase_claim(CONV, "A1289", stated(), request())
    # a code sent to the address but typed in another conversation verifies nothing here
    assert svc.send_claim_email_code(OTHER, EMAIL).code == "code_sent"
    assert svc.verify_claim_email(CONV, svc.mailer.code_for(EMAIL)).code == "code_expired"
    with pytest.raises(NotVerified):
        svc.open_purchase_claim(CONV, "A1289", stated(), request())
    with unit_of_work(make_session_factory(engine)) as uow:
        assert uow.session.scalars(select(PurchaseClaimRow)).all() == []


def test_the_claim_is_written_with_its_proof_and_evidence(svc, tmp_path, engine):
    uploads = tmp_path / "uploads"
    receipt = store_upload(uploads, CONV)
    photo = store_upload(uploads, CONV, b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg")
    strangers = store_upload(uploads, OTHER)
    svc.register_upload(CONV, receipt, "receipt")
    svc.register_upload(CONV, photo, "defect")
    svc.register_upload(OTHER, strangers, "receipt")
    verify_email(svc)

    d = svc.open_purchase_claim(CONV, "A1289", stated(), request(serial_number=None))
    assert d.outcome.value == "approved" and d.case_id.startswith("WAR-E") and len(d.case_id) == 11
    assert d.values["repeated"] is False
    again = svc.open_purchase_claim(CONV, "A1289", stated(), request(serial_number=None))
    assert again.case_id == d.case_id and again.values["repeated"] is True

    with unit_of_work(make_session_factory(engine)) as uow:
        row = uow.session.scalars(select(PurchaseClaimRow)).one()
        assert (row.email, row.seller, row.sku, row.price, row.case_id) == (
            EMAIL,
            "best_buy",
            "A1289",
            Decimal("149.99"),
            d.case_id,
        )
        assert row.decision["case_id"] == d.case_id and row.claim_deadline is not None
        linked = {e.upload_id: e.case_id for e in uow.session.scalars(select(EvidenceRow))}
        assert linked == {receipt: d.case_id, photo: d.case_id, strangers: None}
        audit = uow.session.scalars(select(DecisionAuditRow)).one()
        assert audit.case_id == d.case_id and audit.order_number is None
        assert audit.inputs["purchase"]["receipt"] is True

    files = svc.evidence_for_case(d.case_id)
    assert {f.upload_id for f in files} == {receipt, photo}
    assert all(f.path is not None and f.path.read_bytes()[:2] in (b"\x89P", b"\xff\xd8") for f in files)


def test_a_denied_claim_writes_no_case_but_is_audited(svc, tmp_path, engine):
    svc.register_upload(CONV, store_upload(tmp_path / "uploads", CONV), "receipt")
    verify_email(svc)
    d = svc.open_purchase_claim(CONV, "A1289", stated(seller="Gadget Bazaar"), request())
    assert d.outcome.value == "denied" and d.case_id is None
    with unit_of_work(make_session_factory(engine)) as uow:
        assert uow.session.scalars(select(PurchaseClaimRow)).all() == []
        assert len(uow.session.scalars(select(DecisionAuditRow)).all()) == 1


def test_email_codes_are_hashed_limited_and_expire(svc, engine, clock):
    limits = svc.policy.identity
    assert svc.send_claim_email_code(CONV, "not an email").code == "invalid_input"
    for _ in range(limits.code_max_sends_per_hour + 2):
        assert svc.send_claim_email_code(CONV, EMAIL).code == "code_sent"
    assert len(svc.mailer.sent) == limits.code_max_sends_per_hour  # the same answer, no more mail
    code = svc.mailer.code_for(EMAIL)
    with unit_of_work(make_session_factory(engine)) as uow:
        rows = uow.session.scalars(select(EmailVerificationRow)).all()
        assert rows and all(code not in (r.code_hash, r.salt) for r in rows)
    wrong = "000000" if code != "000000" else "111111"
    assert svc.verify_claim_email(CONV, wrong).code == "invalid_code"
    clock.advance(minutes=limits.code_lifetime_minutes + 1)
    assert svc.verify_claim_email(CONV, code).code == "code_expired"


def test_wrong_codes_void_the_code(svc):
    verify_attempts = svc.policy.identity.code_max_attempts
    svc.send_claim_email_code(CONV, EMAIL)
    code = svc.mailer.code_for(EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(verify_attempts):
        svc.verify_claim_email(CONV, wrong)
    assert svc.verify_claim_email(CONV, code).code == "code_expired"


def test_upload_metadata_is_never_trusted_for_paths(tmp_path):
    files = UploadFiles(tmp_path)
    assert files.meta("../x") is None and files.meta(None) is None and files.meta("A" * 32) is None
    with pytest.raises(ValueError):
        files.path("../../etc/passwd")
    upload_id = store_upload(tmp_path, CONV, content_type="text/html")
    assert files.meta(upload_id) is None  # a type we never accept
    assert stat.S_ISDIR(os.stat(tmp_path).st_mode)


def test_staff_fetch_a_cases_files_with_the_command_line(svc, tmp_path, engine, monkeypatch, capsys):
    from policy_engine.entrypoints.cli import main as cli_main

    uploads = tmp_path / "uploads"
    receipt = store_upload(uploads, CONV, b"%PDF-1.4\n" + b"x" * 40, "application/pdf")
    svc.register_upload(CONV, receipt, "receipt")
    verify_email(svc)
    case_id = svc.open_purchase_claim(CONV, "A1289", stated(), request()).case_id
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("UPLOAD_DIR", str(uploads))
    monkeypatch.delenv("POLICY_FILE", raising=False)
    capsys.readouterr()
    assert cli_main(["evidence", "--case", case_id.lower(), "--copy-to", str(tmp_path / "out")]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["case_id"] == case_id and [f["upload_id"] for f in listed["files"]] == [receipt]
    copied = tmp_path / "out" / f"{case_id}-1-receipt.pdf"
    assert copied.read_bytes().startswith(b"%PDF-") and stat.S_IMODE(os.stat(copied).st_mode) == 0o600
    assert cli_main(["evidence", "--case", "WAR-E999999"]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == []


def test_forget_erases_the_claimants_email_code_requests_and_files(svc, tmp_path, engine, monkeypatch):
    """forget --email (issue 12, item 9) covers claims for purchases elsewhere: the claim kept anonymised, the code
    requests and the uploaded receipt deleted (row and file), another customer's upload untouched."""
    from policy_engine.store.forget import forget_all

    uploads = tmp_path / "uploads"
    monkeypatch.setenv("UPLOAD_DIR", str(uploads))
    receipt = store_upload(uploads, CONV)
    strangers = store_upload(uploads, OTHER)
    svc.register_upload(CONV, receipt, "receipt")
    svc.register_upload(OTHER, strangers, "receipt")
    verify_email(svc)
    case_id = svc.open_purchase_claim(CONV, "A1289", stated(), request()).case_id

    with unit_of_work(make_session_factory(engine), write=True) as uow:
        summary = forget_all(uow.session, None, EMAIL.upper())
    assert summary.deleted["evidence"] == 1 and summary.deleted["evidence_files"] == 1
    assert summary.deleted["email_verifications"] >= 1 and summary.anonymised["purchase_claims"] == 1
    assert EMAIL not in json.dumps(summary.to_dict())
    with unit_of_work(make_session_factory(engine)) as uow:
        claim = uow.session.scalars(select(PurchaseClaimRow)).one()
        assert claim.case_id == case_id and claim.email.startswith("forgotten-claim-")
        assert claim.conversation_id.startswith("anon-") and claim.defect == "[erased]" and claim.serial_number is None
        assert uow.session.scalars(select(EmailVerificationRow)).all() == []
        assert [e.upload_id for e in uow.session.scalars(select(EvidenceRow))] == [strangers]
        audit = uow.session.scalars(select(DecisionAuditRow)).all()
        assert all(EMAIL not in json.dumps(a.inputs) + json.dumps(a.decision) for a in audit)
    assert not (uploads / f"{receipt}.bin").exists() and not (uploads / f"{receipt}.json").exists()
    assert (uploads / f"{strangers}.bin").exists()
