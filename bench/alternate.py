"""Several serving setups measured step by step in turn, so that each sees the same share of the machine's other work.

Run one after the other, the setups of a serving run met different machines: on this shared 2-core machine other
sessions' training and tests came and went within minutes, and at 16:57-17:02 on 2026-12-03 the machine had no idle
CPU left from 16 users on while the servers measured used less than one core of the two (docs/bench.md, "What
limits the serving figures"). A setup measured while the others' jobs ran met its knee early; one measured in a quiet
minute did not. So all setups are started first, and each load step is measured for every setup in turn: setup A at
8 users, setup B at 8 users, A at 10, B at 10, ..., each resting (its virtual users paused, ``LoadGenerator.pause``)
while another is measured. A setup leaves the rotation at its knee (or cap); the others go on. Each window also
records the machine's whole CPU and what other processes took (``others_cpu_percent``), so a reader sees what a
figure was measured against.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.load import LoadGenerator, Script
from bench.serving import LoadPlan, Setup, _warm_up, measure, started


class Turnstile:
    """Round-robin turns among named participants: one at a time, in a fixed order; a participant that is done
    leaves the rotation."""

    def __init__(self, names: Sequence[str]) -> None:
        self._order = list(names)
        self._current = 0
        self._busy = False
        self._changed = threading.Condition()

    @contextmanager
    def turn(self, name: str) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._busy and self._order[self._current] == name)
            self._busy = True
        try:
            yield
        finally:
            with self._changed:
                self._busy = False
                self._current = (self._order.index(name) + 1) % len(self._order)
                self._changed.notify_all()

    def leave(self, name: str) -> None:
        with self._changed:
            at = self._order.index(name)
            self._order.remove(name)
            if self._order:
                self._current = (self._current - (at < self._current)) % len(self._order)
            self._changed.notify_all()


def paused_turn(turnstile: Turnstile, name: str) -> Callable[[LoadGenerator], Callable[[], object]]:
    """For ``measure(turn=...)``: the setup's users play only during its own turn."""

    def for_generator(generator: LoadGenerator) -> Callable[[], object]:
        @contextmanager
        def turn() -> Iterator[None]:
            with turnstile.turn(name):
                generator.resume()
                try:
                    yield
                finally:
                    generator.pause()

        return turn

    return for_generator


def run_setups(
    setups: Sequence[Setup], scripts: Sequence[Script], plan: LoadPlan, work: Path, log: Callable[[str], None] = print
) -> dict[str, dict]:
    """Start every setup, then find every knee with the setups measured step by step in turn; stop them all.

    A setup that fails to start gets ``{"error": ...}`` and the others run. The cap (``plan.cap_seconds``) is per
    setup, so the turns together may take that many times the number of setups."""
    results: dict[str, dict] = {}
    with ExitStack() as running_stack:
        running = {}
        for setup in setups:
            try:
                running[setup.name] = running_stack.enter_context(started(setup, plan, work, log))
            except Exception as error:  # noqa: BLE001 - reported for this setup; the others run
                log(f"  {setup.name}: FAILED to start: {error}")
                results[setup.name] = {"error": f"{type(error).__name__}: {error}"[:2000]}
        chosen = [s for s in setups if s.name in running]
        for setup in chosen:  # warm-up, one setup at a time (unmeasured; see serving._warm_up)
            r = running[setup.name]
            processes = max(setup.rasa_workers or 1, setup.rasa_processes)
            _warm_up(r.url, r.token, scripts, len(scripts) * processes, plan.warmup_total_seconds)
        turnstile = Turnstile([s.name for s in chosen])
        cap = plan.cap_seconds * max(1, len(chosen))
        quiet = LoadPlan(**{**plan.__dict__, "warmup_total_seconds": 0.0})  # warmed up above

        def one(setup: Setup) -> None:
            r = running[setup.name]
            try:
                turn = paused_turn(turnstile, setup.name)
                result = measure(setup, r.url, r.token, r.groups, scripts, quiet, log, turn=turn, cap_seconds=cap)
                results[setup.name] = {"startup_seconds": r.startup_seconds, **result, "logs": r.logs}
            except Exception as error:  # noqa: BLE001
                results[setup.name] = {"error": f"{type(error).__name__}: {error}"[:2000]}
            finally:
                turnstile.leave(setup.name)

        threads = [threading.Thread(target=one, args=(s,), name=f"knee-{s.name}") for s in chosen]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return {s.name: results[s.name] for s in setups if s.name in results}
