"""``python -m policy_engine forget --email X`` (issue 12, item 9): a customer's personal data and conversations are
gone from the support store and from Rasa's tracker store; the audit and case rows remain, anonymised; idempotent;
nothing half-written on error.  SQLite, and PostgreSQL (support store and tracker store) with TEST_POSTGRES_URL."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, func, select, text

from policy_engine.core.returns import ReturnRequest
from policy_engine.entrypoints.cli import main as cli_main
from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.identity_models import VerificationAttemptRow, VerificationCodeRow, VerificationTokenRow
from policy_engine.store.models import (
    CustomerRow,
    DecisionAuditRow,
    OrderRow,
    ReturnCaseRow,
)
from tests.support.postgres import fresh_database, require_postgres_url

EMMA, EMMA_EMAIL = "AK1000003", "emma.twenty@example.com"
NOAH, NOAH_EMAIL = "AK1000004", "noah.late@example.com"

# Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py SQLTrackerStore.SQLEvent)
EVENTS_DDL = """CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
 type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""
EVENTS_DDL_PG = EVENTS_DDL.replace("id INTEGER PRIMARY KEY", "id SERIAL PRIMARY KEY")


@contextmanager
def _tracker_url(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        with fresh_database(require_postgres_url()) as url:
            yield url


@pytest.fixture
def tracker(backend, tmp_path):
    """A tracker store with Rasa's ``events`` table on the same backend as the support store."""
    with _tracker_url(backend, tmp_path) as url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(text(EVENTS_DDL if backend == "sqlite" else EVENTS_DDL_PG))
        try:
            yield url, engine
        finally:
            engine.dispose()


def _event(engine, sender, data):
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', 1.0, :d)"),
            {"s": sender, "d": json.dumps(data)},
        )


def _senders(engine):
    with engine.connect() as conn:
        return sorted(set(conn.execute(text("SELECT sender_id FROM events")).scalars()))


def _forget(monkeypatch, capsys, db_url, tracker_url, email=EMMA_EMAIL):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    capsys.readouterr()
    code = cli_main(["forget", "--email", email])
    out = capsys.readouterr()
    return code, out.out, out.err


def _url(engine):
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def emma_talked(service, clock):
    """Emma verified and opened a return in conversation ``conv-emma``; a stranger guessed her email in
    ``conv-guess``; Noah (another customer) verified in ``conv-noah``."""
    assert service.verify_customer("conv-emma", EMMA, EMMA_EMAIL).verified
    service.open_return("conv-emma", EMMA, ReturnRequest(1, 1))
    assert service.verify_customer("conv-guess", EMMA, "guess@example.com").code == "not_verified"
    assert service.verify_customer("conv-noah", NOAH, NOAH_EMAIL).verified
    return service


def test_forget_erases_the_customer_and_keeps_anonymised_audit_rows(emma_talked, engine, tracker, monkeypatch, capsys):
    tracker_url, tracker_engine = tracker
    _event(tracker_engine, "conv-emma", {"event": "user", "text": "AK1000003"})
    _event(tracker_engine, "conv-guess", {"event": "user", "text": "guess@example.com"})
    _event(tracker_engine, "conv-mention", {"event": "user", "text": f"my email is {EMMA_EMAIL.upper()}"})
    _event(tracker_engine, "conv-noah", {"event": "user", "text": "hi"})

    code, out, err = _forget(monkeypatch, capsys, _url(engine), tracker_url)
    assert code == 0, err
    summary = json.loads(out)
    assert EMMA_EMAIL not in out
    assert summary["customers"] == 1 and summary["orders"] >= 1
    assert summary["conversations"] == 3  # conv-emma, conv-guess (attempted her order), conv-mention
    assert summary["tracker_events_deleted"] == 3
    assert summary["anonymised"]["decision_audit"] >= 1 and summary["anonymised"]["return_cases"] == 1

    # the tracker store: her conversations are gone, Noah's is not
    assert _senders(tracker_engine) == ["conv-noah"]
    with unit_of_work(make_session_factory(engine)) as uow:
        s = uow.session
        # personal data gone
        assert s.scalar(select(func.count()).select_from(CustomerRow).where(CustomerRow.email == EMMA_EMAIL)) == 0
        assert s.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.email == EMMA_EMAIL)) == 0
        customer = s.scalars(select(CustomerRow).join(OrderRow).where(OrderRow.order_number == EMMA)).one()
        assert customer.email.endswith("@invalid") and customer.name == ""
        # her conversations' rows gone; Noah's kept
        for model in (VerificationAttemptRow, VerificationTokenRow, VerificationCodeRow):
            convs = set(s.scalars(select(model.conversation_id)))
            assert not convs & {"conv-emma", "conv-guess"}, model
        assert "conv-noah" in set(s.scalars(select(VerificationTokenRow.conversation_id)))
        # audit and case rows remain, anonymised
        audit = s.scalars(select(DecisionAuditRow).where(DecisionAuditRow.order_number == EMMA)).all()
        assert audit
        expected = "anon-" + hashlib.sha256(b"conv-emma").hexdigest()[:40]
        assert {a.conversation_id for a in audit} == {expected}
        case = s.scalars(select(ReturnCaseRow)).one()
        assert case.conversation_id == expected and case.case_id.startswith("RET-")
        stored = json.dumps([a.inputs for a in audit] + [a.decision for a in audit] + [case.decision])
        assert EMMA_EMAIL not in stored.lower() and "conv-emma" not in stored


def test_forget_is_idempotent(emma_talked, engine, tracker, monkeypatch, capsys):
    tracker_url, tracker_engine = tracker
    _event(tracker_engine, "conv-emma", {"event": "user", "text": "hello"})
    assert _forget(monkeypatch, capsys, _url(engine), tracker_url)[0] == 0
    code, out, err = _forget(monkeypatch, capsys, _url(engine), tracker_url)
    assert code == 0, err
    again = json.loads(out)
    assert again["customers"] == 0 and again["orders"] == 0 and again["conversations"] == 0
    assert again["tracker_events_deleted"] == 0
    assert all(v == 0 for v in again["deleted"].values())


def test_forget_without_a_tracker_store_file_creates_none(emma_talked, engine, tmp_path, monkeypatch, capsys, backend):
    missing = tmp_path / "no-tracker.db"
    code, out, err = _forget(monkeypatch, capsys, _url(engine), f"sqlite:///{missing}")
    assert code == 0, err
    assert json.loads(out)["tracker_store"] == "absent" and not missing.exists()


def test_a_bad_email_is_refused_and_nothing_changes(emma_talked, engine, tracker, monkeypatch, capsys):
    from tests.support.store import row_counts

    tracker_url, tracker_engine = tracker
    before = row_counts(engine)
    code, out, err = _forget(monkeypatch, capsys, _url(engine), tracker_url, email="not an email")
    assert code == 1 and "email" in err and out == ""
    assert row_counts(engine) == before


def test_an_error_half_way_writes_nothing(emma_talked, engine, tracker, monkeypatch, capsys):
    """A failure after the tracker deletions were issued (here: while anonymising) rolls both stores back."""
    from policy_engine.store import forget as forget_module
    from tests.support.store import row_counts

    tracker_url, tracker_engine = tracker
    _event(tracker_engine, "conv-emma", {"event": "user", "text": "hello"})
    before = row_counts(engine)

    def boom(*args, **kwargs):
        from sqlalchemy.exc import OperationalError

        raise OperationalError("UPDATE customers", {}, Exception("disk I/O error"))

    monkeypatch.setattr(forget_module, "scrub", boom)
    code, out, err = _forget(monkeypatch, capsys, _url(engine), tracker_url)
    assert code == 1 and err.startswith("error: database")
    assert _senders(tracker_engine) == ["conv-emma"]
    assert row_counts(engine) == before
    with unit_of_work(make_session_factory(engine)) as uow:
        assert (
            uow.session.scalar(select(func.count()).select_from(CustomerRow).where(CustomerRow.email == EMMA_EMAIL))
            == 1
        )
