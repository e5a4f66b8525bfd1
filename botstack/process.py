"""One child process of the stack: its own process group, its output copied to a log file (and the console)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from botstack.paths import CHILD_UMASK, ROOT


class Child:
    """One server process in its own process group, its output copied to a log file (and optionally the console)."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path, echo: bool) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # owner-only, like everything the children write (the log holds conversation ids)
        # kept open while the child runs (the output pump writes to it); stop() closes it
        self._log = open(  # noqa: SIM115
            os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", encoding="utf-8", errors="replace"
        )
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # own process group: Ctrl-C reaches the supervisor only, stop() ends the group
            umask=CHILD_UMASK,  # databases, logs and uploads readable by their owner only
        )
        self.env = dict(env)
        self.echo = echo
        self.restarts = 0
        self._pump = threading.Thread(target=self._copy_output, args=(echo,), name=f"log-{name}", daemon=True)
        self._pump.start()

    def _copy_output(self, echo: bool) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._log.write(line)
            self._log.flush()
            if echo:
                sys.stdout.write(f"[{self.name}] {line}")
                sys.stdout.flush()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the child's process group, SIGKILL after ``timeout`` seconds."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        else:
            # the leader is gone; make sure nothing it started is left in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._pump.join(timeout=5)
        self._log.close()
