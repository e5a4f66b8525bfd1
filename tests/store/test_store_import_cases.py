"""Existing cases in the import (``orders[].cases[]``, issue 15 item 4): written with their opening day under the
store's own case numbers; every problem reported with its JSON path, nothing written then."""

import copy

import pytest
from sqlalchemy import select

from policy_engine.store import ImportRejected, make_session_factory, unit_of_work
from policy_engine.store.models import ReturnCaseRow, TransitClaimRow, WarrantyClaimRow
from tests.store.test_store_import import GOOD, _import
from tests.support.store import row_counts

CLAIM = {
    "type": "warranty",
    "opened_at": "2025-03-05T10:00:00Z",
    "line_id": 1,
    "missing": ["troubleshooting_outcome"],
    "defect": "stopped charging",
    "cause": "quality",
}


def with_cases(*cases):
    doc = copy.deepcopy(GOOD)
    doc["orders"][0]["cases"] = [copy.deepcopy(c) for c in cases]
    return doc


def test_cases_are_imported_with_their_opening_day_and_store_numbers(engine):
    closed_return = {"type": "return", "opened_at": "2025-03-06T10:00:00Z", "line_id": 1, "status": "closed"}
    transit = {"type": "transit", "opened_at": "2025-03-03T10:00:00Z", "problem": "damaged"}
    summary = _import(engine, with_cases(CLAIM, closed_return, transit))
    assert summary.cases == 3
    with unit_of_work(make_session_factory(engine)) as uow:
        claim = uow.session.scalars(select(WarrantyClaimRow)).one()
        assert claim.case_id == f"WAR-{claim.id:06d}" and claim.status == "open"
        assert claim.outcome == "needs_information" and claim.created_at.isoformat() == "2025-03-05T10:00:00+00:00"
        assert claim.decision["missing"] == ["troubleshooting_outcome"] and claim.decision["case_id"] == claim.case_id
        returned = uow.session.scalars(select(ReturnCaseRow)).one()
        assert returned.status == "closed" and returned.outcome == "approved" and returned.case_id.startswith("RET-")
        assert uow.session.scalars(select(TransitClaimRow)).one().problem == "damaged"


@pytest.mark.parametrize(
    ("cases", "where"),
    [
        ([{**CLAIM, "line_id": 7}], "$.orders[0].cases[0].line_id"),
        ([{**CLAIM, "opened_at": "2025-02-01T10:00:00Z"}], "$.orders[0].cases[0].opened_at"),
        ([{**CLAIM, "opened_at": "2099-02-01T10:00:00Z"}], "$.orders[0].cases[0].opened_at"),
        ([CLAIM, CLAIM], "$.orders[0].cases[1]"),
        ([{k: v for k, v in CLAIM.items() if k != "line_id"}], "$.orders[0].cases[0].line_id"),
        ([{k: v for k, v in CLAIM.items() if k != "defect"}], "$.orders[0].cases[0].defect"),
        ([{"type": "transit", "opened_at": "2025-03-03T10:00:00Z"}], "$.orders[0].cases[0].problem"),
        ([{**CLAIM, "case_id": "WAR-000001"}], "$.orders[0].cases[0]"),  # the file never picks case numbers
        ([{**CLAIM, "type": "cancellation"}], "$.orders[0].cases[0].type"),
    ],
)
def test_bad_cases_are_rejected_whole(engine, cases, where):
    before = row_counts(engine)
    with pytest.raises(ImportRejected) as rejected:
        _import(engine, with_cases(*cases))
    assert any(error.startswith(where) for error in rejected.value.errors), rejected.value.errors
    assert row_counts(engine) == before
