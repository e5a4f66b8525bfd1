"""The running assistant: ``Stack.start()`` prepares and starts every server and waits until each answers,
``supervise()`` restarts one that dies, ``stop()`` ends them all."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from botstack import balancer
from botstack.paths import ENGINE_PYTHON, StackError
from botstack.prepare import model_exists, prepare_database, private_files
from botstack.process import Child
from botstack.servers import action_server_ready, inbox_ready, rasa_ready, rasa_run_argv
from botstack.settings import Settings, free_port
from botstack.web import WebServer

#: the supervisor restarts a crashed server; more than this many restarts within RESTART_WINDOW seconds is a crash loop
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


@dataclass
class Stack:
    """The running assistant. ``start()`` brings everything up and waits until it answers; ``stop()`` ends it."""

    settings: Settings
    echo: bool = False  # copy the servers' output to the console (make run) or only to log files (tests)
    with_web: bool = True
    with_rasa: bool = True
    with_inbox: bool = True  # the built-in agent inbox (issue 17)
    seed: bool = True
    external: bool = False  # already running elsewhere (BOT_TEST_EXTERNAL): start/stop do nothing
    children: list[Child] = field(default_factory=list)
    web: WebServer | None = None
    #: how to tell that a child is ready, by its name (the default: the action server's health route)
    ready_checks: dict[str, Callable[[Settings], bool]] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.settings.var_dir / "log"

    def start(self, timeout: float = 240.0) -> Stack:
        self.settings = self.settings.with_secrets(announce=sys.stdout if self.echo else None)
        if self.external:
            return self
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        if self.with_rasa and self.settings.rasa_processes > 1:  # botstack/balancer.py: nginx in front of them
            ports = tuple(free_port("127.0.0.1") for _ in range(self.settings.rasa_processes))
            self.settings = replace(self.settings, rasa_internal_ports=ports)
        s = self.settings
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(
            os.open(self.log_dir / "database.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", encoding="utf-8"
        ) as log:
            prepare_database(s, seed=self.seed, log=log)
        private_files(s)
        env = s.child_env()
        if action_server_ready(s):
            raise StackError(f"port {s.action_port} already has an action server: stop it or set ACTION_PORT")
        self.children.append(
            Child(
                "actions",
                [str(ENGINE_PYTHON), "-m", "actions.server", "--port", str(s.action_port)],
                env,
                self.log_dir / "actions.log",
                self.echo,
            )
        )
        if self.with_rasa:
            if not model_exists(s.models):
                raise StackError(f"no trained model in {s.models}: run `make train`")
            if s.rasa_internal_ports:
                self._start_balanced_rasa(env, timeout)
            else:
                self.children.append(Child("rasa", rasa_run_argv(s), env, self.log_dir / "rasa.log", self.echo))
                self.ready_checks["rasa"] = rasa_ready
        if self.with_inbox:
            self.children.append(
                Child(
                    "inbox",
                    [str(ENGINE_PYTHON), "-m", "policy_engine", "inbox", "--host", s.host, "--port", str(s.inbox_port)],
                    env,
                    self.log_dir / "inbox.log",
                    self.echo,
                )
            )
        if self.with_web:
            self.web = WebServer(s)
        self.wait_ready(timeout)

    def _start_balanced_rasa(self, env: dict[str, str], timeout: float) -> None:
        """Redis, the Rasa processes on their loopback ports, nginx on RASA_PORT (botstack/balancer.py)."""
        s = self.settings
        if balancer.redis_ready(s):
            raise StackError(f"port {s.redis_port} already has a Redis: stop it or set REDIS_PORT")
        self.children.append(balancer.redis_child(s, self.log_dir, self.echo))
        self.ready_checks["redis"] = balancer.redis_ready
        self.wait_ready(min(timeout, 30.0))
        rasa_env = {**env, **balancer.shared_env(s, env)}
        for number, port in enumerate(s.rasa_internal_ports, 1):
            name = f"rasa-{number}"
            argv = rasa_run_argv(s, port=port)
            self.children.append(Child(name, argv, rasa_env, self.log_dir / f"{name}.log", self.echo))
            self.ready_checks[name] = partial(rasa_ready, port=port)
        self.children.append(balancer.nginx_child(s, env, self.log_dir, self.echo))
        self.ready_checks["nginx"] = rasa_ready  # through nginx, on RASA_PORT

    def wait_ready(self, timeout: float) -> None:
        checks: list[tuple[Child, Callable[[Settings], bool]]] = []
        for child in self.children:
            readiness = {"inbox": inbox_ready, **self.ready_checks}
            checks.append((child, readiness.get(child.name, action_server_ready)))
        deadline = time.monotonic() + timeout
        pending = list(checks)
        while pending:
            for child, ready in list(pending):
                if not child.alive():
                    raise StackError(
                        f"the {child.name} server exited with code {child.process.returncode} while starting; "
                        f"its log ({child.log_path}) ends with:\n{child.log_tail()}"
                    )
                if ready(self.settings):
                    pending.remove((child, ready))
            if not pending:
                return
            if time.monotonic() > deadline:
                names = ", ".join(child.name for child, _ in pending)
                tails = "\n".join(f"--- {c.name} ({c.log_path}):\n{c.log_tail(2000)}" for c, _ in pending)
                raise StackError(f"not ready after {timeout:.0f} s: {names}\n{tails}")
            time.sleep(0.5)

    def restart(self, child: Child) -> Child:
        """Start a dead child again with the same command, environment and log (the supervisor's restart)."""
        index = self.children.index(child)
        child.stop()
        fresh = Child(child.name, child.argv, child.env, child.log_path, child.echo)
        fresh.restarts = child.restarts + 1
        self.children[index] = fresh
        return fresh

    def supervise(
        self, keep_running: Callable[[], bool] = lambda: True, *, poll: float = 1.0, say: Callable[[str], None] = print
    ) -> int:
        """Watch the children until ``keep_running()`` is false (0): a child that died is restarted and the others
        keep running; a crash loop (more than ``MAX_RESTARTS`` within ``RESTART_WINDOW`` s) gives up (1)."""
        restarts: list[float] = []
        while keep_running():
            dead = self.first_dead_child()
            if dead is not None:
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < RESTART_WINDOW]
                code = dead.process.returncode
                if len(restarts) >= MAX_RESTARTS:
                    say(
                        f"the {dead.name} server exited with code {code} again ({len(restarts) + 1} times within "
                        f"{RESTART_WINDOW:.0f} s); giving up. Its log: {dead.log_path}"
                    )
                    return 1
                restarts.append(now)
                say(
                    f"the {dead.name} server exited with code {code}; restarting it, the others keep running. "
                    f"Its log: {dead.log_path}"
                )
                self.restart(dead)
            time.sleep(poll)
        return 0

    def ensure_web(self) -> WebServer | None:
        """Start the chat page server if it is not running (the browser tests build the bundle first); None for an
        external stack."""
        if self.web is None and not self.external:
            self.web = WebServer(self.settings)
        return self.web

    def first_dead_child(self) -> Child | None:
        return next((child for child in self.children if not child.alive()), None)

    def stop(self) -> None:
        """Stop in reverse order of start; safe to call twice."""
        if self.web is not None:
            self.web.stop()
            self.web = None
        while self.children:
            self.children.pop().stop()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
