"""Exactly once across Rasa processes: with ``RATE_LIMIT_STORAGE=redis://...`` the update ids seen are kept in Redis.

Two bare Rasa servers (credentials.yml, no model: a turn answers ``guard.NO_ANSWER``, which is enough to see who
handled an update) share one real ``redis-server``; the same Telegram update posted to both is handled by one.
With the in-process default each process remembers only its own (docs/channels.md says so).
"""

from __future__ import annotations

import itertools

import pytest
import requests

import botstack
from tests.channels.channel_credentials import ROOT, TELEGRAM_SECRET, channel_env
from tests.channels.channel_support import BareRasa
from tests.channels.test_channels_config import environment
from tests.support.redis import redis_server

_chat_ids = itertools.count(5_900_000_001)


def update(chat_id: int, update_id: int) -> dict:
    # https://core.telegram.org/bots/webhooks#testing-your-bot-with-updates
    return {
        "update_id": update_id,
        "message": {
            "date": 1441645532,
            "message_id": 1365,
            "text": "hello",
            "chat": {"id": chat_id, "type": "private", "first_name": "Test Firstname"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test Firstname"},
        },
    }


def two_servers(tmp_path, stub, storage: str) -> list[BareRasa]:
    servers = []
    for n in (1, 2):
        folder = tmp_path / f"rasa{n}"
        folder.mkdir()
        env = environment(folder, **channel_env(stub.url), RATE_LIMIT_STORAGE=storage, REFUSAL_DELAY_SECONDS="0")
        servers.append(BareRasa(ROOT, env, botstack.free_port(), folder / "rasa.log"))
    for server in servers:
        assert server.wait_up(), server.log()[-3000:]
    return servers


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "memory"])
def test_a_redelivery_to_another_process_is_handled_once_only_with_redis(tmp_path, api_stub, shared):
    """Redis: one answer. In memory (the default): each process answers once, the documented limit."""
    with redis_server(tmp_path) as port:
        if port is None:
            pytest.skip("redis-server is not installed (make system-deps)")
        storage = f"redis://127.0.0.1:{port}/0" if shared else "memory://"
        servers = two_servers(tmp_path, api_stub, storage)
        try:
            chat_id = next(_chat_ids)
            mark = api_stub.mark()
            for server in servers:  # Telegram redelivers; a load balancer sends it to the other process
                answer = requests.post(
                    f"{server.url}/webhooks/telegram/webhook",
                    json=update(chat_id, 77_000_001),
                    headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                    timeout=30,
                )
                assert answer.status_code == 200
            mine = lambda c: (c.json or {}).get("chat_id") == chat_id and c.method == "sendMessage"  # noqa: E731
            api_stub.wait(mark, mine, count=1 if shared else 2, quiet=2.0)
            assert len(api_stub.calls(mark, mine)) == (1 if shared else 2)
        finally:
            for server in servers:
                server.stop()
