"""A closed-loop load generator: virtual customers play scripted conversations over Rasa's REST channel.

Each virtual user is a thread with its own keep-alive HTTP connection. It plays the scripts of
``bench/conversations.yml`` one after the other (a new sender id per conversation), waiting a random think time
before every message; the latency of a message is the time until the REST channel returns the bot's complete answer
(NLU, dialogue policies, custom actions and the database included). With ``token`` every request carries
``Authorization: Bearer <token>``, as the project's REST channel (``chat_channels.rest``) requires. The decision
payloads of each answer (``{"custom": {"decision": {"topic": ...}}}``) are recorded per conversation, so a run can
show that its conversations really verified and decided. Only loopback URLs are accepted; every loop stops on
``stop()`` and every request has a timeout. ``pause()`` holds every user before its next message (a request under
way is answered first) until ``resume()``: several setups measured in turn (``bench/alternate.py``) each rest while
another is measured.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bench.metrics import percentile

REST_PATH = "/webhooks/rest/webhook"
CONTENDED_RETRIES = 3
LOOPBACK = ("127.", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Script:
    name: str
    messages: tuple[str, ...]
    decides: str | None = None  # the topic of the decision this conversation must get (checked by smoke runs)
    opens_case: bool = False  # it confirms, and the service writes a case (checked by smoke runs)


@dataclass(frozen=True)
class Sample:
    start: float  # time.monotonic()
    end: float
    ok: bool
    user: int
    status: int = 0  # HTTP status (0: no answer)
    topics: tuple[str, ...] = ()  # topics of the decision payloads in the answer
    cases: tuple[str, ...] = ()  # case ids in those payloads


@dataclass(frozen=True)
class Played:
    """One conversation played to its end."""

    script: str
    sender: str
    topics: tuple[str, ...]
    errors: int
    cases: tuple[str, ...] = ()


def load_scripts(path: Path) -> list[Script]:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    scripts = []
    for item in document.get("conversations") or []:
        messages = item.get("messages") or []
        # YAML reads a bare yes/no/on/off as a boolean: the bot would get "True"; quote it
        bad = [m for m in messages if not isinstance(m, str)]
        if bad:
            raise ValueError(f"{path}: {item.get('name')}: messages must be strings (quote them): {bad}")
        scripts.append(
            Script(str(item["name"]), tuple(messages), item.get("decides"), bool(item.get("opens_case", False)))
        )
    if not scripts or any(not s.messages for s in scripts):
        raise ValueError(f"{path}: needs `conversations:` with a name and non-empty `messages` each")
    return scripts


def decisions(payload: object) -> list[dict]:
    """The decision payloads in a REST answer (a list of bot messages): ``{"custom": {"decision": {...}}}``."""
    if not isinstance(payload, list):
        return []
    found = []
    for message in payload:
        custom = message.get("custom") if isinstance(message, dict) else None
        decision = custom.get("decision") if isinstance(custom, dict) else None
        if isinstance(decision, dict):
            found.append(decision)
    return found


def require_loopback(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host.startswith(LOOPBACK):
        raise ValueError(f"load is only ever sent to loopback addresses, not {url!r}")
    return host, parts.port or 80


class LoadGenerator:
    def __init__(
        self,
        base_url: str,
        scripts: Sequence[Script],
        think_seconds: tuple[float, float] = (1.5, 4.5),
        timeout: float = 10.0,
        label: str = "bench",
        seed: int = 7,
        max_users: int = 1000,
        token: str | None = None,
    ) -> None:
        self.host, self.port = require_loopback(base_url)
        self.scripts = list(scripts)
        self.think_seconds = think_seconds
        self.timeout = timeout
        self.label = label
        self.seed = seed
        self.max_users = max_users
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.samples: list[Sample] = []
        self.played: list[Played] = []
        self.first_errors: list[str] = []  # what the first failed requests got back (for the report)
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._threads: list[threading.Thread] = []

    @property
    def users(self) -> int:
        return len(self._threads)

    def set_users(self, count: int) -> None:
        """Grow the population to ``count`` virtual users (it never shrinks before ``stop()``)."""
        if count > self.max_users:
            raise ValueError(f"{count} users is more than the limit of {self.max_users}")
        while len(self._threads) < count:
            thread = threading.Thread(target=self._user, args=(len(self._threads),), daemon=True)
            self._threads.append(thread)
            thread.start()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def _paused(self, rng: random.Random) -> bool:
        """Wait while paused (then a fresh think time, so the users do not all send at once); True: stopped."""
        if self._running.is_set():
            return False
        while not self._running.wait(0.05):
            if self._stop.is_set():
                return True
        return self._stop.wait(rng.uniform(*self.think_seconds))

    def stop(self, wait: float = 15.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + wait
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _post(self, connection: http.client.HTTPConnection, sender: str, text: str) -> tuple[bool, int, list[dict]]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        connection.request("POST", REST_PATH, body=body, headers=self.headers)
        response = connection.getresponse()
        raw = response.read()
        payload = json.loads(raw or b"null")
        ok = response.status == 200 and isinstance(payload, list)
        if not ok and len(self.first_errors) < 5:
            self.first_errors.append(f"HTTP {response.status}: {raw[:200].decode(errors='replace')}")
        return ok, response.status, decisions(payload)

    def _user(self, index: int) -> None:
        rng = random.Random(self.seed * 100_003 + index)
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        low, high = self.think_seconds
        if self._stop.wait(rng.uniform(0, high)):  # spread the first messages of a new user over one think time
            return
        iteration = 0
        while not self._stop.is_set():
            script = self.scripts[(index + iteration) % len(self.scripts)]
            sender = f"{self.label}-{index}-{iteration}"
            topics: list[str] = []
            cases: list[str] = []
            errors = 0
            for text in script.messages:
                if self._stop.wait(rng.uniform(low, high)) or self._paused(rng):
                    break
                start = time.monotonic()
                try:
                    ok, status, found = self._post(connection, sender, text)
                except (OSError, http.client.HTTPException, ValueError) as error:
                    ok, status, found = False, 0, []
                    if len(self.first_errors) < 5:
                        self.first_errors.append(f"{type(error).__name__}: {error}")
                    connection.close()
                    connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                these = tuple(str(d.get("topic")) for d in found)
                case_ids = tuple(str(d["case_id"]) for d in found if d.get("case_id"))
                self.samples.append(Sample(start, time.monotonic(), ok, index, status, these, case_ids))
                topics += these
                cases += case_ids
                errors += not ok
            else:
                self.played.append(Played(script.name, sender, tuple(topics), errors, tuple(cases)))
            iteration += 1
        connection.close()


def window_stats(samples: Sequence[Sample], start: float, end: float) -> dict:
    """Latency percentiles (ms) and throughput of the messages answered between ``start`` and ``end``."""
    done = [s for s in samples if start <= s.end < end]
    latencies = [1000.0 * (s.end - s.start) for s in done if s.ok]
    errors = sum(1 for s in done if not s.ok)
    seconds = end - start
    return {
        "seconds": seconds,
        "messages": len(done),
        "errors": errors,
        "error_rate": errors / len(done) if done else 0.0,
        "msg_per_s": len(done) / seconds if seconds > 0 else 0.0,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies) if latencies else None,
    }


def over_limit(step: Mapping, p95_limit_ms: float, max_error_rate: float) -> bool:
    return step["p95_ms"] is None or step["p95_ms"] > p95_limit_ms or step["error_rate"] > max_error_rate


def sustained(steps: Sequence[dict], p95_limit_ms: float, max_error_rate: float = 0.01) -> dict | None:
    """The step with the most messages per second among those with p95 under the limit and (almost) no errors."""
    good = [s for s in steps if not over_limit(s, p95_limit_ms, max_error_rate)]
    return max(good, key=lambda s: s["msg_per_s"]) if good else None


def user_ladder(first_steps: Sequence[int], max_users: int, growth: float = 1.25) -> list[int]:
    """``first_steps``, then growing by ``growth`` (at least one user) each step up to ``max_users``."""
    ladder = [u for u in first_steps if u <= max_users]
    users = ladder[-1] if ladder else 1
    while users < max_users:
        users = min(max_users, max(users + 1, round(users * growth)))
        ladder.append(users)
    return ladder


def find_knee(
    generator: LoadGenerator,
    user_steps: Sequence[int],
    step_seconds: float,
    warmup_seconds: float,
    p95_limit_ms: float,
    cap_deadline: float,
    max_users: int = 1000,
    max_error_rate: float = 0.05,
    extra: Callable[[float, float], dict] | None = None,
    log: Callable[[str], None] = print,
    confirm: bool = True,
    turn: Callable[[], AbstractContextManager[object]] | None = None,
    contended: Callable[[Mapping], bool] | None = None,
) -> dict:
    """Raise the number of users step by step until p95 passes the limit (the knee) or errors pile up.

    The steps are ``user_steps`` and then 25 % more users per step (``user_ladder``) up to ``max_users``. There is no
    time budget that ends the search early: only ``cap_deadline`` (a ``time.monotonic()``, a safety cap) or
    ``max_users`` stop it before the knee, and the result says so (``stopped``: "knee", "errors", "cap" or
    "max_users"). Each step adds users, waits ``warmup_seconds`` for them to settle, then measures ``step_seconds``;
    ``extra(start, end)`` adds figures for the window (CPU of the servers). With ``confirm``, a step whose p95 passes
    the limit is measured once more at the same number of users (marked ``retried``), and the knee is the second
    window over the limit: one slow window (another job on the machine) does not end the search. With ``turn``, each
    window (its settling included) is measured inside ``turn()``: several setups take turns (``bench/alternate.py``).
    ``contended(step)`` says that other work on the machine took much of it during the window: such a window over the
    limit is measured again (``CONTENDED_RETRIES`` times at most, marked ``contended``) before it counts as the knee.
    """
    steps: list[dict] = []
    stopped = "max_users"

    def measure(users: int, settle: float) -> dict:
        with (turn or _always)():
            generator.set_users(users)
            time.sleep(settle if turn is None else max(settle, warmup_seconds))  # after its rest: settle again
            start = time.monotonic()
            time.sleep(step_seconds)
            end = time.monotonic()
        step = {"users": users, **window_stats(generator.samples, start, end)}
        if extra is not None:
            step.update(extra(start, end))
        steps.append(step)
        log(
            f"  load: {users:4d} users  {step['msg_per_s']:6.1f} msg/s  p50 {_ms(step['p50_ms'])}  "
            f"p95 {_ms(step['p95_ms'])}  p99 {_ms(step['p99_ms'])}  errors {step['errors']}"
        )
        return step

    for users in user_ladder(user_steps, max_users):
        if time.monotonic() + warmup_seconds + step_seconds > cap_deadline:
            log(f"  load: the time cap was reached before {users} users, below the knee")
            stopped = "cap"
            break
        step = measure(users, warmup_seconds)
        if step["error_rate"] > max_error_rate:
            stopped = "errors"
            break
        if step["p95_ms"] is None:
            stopped = "no answers"  # nothing answered in the window: not a knee
            break
        if over_limit(step, p95_limit_ms, max_error_rate) and confirm:
            # one window over the limit may be a passing hiccup (a collection, another job): measure it again
            step["retried"] = True
            if time.monotonic() + step_seconds <= cap_deadline:
                step = measure(users, 0.0)
            extra_windows = 0  # other work filled the machine: not this setup's knee; again, a few times at most
            while (
                over_limit(step, p95_limit_ms, max_error_rate)
                and contended is not None
                and contended(step)
                and extra_windows < CONTENDED_RETRIES
                and time.monotonic() + step_seconds <= cap_deadline
            ):
                step["contended"] = True
                extra_windows += 1
                step = measure(users, 0.0)
        if over_limit(step, p95_limit_ms, max_error_rate):
            stopped = "errors" if step["error_rate"] > max_error_rate else "knee"
            break
    return {"steps": steps, "stopped": stopped}


@contextmanager
def _always() -> Iterator[None]:
    yield


def _ms(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:5.0f}ms"
