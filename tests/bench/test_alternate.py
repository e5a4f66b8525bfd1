"""Setups measured step by step in turn (bench/alternate.py), the generator's pause, the machine's CPU per window."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time

import pytest

from bench.alternate import Turnstile, paused_turn
from bench.load import CONTENDED_RETRIES, LoadGenerator, Sample, Script, find_knee
from bench.procmon import ProcessMonitor
from bench.serving import CONTENDED_PERCENT, contended


class FakeLoad:
    """Stands in for LoadGenerator in find_knee: every read of ``samples`` answers two messages per user in the
    window just measured, ``latency_ms(users)`` each; ``log`` records the users of each window, in order."""

    def __init__(self, name, latency_ms, log):
        self.name, self.latency_ms, self.log, self.users = name, latency_ms, log, 0

    def set_users(self, count):
        self.users = max(self.users, count)

    def pause(self):
        pass

    def resume(self):
        pass

    @property
    def samples(self):
        self.log.append((self.name, self.users))
        now, latency = time.monotonic(), self.latency_ms(self.users) / 1000
        ends = [now - 0.045 + 0.04 * i / (2 * self.users) for i in range(2 * self.users)]
        return [Sample(end - latency, end, True, 0) for end in ends]


def test_setups_take_turns_step_by_step_and_one_that_reached_its_knee_leaves():
    order: list[tuple[str, int]] = []
    turnstile = Turnstile(["starter", "project"])
    loads = {
        "starter": FakeLoad("starter", lambda users: 100.0 if users < 6 else 450.0, order),
        "project": FakeLoad("project", lambda users: 100.0 if users < 10 else 450.0, order),
    }
    results = {}

    def knee(name):
        turn = paused_turn(turnstile, name)(loads[name])
        results[name] = find_knee(loads[name], (2, 4, 6, 8, 10), 0.05, 0.0, 300.0, time.monotonic() + 30, turn=turn)
        turnstile.leave(name)

    threads = [threading.Thread(target=knee, args=(name,)) for name in loads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results["starter"]["stopped"] == results["project"]["stopped"] == "knee"
    # alternating while both rise; the starter's knee at 6 (measured twice), then the project alone
    assert order[:6] == [("starter", 2), ("project", 2), ("starter", 4), ("project", 4), ("starter", 6), ("project", 6)]
    assert order[6:8] == [("starter", 6), ("project", 8)]
    assert order[8:] == [("project", 10), ("project", 10)]


class _Answers(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.dumps([{"text": "ok"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def answering_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_paused_generator_sends_nothing_until_resumed(answering_server):
    script = Script("chat", ("hi", "there", "bye"))
    generator = LoadGenerator(answering_server, [script], think_seconds=(0.01, 0.03))
    generator.set_users(3)
    time.sleep(0.4)
    generator.pause()
    time.sleep(0.2)  # a request under way is answered
    count = len(generator.samples)
    time.sleep(0.5)
    assert count > 0 and len(generator.samples) == count
    generator.resume()
    time.sleep(0.4)
    generator.stop()
    assert len(generator.samples) > count and all(s.ok for s in generator.samples)


def test_the_machines_cpu_is_recorded_beside_the_groups():
    monitor = ProcessMonitor({"me": os.getpid()}, interval=0.05).start()
    deadline = time.monotonic() + 0.4
    while time.monotonic() < deadline:  # some CPU of our own, which the machine's figure includes
        sum(range(1000))
    monitor.stop()
    machine = monitor.machine_percent()
    assert machine is not None and 0.0 < machine <= 100.0 * 64


def _windows_at_the_knee(others_percent):
    order: list[tuple[str, int]] = []
    load = FakeLoad("project", lambda users: 100.0 if users < 6 else 450.0, order)
    result = find_knee(
        load,
        (2, 4, 6),
        0.05,
        0.0,
        300.0,
        time.monotonic() + 30,
        extra=lambda start, end: {"others_cpu_percent": others_percent},
        contended=contended,
    )
    assert result["stopped"] == "knee"
    return [users for _, users in order].count(6)


def test_a_window_over_the_limit_while_other_work_filled_the_machine_is_measured_again():
    assert _windows_at_the_knee(0.0) == 2  # the window and its confirmation
    assert _windows_at_the_knee(CONTENDED_PERCENT + 60) == 2 + CONTENDED_RETRIES  # then a few more, bounded
