"""Rate limits shared across Rasa processes through Redis (issue 12, item 5): two ``Guard``s, as two Rasa
processes would build them from the same environment, count against one real ``redis-server`` on loopback.
The guards live in the Rasa environment, so the check runs there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.redis import redis_server

ROOT = Path(__file__).resolve().parents[2]

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
SCRIPT = """
import asyncio, json, sys
from chat_channels.guard import Guard
env = {"CHAT_SESSION_SECRET": "s" * 40, "RATE_LIMIT_STORAGE": sys.argv[1],
       "RATE_LIMIT_CLIENT": "5/minute", "RATE_LIMIT_CONVERSATION": "100/minute"}
first, second = Guard(env), Guard(env)   # two processes' guards
async def main():
    client = first.client_key("203.0.113.7")
    assert client == second.client_key("203.0.113.7")
    verdicts = []
    for n in range(8):
        guard = (first, second)[n % 2]
        verdicts.append((await guard.allow_message(f"conv-{n}", client)).status)
    other = (await second.allow_message("conv-x", second.client_key("203.0.113.8"))).status
    print(json.dumps({"verdicts": verdicts, "other": other}))
asyncio.run(main())
"""


def test_two_processes_share_the_limits_through_redis(tmp_path):
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: scripts/install-system-deps.sh installs it")
        pytest.skip("redis-server is missing")
    with redis_server(tmp_path) as port:
        done = subprocess.run(
            [str(RASA_PYTHON), "-c", SCRIPT, f"redis://127.0.0.1:{port}/3"], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["verdicts"] == [200] * 5 + [429] * 3, "five messages between both guards, not five each"
    assert result["other"] == 200, "another client has its own count"
