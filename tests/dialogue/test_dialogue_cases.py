"""Coming back to a case (issue 15, item 4), typed as a customer would, against the trained model, the action server
and the SQLite store: a warranty claim opened while the product was under warranty is found by its order and finished
after the warranty ended (WAR-10 from the opening, not WAR-14); a claim past its deadline is refused citing WAR-10;
another order's case number answers like an unknown one."""

from __future__ import annotations

from tests.dialogue.dialogue_client import asked, verify

MIA = ("AK1000040", "mia.comeback@example.com")  # claim opened under warranty, details missing
JACK = ("AK1000041", "jack.toolate@example.com")  # claim past its WAR-10 deadline


def serial_of(support_db, order_number: str) -> str:
    [row] = support_db.rows(
        "SELECT s.serial FROM serial_numbers s JOIN order_lines l ON l.id = s.line_id WHERE l.order_id = ?",
        support_db.order_id(order_number),
    )
    return row["serial"]


def test_WAR_10_a_claim_opened_under_warranty_is_found_by_order_and_finished(customer, support_db):
    [claim] = support_db.cases("warranty_claims", MIA[0])
    customer.says("Hi, I opened a warranty claim last month and I'd like to finish it")
    verify(customer, *MIA)
    turn = customer.turns[-1]
    found = turn.decision
    assert found["topic"] == "case_status", customer.transcript()
    assert found["reasons"] == ["warranty_claim_continuable"] and found["clauses"] == ["WAR-10"]
    assert found["case_id"] == claim["case_id"] and found["outcome"] == "needs_information"
    assert len(turn.texts) <= 3, turn.texts
    asked(customer, "serial_number")  # the warranty form goes on: line, defect and cause are known
    customer.says(serial_of(support_db, MIA[0]))
    asked(customer, "troubleshooting_done")
    customer.says("yes, I reset it and tried another cable")
    for answer in ("no", "US", "no"):  # no photo (the serial number is given), used in the US, not shipped abroad
        customer.says(answer)
    preview = customer.turns[-1].decision
    assert preview["topic"] == "warranty" and preview["outcome"] == "approved", customer.transcript()
    assert "WAR-14" not in preview["clauses"] and "outside_warranty_period" not in preview["reasons"]
    assert support_db.cases("warranty_claims", MIA[0])[0]["outcome"] == "needs_information", "a preview writes nothing"
    done = customer.says("yes").decision
    assert done["case_id"] == claim["case_id"], customer.transcript()
    [after] = support_db.cases("warranty_claims", MIA[0])
    assert after["outcome"] == "approved" and after["status"] == "open" and after["claim_deadline"]
    assert [a["outcome"] for a in support_db.audit_for_case(claim["case_id"])] == ["approved"]


def test_WAR_10_a_claim_past_its_deadline_is_refused_citing_WAR_10(customer, support_db):
    customer.says("what's happening with my warranty claim?")
    verify(customer, *JACK)
    decision = customer.turns[-1].decision
    assert decision["topic"] == "case_status" and decision["outcome"] == "denied", customer.transcript()
    assert decision["reasons"] == ["claim_window_passed"] and decision["clauses"][0] == "WAR-10"
    assert customer.slots()["requested_slot"] is None and not customer.slots()["case_continuable"]
    [claim] = support_db.cases("warranty_claims", JACK[0])
    assert claim["status"] == "open" and claim["outcome"] == "needs_information", "telling the status writes nothing"


def test_RET_4_another_orders_case_number_is_not_found(customer, support_db, bot_stack):
    from tests.dialogue.dialogue_client import Customer

    [jacks] = support_db.cases("warranty_claims", JACK[0])
    customer.says(f"what's happening with my case {jacks['case_id']}")
    verify(customer, *MIA)
    other = customer.turns[-1]
    assert other.decision["topic"] == "case_status", customer.transcript()
    assert other.decision["reasons"] == ["case_not_found"] and other.decision["case_id"] is None
    assert not any("Charger" in text for text in other.texts)
    stranger = Customer.of(bot_stack.settings)
    stranger.says("what's the status of case RET-999999")
    verify(stranger, *MIA)
    unknown = stranger.turns[-1]
    assert unknown.decision["reasons"] == other.decision["reasons"], stranger.transcript()
    assert [t.replace("RET-999999", "#") for t in unknown.texts] == [
        t.replace(jacks["case_id"], "#") for t in other.texts
    ]
