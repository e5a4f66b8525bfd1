"""``SupportService.preview_transit`` (issue 15, item 5): the decision a transit claim would get, behind the
verification grant (RET-4), writing nothing; the claim itself then gets the same decision."""

import pytest

from policy_engine.core.errors import InvalidRequest
from policy_engine.core.transit import TransitRequest
from policy_engine.service import NotVerified
from policy_engine.store.demo_logins import DEMO_LOGINS
from tests.support.store import row_counts


def _verified(service, number):
    login = next(ln for ln in DEMO_LOGINS if ln.order_number == number)
    conversation = f"transit-{number}"
    assert service.verify_customer(conversation, number, login.email).verified
    return conversation


def test_preview_needs_the_verification_RET_4(service):
    with pytest.raises(NotVerified):
        service.preview_transit("nobody", "AK1000012", TransitRequest(problem="lost"))


def test_preview_writes_nothing_and_matches_the_claim_INS_1(service, engine):
    conversation = _verified(service, "AK1000012")
    before = row_counts(engine)
    preview = service.preview_transit(conversation, "AK1000012", TransitRequest(problem="lost"))
    assert row_counts(engine) == before
    assert preview.case_id is None and "INS-1" in preview.clauses
    claim = service.transit_claim(conversation, "AK1000012", TransitRequest(problem="lost"))
    assert claim.case_id and claim.outcome is preview.outcome and claim.reason_codes == preview.reason_codes


def test_preview_refuses_a_bad_request(service):
    conversation = _verified(service, "AK1000012")
    with pytest.raises(InvalidRequest):
        service.preview_transit(conversation, "AK1000012", {"problem": "lost"})
