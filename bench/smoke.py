"""The smoke run's serving part (``python -m bench --smoke``, tests/bench): every scripted conversation once through
the real stack and the authenticated REST channel, checked: answers, decisions, a confirmed case in the audit."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence

import botstack
from bench.load import LoadGenerator, Script, window_stats
from bench.procmon import ProcessMonitor
from bench.serving import LOAD_GENERATOR

# ---- smoke run: every scripted conversation once, through the real stack, checked -----------------------------------


def audited_cases(database_url: str, case_ids: Sequence[str]) -> list[str]:
    """Those of ``case_ids`` the service audited in the support database (SQLite, read-only)."""
    path = database_url[len("sqlite:///") :]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return [
            case_id
            for case_id in case_ids
            if connection.execute("SELECT 1 FROM decision_audit WHERE case_id = ? LIMIT 1", (case_id,)).fetchone()
        ]


def smoke_checks(scripts: Sequence[Script], generator: LoadGenerator, database_url: str) -> list[dict]:
    """What a smoke run must have seen: answers without errors, every script played to its end, each deciding
    script's decision payload, and for each confirming script a case id in the answer that the support database's
    decision audit holds."""
    samples = generator.samples
    errors = sum(1 for s in samples if not s.ok)
    checks = [
        {
            "check": "every message answered (HTTP 200, a list of bot messages)",
            "ok": bool(samples) and errors == 0,
            "detail": f"{len(samples)} messages, {errors} errors; first errors: {generator.first_errors}",
        }
    ]
    played: dict[str, list] = {s.name: [] for s in scripts}
    for conversation in generator.played:
        played.setdefault(conversation.script, []).append(conversation)
    missing = [name for name, runs in played.items() if not runs]
    checks.append(
        {
            "check": "every scripted conversation played to its end",
            "ok": not missing,
            "detail": f"not finished: {missing}" if missing else f"{len(generator.played)} conversations",
        }
    )
    for script in scripts:
        runs = played.get(script.name) or []
        if script.decides:
            seen = sorted({t for run in runs for t in run.topics})
            checks.append(
                {
                    "check": f"{script.name}: verified and got a {script.decides!r} decision",
                    "ok": any(script.decides in run.topics for run in runs),
                    "detail": f"decision topics seen: {seen}",
                }
            )
        if script.opens_case:
            if not database_url.startswith("sqlite:///"):
                checks.append({"check": f"{script.name}: case written", "ok": True, "detail": "not SQLite: skipped"})
                continue
            # a replay (same order, new conversation) gets the case the first one opened (writes are idempotent)
            answered = sorted({case for run in runs for case in run.cases})
            audited = audited_cases(database_url, answered)
            checks.append(
                {
                    "check": f"{script.name}: confirmed; the answer names a case the service wrote (decision_audit)",
                    "ok": bool(audited),
                    "detail": f"case ids answered: {answered}; in the support database's audit: {audited}",
                }
            )
    return checks


def run_smoke(
    scripts: Sequence[Script],
    settings: botstack.Settings,
    log: Callable[[str], None] = print,
    token: str | None = None,
    timeout: float = 45.0,
) -> dict:
    """Smoke runs: one virtual customer per script against a running stack (botstack) through its authenticated
    REST channel, short think times, until every script was played to its end once (or ``timeout``); then the
    checks of ``smoke_checks``. ``token`` overrides the stack's REST token (tests: a wrong one must fail)."""
    token = settings.secrets["REST_CHANNEL_TOKEN"] if token is None else token
    label = f"smoke-{uuid.uuid4().hex[:8]}"
    groups = {LOAD_GENERATOR: os.getpid()}
    monitor = ProcessMonitor(groups, interval=0.2, alone=[LOAD_GENERATOR]).start()
    generator = LoadGenerator(settings.rasa_url, scripts, think_seconds=(0.02, 0.1), label=label, token=token)
    start = time.monotonic()
    generator.set_users(len(scripts))  # user i starts with script i: every script in the first round
    names = {s.name for s in scripts}
    while time.monotonic() - start < timeout:
        if names <= {p.script for p in generator.played}:
            break
        if len(generator.first_errors) >= 5:  # failing: no need to wait for the timeout
            break
        time.sleep(0.2)
    end = time.monotonic()
    generator.stop()
    monitor.stop()
    step = {"users": len(scripts), **window_stats(generator.samples, start, end + 1e-6)}
    checks = smoke_checks(scripts, generator, settings.database_url)
    result: dict = {
        "setup": f"the running test stack at {settings.rasa_url} (botstack: credentials.yml, authenticated REST)",
        "steps": [step],
        "stopped": "smoke",
        "sustained": None,
        "sustained_msg_per_s": 0.0,
        "processes": monitor.summary(start, end),
        "conversations_played": len(generator.played),
        "checks": checks,
    }
    failed = [c for c in checks if not c["ok"]]
    for check in checks:
        log(f"  smoke: {'ok  ' if check['ok'] else 'FAIL'} {check['check']}: {check['detail'][:300]}")
    if failed:
        result["error"] = "smoke checks failed: " + "; ".join(c["check"] for c in failed)
    return result
