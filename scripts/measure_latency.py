"""Per-message latency of the whole assistant over REST, through full scripted conversations.

    .venv-engine/bin/python scripts/measure_latency.py [--rounds 3] [--url http://127.0.0.1:5005] [--json out.json]

Without ``--url`` it starts a private stack exactly as ``make run`` does (botstack/: action server, Rasa,
a fresh SQLite database with the demo data) on free loopback ports and stops it afterwards; with ``--url`` it talks
to a running server (its database must hold the demo data: ``make run`` loads it).

Every message of every conversation is timed from the POST to the complete REST answer (NLU, dialogue policy,
action server, database, response rendering). A few warm-up messages are sent first and not counted. Prints p50,
p90, p99 and max in milliseconds, overall, per conversation and split by whether the turn reached the action
server (form validation, identity, decisions) or not. Bounded: rounds x conversations x messages requests, each
with a timeout, to loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

import botstack
from bench.metrics import percentile  # (one definition: linear interpolation, as in `make bench`)

# (name, messages): the demo logins of docs/demo-data.md. Repeating a write returns the same case (idempotent), so
# every round walks the same path.
CONVERSATIONS: list[tuple[str, list[str]]] = [
    (
        "greeting and faq",
        [
            "hi",
            "how many days do I have to return a product?",
            "can I exchange AnkerCredits for cash?",
            "thanks",
            "bye",
        ],
    ),
    ("cancellation", ["I want to cancel my order", "AK1000001", "olivia.fresh@example.com", "yes"]),
    (
        "return",
        ["I'd like to return an item", "AK1000003", "emma.twenty@example.com", "1", "1", "unopened", "no", "yes"],
    ),
    ("refund status", ["where is my refund?", "AK1000016", "grace.refunds@example.com"]),
    ("credits balance", ["how many AnkerCredits do I have?", "AK1000008", "liam.rewards@example.com"]),
    ("lost parcel", ["my parcel never arrived", "AK1000012", "zoe.worryfree@example.com", "lost", "yes"]),
    ("handoff", ["I want to talk to a human"]),
]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p90_ms": round(percentile(values, 90) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
    }


def send(session: requests.Session, rasa_url: str, sender: str, text: str, timeout: float) -> tuple[float, list]:
    started = time.perf_counter()
    response = session.post(
        f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=timeout
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


# Rasa's own actions, run inside the Rasa server (the project's actions, forms and validations go to the action server)
RASA_BUILTIN_ACTIONS = {
    "action_listen",
    "action_restart",
    "action_session_start",
    "action_default_fallback",
    "action_deactivate_loop",
    "action_revert_fallback_events",
    "action_default_ask_rephrase",
    "action_two_stage_fallback",
    "action_unlikely_intent",
    "action_back",
    "action_extract_slots",
}


def reached_action_server(session: requests.Session, rasa_url: str, sender: str, since: int) -> tuple[bool, int]:
    """Whether the events added since index ``since`` include a custom action or a form (the action server)."""
    events = session.get(f"{rasa_url}/conversations/{sender}/tracker", timeout=30).json()["events"]
    new = events[since:]
    custom = any(
        e.get("event") == "action"
        and (e.get("name", "").startswith(("action_", "validate_")) or e.get("name", "").endswith("_form"))
        and e.get("name") not in RASA_BUILTIN_ACTIONS
        for e in new
    )
    return custom, len(events)


def measure(rasa_url: str, rounds: int, timeout: float, secrets: dict | None = None) -> dict:
    """``secrets``: REST_CHANNEL_TOKEN and RASA_API_TOKEN (the stack's, or from the environment with ``--url``)."""
    secrets = secrets if secrets is not None else os.environ
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {secrets.get('REST_CHANNEL_TOKEN', '')}"
    session.params = {"token": secrets.get("RASA_API_TOKEN", "")}
    for text in ("hi", "thanks", "bye"):  # warm-up: first requests load lazy parts of the model and the service
        send(session, rasa_url, f"warmup-{uuid.uuid4().hex[:8]}", text, timeout)

    all_times: list[float] = []
    by_conversation: dict[str, list[float]] = {name: [] for name, _ in CONVERSATIONS}
    by_kind: dict[str, list[float]] = {"action server": [], "model only": []}
    empty_answers = 0
    for _ in range(rounds):
        for name, messages in CONVERSATIONS:
            sender = f"latency-{uuid.uuid4().hex[:12]}"
            seen = 0
            for text in messages:
                elapsed, answer = send(session, rasa_url, sender, text, timeout)
                if not answer:
                    empty_answers += 1
                custom, seen = reached_action_server(session, rasa_url, sender, seen)
                all_times.append(elapsed)
                by_conversation[name].append(elapsed)
                by_kind["action server" if custom else "model only"].append(elapsed)
    return {
        "rounds": rounds,
        "messages": len(all_times),
        "empty_answers": empty_answers,
        "overall": summary(all_times),
        "by_kind": {k: summary(v) for k, v in by_kind.items() if v},
        "by_conversation": {k: summary(v) for k, v in by_conversation.items() if v},
    }


def print_report(result: dict) -> None:
    def line(label: str, s: dict) -> str:
        return (
            f"  {label:<22} n={s['n']:>4}  p50={s['p50_ms']:>8.1f} ms  p90={s['p90_ms']:>8.1f} ms  "
            f"p99={s['p99_ms']:>8.1f} ms  max={s['max_ms']:>8.1f} ms"
        )

    print(
        f"latency over REST: {result['messages']} messages in {result['rounds']} round(s) "
        f"of {len(CONVERSATIONS)} conversations ({result['empty_answers']} without an answer)"
    )
    print(line("all messages", result["overall"]))
    for kind, s in result["by_kind"].items():
        print(line(kind, s))
    for name, s in result["by_conversation"].items():
        print(line(name, s))
    overall = result["overall"]
    print(f"LATENCY p50={overall['p50_ms']} ms p99={overall['p99_ms']} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running Rasa server (default: start a private stack)")
    parser.add_argument("--rounds", type=int, default=3, help="times every conversation is run (default 3)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    stack = None
    try:
        if args.url:
            rasa_url = args.url.rstrip("/")
        else:
            if not botstack.model_exists():
                print("measure_latency: no trained model: run `make train`", file=sys.stderr)
                return 1
            tmp = Path(tempfile.mkdtemp(prefix="latency-"))
            stack = botstack.Stack(botstack.Settings.for_tests(tmp), with_web=False).start(timeout=900)
            rasa_url = stack.settings.rasa_url
            print(f"measure_latency: private stack at {rasa_url} (logs in {tmp / 'log'})")
        result = measure(rasa_url, args.rounds, args.timeout, dict(stack.settings.secrets) if stack else None)
    finally:
        if stack is not None:
            stack.stop()
    print_report(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
