"""The agent inbox's sign-in throttling, agent disabling and idle sessions across real inbox processes (issue 17's
security notes): two ``python -m policy_engine inbox`` processes on one database and one real ``redis-server``
(``RATE_LIMIT_STORAGE``), as two replicas behind a load balancer would run.

* failed sign-ins counted on one process refuse the next attempt on the other (the ``limits`` library's moving
  window in Redis); without Redis each process would count alone and an attacker would get 5 tries per process;
* ``agent disable`` (the CLI) ends that agent's sessions on every process at once, and is audited;
* a session unused for ``INBOX_IDLE_MINUTES`` ends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.dialogue.dialogue_client import SupportDatabase
from tests.support.redis import redis_server

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policy_engine", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def inboxes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inboxes")
    with redis_server(tmp) as redis_port:
        if redis_port is None:
            pytest.fail("redis-server is missing (make deps installs it)")
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp / 'support.db'}",
            "RATE_LIMIT_STORAGE": f"redis://127.0.0.1:{redis_port}/3",
            "INBOX_LOGIN_ATTEMPTS": "5",
            "TRUST_PROXY": "1",  # the client address from X-Forwarded-For, as behind the load balancer
            "INBOX_IDLE_MINUTES": "0.05",  # 3 seconds
            "AGENT_PW": PASSWORD,
        }
        assert _cli(env, "migrate").returncode == 0
        for name in ("Ann", "Bob", "Cleo"):
            added = _cli(env, "agent", "add", "--name", name, "--password-env", "AGENT_PW")
            assert added.returncode == 0, added.stderr
        ports = [_free_port(), _free_port()]
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "policy_engine", "inbox", "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(tmp / f"inbox-{port}.log", "w"),  # noqa: SIM115 - closed with the process
            )
            for port in ports
        ]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + 60
        for url in urls:
            while True:
                try:
                    if requests.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, (tmp / f"inbox-{url.rsplit(':', 1)[1]}.log").read_text()
                time.sleep(0.2)
        yield urls, env
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def _sign_in(url: str, name: str, password: str = PASSWORD, address: str = "198.18.9.9") -> requests.Response:
    return requests.post(
        f"{url}/api/login",
        json={"name": name, "password": password},
        headers={"X-Forwarded-For": address},
        timeout=30,
    )


def test_failed_sign_ins_on_one_inbox_process_refuse_the_next_on_the_other(inboxes):
    (first, second), _ = inboxes
    for _ in range(5):
        assert _sign_in(first, "Ann", "wrong password, again", address="198.18.0.1").status_code == 401
    # on the other process: the name from another address, and another name from the address, are both throttled
    refused = _sign_in(second, "Ann", address="198.18.0.2")  # the right password
    assert refused.status_code == 429 and "set-cookie" not in {k.lower() for k in refused.headers}
    assert _sign_in(second, "Bob", address="198.18.0.1").status_code == 429
    assert _sign_in(second, "Bob", address="198.18.0.3").status_code == 200


def test_disabling_an_agent_ends_their_sessions_on_every_process_at_once_and_is_audited(inboxes):
    (first, second), env = inboxes
    cookies = []
    for url in (first, second):
        signed = _sign_in(url, "Cleo")
        assert signed.status_code == 200
        cookies.append(signed.cookies)
        assert requests.get(f"{url}/api/queue", cookies=signed.cookies, timeout=30).status_code == 200
    disabled = _cli(env, "agent", "disable", "--name", "Cleo")
    assert disabled.returncode == 0 and "2 session(s) ended" in disabled.stdout, disabled.stderr
    for url, jar in zip((first, second), cookies, strict=True):
        assert requests.get(f"{url}/api/queue", cookies=jar, timeout=30).status_code == 401
    assert _sign_in(first, "Cleo").status_code == 401
    audit = SupportDatabase(env["DATABASE_URL"]).rows(
        "SELECT inputs FROM decision_audit WHERE topic = 'agent' AND inputs LIKE ?", "%disable_agent%"
    )
    assert len(audit) == 1 and '"disabled": "Cleo"' in audit[0]["inputs"] and '"sessions": 2' in audit[0]["inputs"]


def test_a_session_unused_for_the_idle_timeout_ends(inboxes):
    (first, _), _ = inboxes
    signed = _sign_in(first, "Bob")
    assert requests.get(f"{first}/api/queue", cookies=signed.cookies, timeout=30).status_code == 200
    time.sleep(4)  # INBOX_IDLE_MINUTES=0.05
    assert requests.get(f"{first}/api/queue", cookies=signed.cookies, timeout=30).status_code == 401
