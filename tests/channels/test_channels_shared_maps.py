"""A button pressed on another Rasa process (issue 16, item 4): Telegram's long payloads behind their 64-byte keys and
Twilio's numbered menus are kept in ``turns.SharedMap``, in Redis when ``RATE_LIMIT_STORAGE=redis://...``.

Two channel instances (shared_maps_probe.py, in .venv-rasa: the channels import Rasa) with a real ``redis-server``:
the first sends the buttons (to the API stub), the second resolves the press.  In memory (the default) the second
knows nothing of the first's buttons: the key or the number stays as typed, the documented single-process limit.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess

import pytest

from tests.channels.channel_credentials import ROOT, channel_env
from tests.support.redis import redis_server

PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
_ids = itertools.count(6_100_000_001)


def probe(stub_url: str, storage: str) -> dict:
    n = next(_ids)
    env = {**os.environ, **channel_env(stub_url), "RATE_LIMIT_STORAGE": storage, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [str(PYTHON), "-m", "tests.channels.shared_maps_probe", str(n), f"1555{n}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "memory"])
def test_a_button_shown_by_one_process_is_understood_by_another_only_with_redis(tmp_path, api_stub, shared):
    if not PYTHON.exists():
        pytest.fail(".venv-rasa is missing: run `make venvs`")
    with redis_server(tmp_path) as port:
        if port is None:
            pytest.skip("redis-server is not installed (make system-deps)")
        mark = api_stub.mark()
        got = probe(api_stub.url, f"redis://127.0.0.1:{port}/0" if shared else "memory://")
    keyboard = api_stub.calls(mark, lambda c: c.method == "sendMessage" and "reply_markup" in (c.json or {}))
    [button] = [row[0] for c in keyboard for row in c.json["reply_markup"]["inline_keyboard"]]
    assert button["callback_data"].startswith("#") and len(button["callback_data"].encode()) <= 64
    numbered = api_stub.calls(mark, lambda c: c.path.startswith("/twilio/"))
    assert numbered and "Reply with a number" in numbered[-1].form["Body"]
    if shared:
        assert got["telegram"] == got["long"], "the long payload behind the key, read on the other process"
        assert got["twilio"] == "/deny", "choice 2 of the menu shown by the other process"
    else:
        assert got["telegram"] == button["callback_data"] and got["twilio"] == "2"
