"""Issue 12, finding 9: a locked database delays only the conversations that need it.

The real action server on its own demo database; another connection holds SQLite's write lock (``BEGIN EXCLUSIVE``)
for about 10 s.  Meanwhile another customer's FAQ answer (no database) comes back at once, the customer whose "yes"
needs the database gets ``utter_backend_error`` before the lock is released, nothing is half-written, and after the
lock is gone "yes" again opens exactly one case (also when the timed-out write went through late).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.security.action_server_support import (
    OLIVIA,
    ActionServer,
    Conversation,
    copy_database,
    faq_call,
    prepare_database,
    row_counts,
)

BACKEND_ERROR = "utter_backend_error"
LISTEN = {"event": "followup", "name": "action_listen"}


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    return prepare_database(tmp_path_factory.mktemp("locked-db-template"))


@pytest.fixture
def start_server(template_db, tmp_path):
    servers = []

    def start(**env: str) -> ActionServer:
        server = ActionServer(
            copy_database(template_db, tmp_path / f"db{len(servers)}"), tmp_path, extra_env=env
        ).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class WriteLock:
    """Another connection holding the database's write lock for ``seconds`` (released by a timer thread)."""

    def __init__(self, db, seconds: float) -> None:
        self.connection = sqlite3.connect(str(db), isolation_level=None, check_same_thread=False)
        self.connection.execute("BEGIN EXCLUSIVE")
        self.taken = time.monotonic()
        self.released = threading.Event()
        self._timer = threading.Timer(seconds, self.release)
        self._timer.start()

    def release(self) -> None:
        if not self.released.is_set():
            self.connection.execute("ROLLBACK")
            self.connection.close()
            self.released.set()

    def close(self) -> None:
        self._timer.cancel()
        self.release()


def timed(fn, *args):
    started = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - started


def test_a_locked_database_stalls_only_the_call_that_needs_it_and_yes_retries(start_server):
    server = start_server()  # the defaults: SQLite busy timeout 5 s, action time limit 8 s
    customer = Conversation(server).pending_cancellation(OLIVIA)
    before = row_counts(server.db)
    lock = WriteLock(server.db, seconds=10)
    try:
        with ThreadPoolExecutor(2) as pool:
            commit = pool.submit(timed, customer.run, "action_cancel_order")  # "yes": needs the write lock
            time.sleep(0.5)  # the commit is now waiting for the lock
            faq, faq_seconds = timed(server.webhook, faq_call("another-customer"))
            faq_during_lock = not lock.released.is_set()
            faq_before_commit = not commit.done()
            reply, commit_seconds = commit.result(timeout=60)
            commit_during_lock = not lock.released.is_set()
    finally:
        lock.close()

    assert faq.status == 200 and faq.responses == ["utter_faq/return_window"]
    # not queued behind the locked call: answered while it still waits (rasa-sdk's own server answered it after)
    assert faq_during_lock and faq_before_commit and faq_seconds < 3, faq_seconds
    assert reply.status == 200 and reply.responses == [BACKEND_ERROR]
    assert commit_during_lock and commit_seconds < 9.5, commit_seconds  # told to try again while still locked
    assert reply.json["events"] == [{**LISTEN, "timestamp": None}]  # the request and the pending "yes" stay
    assert customer.slots["pending_confirmation"] == "cancellation"
    assert row_counts(server.db) == before  # nothing half-written

    reply = customer.run("action_cancel_order")  # "yes" again, the lock is gone
    assert reply.responses == ["utter_case_opened"]
    assert row_counts(server.db)["cancellations"] == before["cancellations"] + 1
    assert customer.slots["pending_confirmation"] is None
    reply = customer.run("action_cancel_order", {"pending_confirmation": "cancellation"})  # a double "yes"
    assert reply.responses == ["utter_case_already_open"]
    assert row_counts(server.db)["cancellations"] == before["cancellations"] + 1


def test_a_commit_that_times_out_and_goes_through_late_is_retried_without_a_second_case(start_server):
    # the database waits longer than the action may take: the action server's own time limit answers
    server = start_server(ACTION_TIMEOUT_SECONDS="1.5", DB_BUSY_TIMEOUT_SECONDS="30")
    customer = Conversation(server).pending_cancellation(OLIVIA)
    before = row_counts(server.db)
    lock = WriteLock(server.db, seconds=4)
    try:
        reply = customer.run("action_cancel_order")
        told_during_lock = not lock.released.is_set()
        faq, faq_seconds = timed(server.webhook, faq_call("another-customer"))  # the stuck thread blocks nobody
        faq_during_lock = not lock.released.is_set()
        assert lock.released.wait(30)
    finally:
        lock.close()
    assert reply.responses == [BACKEND_ERROR] and told_during_lock
    assert customer.slots["pending_confirmation"] == "cancellation"
    assert faq.responses == ["utter_faq/return_window"] and faq_during_lock and faq_seconds < 3, faq_seconds

    deadline = time.monotonic() + 30  # the abandoned call still holds its place in the queue for the lock...
    while row_counts(server.db)["cancellations"] == before["cancellations"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert row_counts(server.db)["cancellations"] == before["cancellations"] + 1  # ...and wrote the case late

    reply = customer.run("action_cancel_order")  # "yes" again finds that case instead of opening another
    assert reply.responses == ["utter_case_already_open"]
    assert row_counts(server.db)["cancellations"] == before["cancellations"] + 1
    assert "did not finish within" in server.log()
