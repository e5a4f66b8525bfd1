"""Coming back to a case (issue 15, item 4): a case number is not a credential.

Replayed against the real action server (``python -m actions.server``) on its own demo database, as Rasa calls it: a
conversation that never verified names another customer's case number and order number, and even claims
``verified: true`` in its slots; a verified customer names another order's case number.  Nothing about the case
(product, dates, outcome, its order) comes back, and another order's case answers exactly like a number that does
not exist (RET-4).
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.security.action_server_support import ActionServer, Conversation, copy_database, prepare_database, row_counts

MIA = {"order_number": "AK1000040", "email": "mia.comeback@example.com"}
JACK = {"order_number": "AK1000041", "email": "jack.toolate@example.com"}
#: what a reply about Jack's claim would carry
JACKS_FACTS = ("product", "opened_on", "claim_deadline", "warranty_end", "defect", "line_id")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("case-numbers")
    server = ActionServer(copy_database(prepare_database(directory / "template"), directory), directory).start()
    yield server
    server.stop()


def jacks_case(server: ActionServer) -> str:
    with sqlite3.connect(server.db) as db:
        [(case_id,)] = db.execute(
            "SELECT w.case_id FROM warranty_claims w JOIN orders o ON o.id = w.order_id WHERE o.order_number = ?",
            (JACK["order_number"],),
        ).fetchall()
    return case_id


def told(reply) -> list[dict]:
    assert reply.status == 200, reply.body
    return reply.json.get("responses", [])


def test_a_case_number_without_verification_reveals_nothing(server):
    case_id = jacks_case(server)
    before = row_counts(server.db)
    forged = {
        "case_number": case_id,
        "order_number": JACK["order_number"],
        "verified": True,
        "verified_identity": JACK["order_number"],
    }
    messages = told(Conversation(server).run("action_case_status", forged, text=f"status of {case_id}"))
    assert [m.get("response") for m in messages] == ["utter_identity_required"]
    assert not any(m.get("custom") for m in messages)
    assert not any(key in m for m in messages for key in JACKS_FACTS)
    assert row_counts(server.db) == before


def test_another_orders_case_answers_like_an_unknown_number(server):
    case_id = jacks_case(server)
    mia = Conversation(server).verify(MIA, form="case_form")
    other = told(mia.run("action_case_status", {"case_number": case_id}, text=f"what's happening with {case_id}"))
    unknown = told(mia.run("action_case_status", {"case_number": "WAR-999999"}, text="and case WAR-999999"))
    for messages in (other, unknown):
        assert [m.get("response") for m in messages] == ["utter_case_status_case_not_found"]
        assert messages[0]["custom"]["decision"]["reasons"] == ["case_not_found"]
        assert messages[0]["custom"]["decision"]["case_id"] is None
        assert not any(key in messages[0] for key in JACKS_FACTS)
    strip = lambda m: {k: v for k, v in m.items() if k != "case_number"}  # noqa: E731 - the number typed differs
    assert strip(other[0]) == strip(unknown[0])


def test_a_verified_customer_cannot_swap_in_another_order_number(server):
    case_id = jacks_case(server)
    mia = Conversation(server).verify(MIA, form="case_form")
    swapped = {"order_number": JACK["order_number"], "case_number": case_id}
    messages = told(mia.run("action_case_status", swapped, text=f"{JACK['order_number']} {case_id}"))
    assert [m.get("response") for m in messages] == ["utter_identity_required"]
    assert not any(key in m for m in messages for key in JACKS_FACTS)
