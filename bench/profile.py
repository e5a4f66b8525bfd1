"""Where a message's CPU goes: variants of the project's stack under the same fixed load, measured alternately.

    .venv-engine/bin/python -m bench.profile --users 6 --seconds 20 --rounds 3 \
        --variant before:SOME_SWITCH=0 --variant after:SOME_SWITCH=1 [--spy var/bench/profile]

Every variant is a stack of its own, started as ``make run`` starts it (``botstack.Stack``: the support database with
the demo data, the action server, ``rasa run`` with the project's credentials and endpoints), all running at once and
idle while not measured. Round after round, each variant in turn gets ``--users`` virtual customers playing
``bench/conversations.yml`` (``bench.load``) for ``--seconds``; per window: messages, p50/p95 latency and the CPU
seconds of each process tree divided by the messages answered (CPU ms per message). Alternating windows put the same
share of the machine's other work on every variant, which is what makes the comparison fair on a shared machine.

``--spy DIR`` also samples the Rasa and action servers with py-spy (``--nonblocking``, 100 Hz, idle frames dropped)
during every window and writes collapsed stacks (``DIR/<variant>-<process>.txt``) and a summary of where the samples
fell (``summarise``). Only loopback servers started here are profiled.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import botstack
from bench import paths
from bench.load import LoadGenerator, Script, load_scripts, window_stats
from bench.procmon import tree_usage
from bench.serving import _warm_up

#: where a Rasa server's samples fall: (label, substrings of a frame "function (file)"; the first frame that matches
#: any of a label's substrings counts the sample for that label, inclusively, once per sample)
RASA_BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("REST handler (the whole turn on the loop)", ("receive (chat_channels/rest.py)",)),
    ("lock store", ("lock_store.py",)),
    ("tracker store: retrieve", ("_retrieve (rasa/core/tracker_store.py)", "_retrieve_now (rasa_stores/")),
    ("tracker store: save", ("save (rasa/core/tracker_store.py)", "_save_now (rasa_stores/")),
    ("  SQL commit", ("commit (sqlalchemy/orm/session.py)",)),
    ("NLU parse (whole)", ("parse_message (rasa/core/processor.py)",)),
    ("  embedding (ONNX)", ("nlu_components/minilm.py",)),
    ("  CRF", ("crf_entity_extractor.py",)),
    ("  response selectors", ("response_selector.py",)),
    ("  count vectors", ("count_vectors_featurizer.py",)),
    ("  regex featurizer", ("regex_featurizer.py",)),
    ("  intent classifier", ("intent_classifier.py",)),
    ("policy predictions", ("predict_next_with_tracker_if_should (rasa/core/processor.py)",)),
    ("  RulePolicy", ("rule_policy.py",)),
    ("  MemoizationPolicy", ("predict_action_probabilities (rasa/core/policies/memoization.py)",)),
    ("  tracker states (featurizing)", ("past_states (rasa/shared/core/trackers.py)",)),
    ("running actions (forms, responses, remote)", ("_run_action (rasa/core/processor.py)",)),
    ("  action server call (HTTP, JSON)", ("request (rasa/utils/endpoints.py)",)),
    ("  result validation (jsonschema)", ("jsonschema",)),
    ("    the schema checked again each call", ("check_schema (jsonschema/validators.py)",)),
    ("logging", ("logging/__init__.py",)),
    ("JSON", ("json/",)),
)
ACTION_BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("webhook handler", ("webhook (rasa_sdk/endpoint.py)", "actions/server.py")),
    ("executor (run the action)", ("rasa_sdk/executor.py", "actions/executor.py")),
    ("database (SQLAlchemy)", ("sqlalchemy",)),
    ("policy engine core", ("policy_engine/core",)),
    ("logging", ("logging/__init__.py",)),
    ("JSON", ("json/",)),
)


@dataclass(frozen=True)
class Variant:
    name: str
    env: Mapping[str, str]


def parse_variant(text: str) -> Variant:
    name, _, rest = text.partition(":")
    env = dict(item.split("=", 1) for item in rest.split(",") if item)
    return Variant(name, env)


#: a sample whose innermost frame is one of these is a thread waiting (the event loop idle in uvloop, a pool thread
#: waiting for work), not CPU spent on a message
IDLE_LEAVES = ("serve (sanic/server/runners.py)", "(threading.py)", "(selectors.py)", "(concurrent/futures/thread.py)")


def summarise(collapsed: Path, buckets: Sequence[tuple[str, tuple[str, ...]]]) -> tuple[int, dict[str, float]]:
    """Busy samples in a py-spy raw (collapsed) file, and the share of them under each bucket (inclusive)."""
    total = 0
    counts: collections.Counter[str] = collections.Counter()
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        stack = re.sub(r":\d+\)", ")", stack)  # "f (file.py:12)" -> "f (file.py)"
        if stack.rsplit(";", 1)[-1].endswith(IDLE_LEAVES):
            continue
        n = int(number)
        total += n
        for label, needles in buckets:
            if any(needle in stack for needle in needles):
                counts[label] += n
    return total, {label: (100.0 * counts[label] / total if total else 0.0) for label, _ in buckets}


def _spy(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    argv = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100", "--nonblocking"]
    argv += ["--subprocesses", "--format", "raw", "--output", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def window(
    stack: botstack.Stack, scripts: Sequence[Script], users: int, seconds: float, label: str, spy: Path | None
) -> dict:
    s = stack.settings
    pids = {child.name: child.pid for child in stack.children}
    generator = LoadGenerator(
        s.rasa_url, scripts, think_seconds=(0.5, 1.5), label=label, token=s.secrets["REST_CHANNEL_TOKEN"]
    )
    generator.set_users(users)
    time.sleep(2.0)  # every user has started its first conversation
    spies = []
    if spy is not None:
        profiled = {n: pid for n, pid in pids.items() if n.startswith("rasa") or n == "actions"}
        spies = [(name, _spy(pid, seconds, spy / f"{label}-{name}.part")) for name, pid in profiled.items()]
    before = {name: tree_usage(pid)[0] for name, pid in pids.items()}
    start = time.monotonic()
    time.sleep(seconds)
    end = time.monotonic()
    after = {name: tree_usage(pid)[0] for name, pid in pids.items()}
    generator.stop()
    for name, process in spies:
        process.wait(timeout=60)
        part = spy / f"{label}-{name}.part"  # type: ignore[operator]
        if part.exists():
            process = "rasa" if name.startswith("rasa") else name
            with open(spy / f"{label.rsplit('-r', 1)[0]}-{process}.txt", "a", encoding="utf-8") as whole:  # type: ignore[operator]
                whole.write(part.read_text(encoding="utf-8", errors="replace"))
            part.unlink()
    stats = window_stats(generator.samples, start, end)
    messages = stats.get("messages") or 0
    cpu_ms = {name: (1000.0 * (after[name] - before[name]) / messages if messages else None) for name in pids}
    return {
        "messages": messages,
        "msg_per_s": stats.get("msg_per_s"),
        "p50_ms": stats.get("p50_ms"),
        "p95_ms": stats.get("p95_ms"),
        "errors": stats.get("errors"),
        "cpu_ms_per_message": cpu_ms,
        "first_errors": generator.first_errors[:2],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", type=parse_variant, default=[], help="name:ENV=VALUE,...")
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default=str(paths.ROOT / "models"))
    parser.add_argument("--spy", type=Path, default=None, help="directory for py-spy's collapsed stacks")
    parser.add_argument("--work", type=Path, default=paths.ROOT / "var" / "bench" / "profile")
    args = parser.parse_args(argv)
    variants = args.variant or [Variant("project", {})]
    scripts = load_scripts(paths.CONVERSATIONS)
    if args.spy is not None:
        shutil.rmtree(args.spy, ignore_errors=True)
        args.spy.mkdir(parents=True)
    stacks: dict[str, botstack.Stack] = {}
    results: dict[str, list[dict]] = {v.name: [] for v in variants}
    try:
        for variant in variants:
            base = args.work / variant.name
            shutil.rmtree(base, ignore_errors=True)
            base.mkdir(parents=True)
            env = dict(variant.env)
            endpoints = env.pop("ENDPOINTS", None)  # another endpoints.yml (e.g. the one before a change)
            model = env.pop("MODEL", args.model)
            processes = int(env.pop("PROCESSES", "1"))  # make run's RASA_PROCESSES (botstack/balancer.py)
            settings = botstack.Settings.for_tests(
                base, models=model, rasa_processes=processes, extra_env={**botstack.TEST_RATE_LIMITS, **env}
            )
            stack = botstack.Stack(settings, with_web=False, with_inbox=False, with_rasa=not endpoints)
            stacks[variant.name] = stack.start(timeout=600)
            s = stack.settings
            if endpoints:
                argv = botstack.rasa_run_argv(s)
                argv[argv.index("--endpoints") + 1] = endpoints
                stack.children.append(botstack.Child("rasa", argv, s.child_env(), stack.log_dir / "rasa.log", False))
                stack.wait_ready(timeout=600)
            _warm_up(s.rasa_url, s.secrets["REST_CHANNEL_TOKEN"], scripts, len(scripts), 15.0)
            print(f"{variant.name}: ready {variant.env}", flush=True)
        for round_ in range(args.rounds):
            for variant in variants:
                label = f"{variant.name}-r{round_}"
                row = window(stacks[variant.name], scripts, args.users, args.seconds, label, args.spy)
                results[variant.name].append(row)
                print(label, json.dumps(row), flush=True)
    finally:
        for stack in stacks.values():
            stack.stop()
    print("\nvariant: messages, msg/s, p50/p95 ms (median window), CPU ms per message (all windows)")
    for name, rows in results.items():
        messages = sum(r["messages"] for r in rows)
        cpu = (
            {
                p: sum((r["cpu_ms_per_message"][p] or 0) * r["messages"] for r in rows) / max(messages, 1)
                for p in rows[0]["cpu_ms_per_message"]
            }
            if rows
            else {}
        )
        p50 = sorted(r["p50_ms"] or 0 for r in rows)[len(rows) // 2] if rows else None
        p95 = sorted(r["p95_ms"] or 0 for r in rows)[len(rows) // 2] if rows else None
        rate = sum(r["msg_per_s"] or 0 for r in rows) / max(len(rows), 1)
        total = sum(cpu.values())
        parts = ", ".join(f"{p} {v:.1f}" for p, v in cpu.items())
        print(f"{name}: {messages}, {rate:.1f}, {p50:.0f}/{p95:.0f}, {total:.1f} ({parts})")
        if args.spy is not None:
            for process, buckets in (("rasa", RASA_BUCKETS), ("actions", ACTION_BUCKETS)):
                path = args.spy / f"{name}-{process}.txt"
                if path.exists():
                    samples, shares = summarise(path, buckets)
                    print(f"  {process}: {samples} samples")
                    for label, share in shares.items():
                        print(f"    {label:40s} {share:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
