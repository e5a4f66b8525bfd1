"""An update acknowledged before its turn is not lost when the process dies (issue 16, item 3; journal.py).

A bare Rasa server (credentials.yml, no model: a turn answers ``guard.NO_ANSWER``, enough to see that it ran) with
``CHANNEL_TEST_TURN_DELAY_SECONDS`` holding every turn after its typing indicator: a Telegram update is posted, the
webhook answers 200, the typing indicator shows the turn has begun, and the process is killed with SIGKILL.  Nothing
was answered; the journal (SQLite, the embedded default) still holds the update.  A new process on the same journal
replays it at start: one answer, the journal empty.  (A redelivery to another process is caught by the shared
de-duplication: tests/channels/test_channels_redis.py.)
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import time

import pytest
import redis
import requests

import botstack
from tests.channels.channel_credentials import ROOT, TELEGRAM_SECRET, channel_env
from tests.channels.channel_support import BareRasa
from tests.channels.test_channels_config import environment
from tests.channels.test_channels_redis import update
from tests.support.redis import redis_server

_chat_ids = itertools.count(6_200_000_001)


def journal_rows(path, redis_port: int | None) -> int:
    if redis_port is not None:
        return redis.Redis(port=redis_port).hlen("channel-journal")
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM channel_journal").fetchone()[0]


def start(folder, stub, journal, **extra: str) -> BareRasa:
    folder.mkdir()
    env = environment(
        folder, **channel_env(stub.url), REFUSAL_DELAY_SECONDS="0", CHANNEL_JOURNAL_PATH=str(journal), **extra
    )
    server = BareRasa(ROOT, env, botstack.free_port(), folder / "rasa.log")
    assert server.wait_up(), server.log()[-3000:]
    return server


@pytest.mark.parametrize("storage", ["sqlite", "redis"])
def test_an_acknowledged_update_survives_sigkill_and_is_answered_once_after_restart(tmp_path, api_stub, storage):
    with redis_server(tmp_path) as port:
        if storage == "redis" and port is None:
            pytest.skip("redis-server is not installed (make system-deps)")
        shared = {"RATE_LIMIT_STORAGE": f"redis://127.0.0.1:{port}/0", "CHANNEL_REPLAY_AFTER_SECONDS": "1"}
        kill_and_restart(tmp_path, api_stub, port if storage == "redis" else None, shared if storage == "redis" else {})


def kill_and_restart(tmp_path, api_stub, redis_port: int | None, extra: dict[str, str]) -> None:
    journal = tmp_path / "channel-journal.db"
    chat_id = next(_chat_ids)
    mine = lambda c: (c.json or {}).get("chat_id") == chat_id  # noqa: E731
    answers = lambda c: mine(c) and c.method == "sendMessage"  # noqa: E731
    first = start(tmp_path / "first", api_stub, journal, CHANNEL_TEST_TURN_DELAY_SECONDS="120", **extra)
    try:
        mark = api_stub.mark()
        started = time.monotonic()
        acknowledged = requests.post(
            f"{first.url}/webhooks/telegram/webhook",
            json=update(chat_id, 88_000_001),
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            timeout=30,
        )
        assert acknowledged.status_code == 200 and time.monotonic() - started < 2.0
        api_stub.wait(mark, lambda c: mine(c) and c.method == "sendChatAction")  # the turn has begun
        assert journal_rows(journal, redis_port) == 1
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        first.stop()
    assert api_stub.calls(mark, answers) == [], "killed before the turn's answer"
    assert journal_rows(journal, redis_port) == 1, "the acknowledged update is still written down"

    second = start(tmp_path / "second", api_stub, journal, **extra)
    try:
        api_stub.wait(mark, answers, count=1, quiet=3.0)
        assert len(api_stub.calls(mark, answers)) == 1, "answered once"
        assert journal_rows(journal, redis_port) == 0
        assert "telegram: 1 unfinished event(s) replayed" in second.log()
        assert second.log().count("unfinished event(s) replayed") == 1, "claimed once (Redis: at start, then later)"
        assert "hello" not in second.log(), "the journal's replay logs no message text"
    finally:
        second.stop()
    if redis_port is None:
        assert (journal.stat().st_mode & 0o777) == 0o600
