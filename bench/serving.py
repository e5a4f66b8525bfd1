"""Item 3 of the benchmark: serving under rising load, with custom actions and the database in the loop.

A *setup* is a trained model plus how it is served. Two kinds:

* **the project's bot** (``Setup.starter`` false): started as ``make run`` starts it, by ``botstack`` (a fresh SQLite
  support database with the demo data, the rasa-sdk action server, ``rasa run`` with ``botstack.rasa_run_argv``), so
  the messages go through the project's own channels: ``credentials.yml`` with ``chat_channels.rest.TokenRestInput``,
  the load generator sending ``Authorization: Bearer $REST_CHANNEL_TOKEN``. The endpoints are the project's
  ``endpoints.yml``; a setup with Redis gets a copy of it whose tracker store is a private ``redis-server`` (the lock
  store goes to the same Redis through ``LOCK_STORE_*``). The rate limits are those of the test stacks
  (``botstack.TEST_RATE_LIMITS``): the limiter runs, but one loopback client plays every customer.
* **Rasa's starter bot** (``Setup.starter``): the project ``rasa init --no-prompt`` writes (``bench/starter.py``),
  served by ``rasa run`` with its own ``credentials.yml`` (Rasa's open ``rest`` channel) and ``endpoints.yml``
  (in-memory tracker, no action server): the reference the issue compares against.

For each setup ``run_setup`` starts everything on loopback ports of its own (``bench/setups.py``), finds the knee
with ``bench/load.py`` (``find_knee``) and stops everything it started; ``bench/alternate.py`` measures several
setups step by step in turn. ``run_smoke`` plays every scripted conversation once against a
running stack and checks what came back (the smoke run of ``make test``).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from bench.load import LoadGenerator, Script, find_knee, sustained
from bench.procmon import ProcessMonitor
from bench.setups import LOAD_GENERATOR, LoadPlan, Setup, endpoints_yaml, started

__all__ = ["LOAD_GENERATOR", "LoadPlan", "Setup", "endpoints_yaml", "measure", "per_message", "run_setup", "started"]


def _warm_up(url: str, token: str | None, scripts: Sequence[Script], users: int, seconds: float) -> None:
    """Conversations that are not measured: the first messages of each kind make every worker build its TensorFlow
    graphs and lazily created parts (seconds per message), which is start-up, not serving."""
    if seconds <= 0:
        return
    generator = LoadGenerator(url, scripts, think_seconds=(0.05, 0.2), label="warmup", token=token)
    generator.set_users(users)
    time.sleep(seconds)
    generator.stop()


#: other processes' CPU in a window (% of one core) above which a window over the limit is measured again: a quarter
#: of the 2-core machine taken by other work (other sessions' training or tests) is not the setup's own knee
CONTENDED_PERCENT = 50.0


def contended(step: Mapping) -> bool:
    return (step.get("others_cpu_percent") or 0.0) > CONTENDED_PERCENT


def per_message(step: Mapping) -> dict[str, float | None]:
    """CPU milliseconds per answered message of each process tree in a step, and of the servers together."""
    messages = step.get("messages") or 0
    cpu = step.get("cpu_seconds") or {}
    if not messages:
        return {name: None for name in cpu}
    result = {name: 1000.0 * seconds / messages for name, seconds in cpu.items()}
    result["servers"] = 1000.0 * sum(s for n, s in cpu.items() if n != LOAD_GENERATOR) / messages
    return result


def measure(
    setup: Setup,
    url: str,
    token: str | None,
    groups: Mapping[str, int],
    scripts: Sequence[Script],
    plan: LoadPlan,
    log: Callable[[str], None],
    turn: Callable[[LoadGenerator], Callable[[], AbstractContextManager[object]]] | None = None,
    cap_seconds: float | None = None,
) -> dict:
    """Find the knee of a running setup; its steps, the sustained rate, CPU per message, peak memory. With ``turn``,
    each step waits for this setup's turn (``bench/alternate.py``: setups measured step by step in turn), and the cap
    is ``cap_seconds`` (all setups' steps together)."""
    monitor = ProcessMonitor(groups, interval=0.5, alone=[LOAD_GENERATOR]).start()
    generator = LoadGenerator(url, scripts, think_seconds=plan.think_seconds, label=setup.name, token=token)
    if turn is not None:
        generator.pause()  # until its first turn
    try:
        _warm_up(
            url,
            token,
            scripts,
            len(scripts) * max(setup.rasa_workers or 1, setup.rasa_processes),
            plan.warmup_total_seconds,
        )

        def cpu_in_window(start: float, end: float) -> dict:
            rows = monitor.summary(start, end)
            machine = monitor.machine_percent(start, end)
            ours = sum(row["cpu_percent"] or 0.0 for row in rows.values())
            return {
                "cpu_percent": {name: row["cpu_percent"] for name, row in rows.items()},
                "cpu_seconds": {name: row["cpu_seconds"] for name, row in rows.items()},
                "machine_cpu_percent": machine,  # every process on the machine (200 = both cores busy)
                # what other work (other sessions' jobs) took from the same cores while this step was measured
                "others_cpu_percent": None if machine is None else max(0.0, machine - ours),
            }

        load_start = time.monotonic()
        knee = find_knee(
            generator,
            plan.user_steps,
            plan.step_seconds,
            plan.warmup_seconds,
            plan.p95_limit_ms,
            load_start + (plan.cap_seconds if cap_seconds is None else cap_seconds),
            max_users=plan.max_users,
            extra=cpu_in_window,
            log=lambda line: log(f"{setup.name:>8}{line}"),
            turn=None if turn is None else turn(generator),
            contended=contended,
        )
        load_end = time.monotonic()
    finally:
        generator.stop()
        monitor.stop()
    steps = knee["steps"]
    for step in steps:
        step["cpu_ms_per_message"] = per_message(step)
    best = sustained(steps, plan.p95_limit_ms)
    crossed = knee["stopped"] in ("knee", "errors") and steps
    processes = monitor.summary(load_start, load_end)
    for name, row in monitor.summary().items():  # peak memory over the whole life, start-up included
        processes.setdefault(name, {})["peak_rss_mb"] = row["peak_rss_mb"]
    topics = collections.Counter(t for played in generator.played for t in played.topics)
    return {
        "setup": setup.describe(),
        "rasa_workers": setup.rasa_workers,
        "action_workers": setup.action_workers,
        "redis": setup.redis,
        "starter": setup.starter,
        "steps": steps,
        "stopped": knee["stopped"],
        "cap_hit": knee["stopped"] in ("cap", "max_users"),
        "load_seconds": load_end - load_start,
        "sustained": best,
        "sustained_msg_per_s": best["msg_per_s"] if best else 0.0,
        "knee": {
            "last_users_under_limit": best["users"] if best else None,
            "first_users_over_limit": steps[-1]["users"] if crossed else None,
        },
        "cpu_ms_per_message": best["cpu_ms_per_message"] if best else None,
        "processes": processes,
        "conversations_played": len(generator.played),
        "decision_topics": dict(topics),
        "first_errors": generator.first_errors,
    }


def run_setup(
    setup: Setup, scripts: Sequence[Script], plan: LoadPlan, work: Path, log: Callable[[str], None] = print
) -> dict:
    """Start the setup, find its knee, stop it; the figures of every step and of the processes."""
    with started(setup, plan, work, log) as running:
        result = measure(setup, running.url, running.token, running.groups, scripts, plan, log)
        return {"startup_seconds": running.startup_seconds, **result, "logs": running.logs}
