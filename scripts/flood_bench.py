"""What one flooding client does to another customer's latency (issue 12, finding 8): a benchmark, not a test.

    .venv-engine/bin/python scripts/flood_bench.py [--seconds 30] [--flooders 16] [--json reports/flood.json]

Starts a private stack exactly as ``make run`` does (botstack/), with the production rate limits and
``TRUST_PROXY=1`` (as behind nginx, so the script can play two client addresses). Then, in one run:

1. **baseline**: customers ask a policy question every 0.5 s (a new customer, with an address of their own, every
   5 questions), alone;
2. **flood**: the same while ``--flooders`` threads from one other address post messages as fast as the server
   answers them, each to a new conversation.

It prints the customer's p50/p95/max latency in both phases and what the flood got (answered, refused with 429).
Traffic goes to loopback only, bounded in time and count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import botstack
from bench.metrics import percentile

QUESTION = "how long does a refund take?"
PATH = "/webhooks/rest/webhook"
MAX_FLOOD_REQUESTS = 200_000


class Poster:
    def __init__(self, settings: botstack.Settings, address: str) -> None:
        self.host, self.port = settings.host, settings.rasa_port
        self.headers = {
            "Authorization": f"Bearer {settings.secrets['REST_CHANNEL_TOKEN']}",
            "Content-Type": "application/json",
            "X-Forwarded-For": address,
        }
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def post(self, sender: str, text: str) -> tuple[int, float]:
        body = json.dumps({"sender": sender, "message": text})
        started = time.perf_counter()
        try:
            self.connection.request("POST", PATH, body=body, headers=self.headers)
            response = self.connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            status = 0
        return status, time.perf_counter() - started


def run(seconds: float, flooders: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="flood-"))
    settings = botstack.Settings.for_tests(tmp, extra_env={"TRUST_PROXY": "1"})
    stack = botstack.Stack(settings, echo=False, with_web=False).start(timeout=900)
    settings = stack.settings
    try:
        ask = Asker(settings)
        ask.run(3.0)  # warm-up: the first messages build graphs and caches
        baseline = ask.run(seconds)
        stop = threading.Event()
        counts = {"answered": 0, "refused": 0, "other": 0}
        lock = threading.Lock()

        def flood(index: int) -> None:
            poster = Poster(settings, "192.0.2.66")
            n = 0
            while not stop.is_set() and n < MAX_FLOOD_REQUESTS // flooders:
                status, _ = poster.post(f"flood-{index}-{n}", "hi")
                n += 1
                with lock:
                    key = "answered" if status == 200 else "refused" if status == 429 else "other"
                    counts[key] += 1

        threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(flooders)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        flooded = ask.run(seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        stack.stop()
    return {
        "seconds_per_phase": seconds,
        "flooders": flooders,
        "customer_alone": summary(baseline),
        "customer_during_flood": summary(flooded),
        "flood": {**counts, "requests_per_s": round(sum(counts.values()) / elapsed, 1)},
    }


class Asker:
    """The other customers: a policy question every 0.5 s; every 5 questions a new customer (conversation and
    address), so that no one of them reaches a rate limit of their own."""

    def __init__(self, settings: botstack.Settings) -> None:
        self.settings = settings
        self.asked = 0

    def run(self, seconds: float) -> list[float]:
        latencies: list[float] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            customer = self.asked // 5
            if self.asked % 5 == 0:
                self.poster = Poster(self.settings, f"203.0.113.{1 + customer % 60}")
            status, elapsed = self.poster.post(f"customer-{customer}", QUESTION)
            self.asked += 1
            latencies.append(elapsed if status == 200 else float("inf"))
            time.sleep(max(0.0, 0.5 - elapsed))
        return latencies


def summary(latencies: list[float]) -> dict:
    answered = [x for x in latencies if x != float("inf")]
    return {
        "asked": len(latencies),
        "not_answered": len(latencies) - len(answered),
        "p50_ms": round(percentile(answered, 50) * 1000, 1) if answered else None,
        "p95_ms": round(percentile(answered, 95) * 1000, 1) if answered else None,
        "max_ms": round(max(answered) * 1000, 1) if answered else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase (default 30)")
    parser.add_argument("--flooders", type=int, default=16, help="flooding threads from one address (default 16)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not botstack.model_exists():
        print("flood_bench: no trained model: run `make train`", file=sys.stderr)
        return 1
    result = run(args.seconds, args.flooders)
    alone, flooded = result["customer_alone"], result["customer_during_flood"]
    print(
        f"customer alone:        {alone['asked']} questions, p50 {alone['p50_ms']} ms, p95 {alone['p95_ms']} ms, "
        f"max {alone['max_ms']} ms, unanswered {alone['not_answered']}"
    )
    print(
        f"customer during flood: {flooded['asked']} questions, p50 {flooded['p50_ms']} ms, "
        f"p95 {flooded['p95_ms']} ms, max {flooded['max_ms']} ms, unanswered {flooded['not_answered']}"
    )
    flood = result["flood"]
    print(
        f"flood ({result['flooders']} threads, one address): {flood['requests_per_s']} requests/s, "
        f"{flood['answered']} answered, {flood['refused']} refused (429), {flood['other']} other"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
