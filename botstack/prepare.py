"""What is done before the servers start: the model trained when stale, the support database migrated and seeded,
owner-only modes on the files an earlier version may have left readable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import IO

from botstack.paths import CHILD_UMASK, ENGINE_PYTHON, QUIET_ENV, ROOT, StackError
from botstack.settings import Settings

# ---- model -------------------------------------------------------------------------------------------------------


def model_exists(models: str | Path = ROOT / "models") -> bool:
    path = Path(models)
    if not path.is_absolute():
        path = ROOT / path
    if path.is_file():
        return True
    return path.is_dir() and any(path.glob("*.tar.gz"))


def train_if_stale(check_only: bool = False) -> None:
    """``scripts/train.sh``: trains only when the model is missing or its inputs changed."""
    args = ["bash", str(ROOT / "scripts" / "train.sh")]
    if check_only:
        args.append("--check")
    result = subprocess.run(args, cwd=ROOT, env={**os.environ, **QUIET_ENV})
    if result.returncode != 0:
        raise StackError("training failed (scripts/train.sh); see the output above")


#: the built-in inbox's first agent account, created by ``make run`` and the test stacks
DEMO_AGENT = "demo"

# ---- database ----------------------------------------------------------------------------------------------------


def prepare_database(settings: Settings, seed: bool = True, log: IO[str] | None = None) -> None:
    """Create/migrate the support database and load the demo data (``python -m policy_engine migrate|load-demo``)."""
    if settings.database_url.startswith("sqlite:///"):
        db_path = Path(settings.database_url[len("sqlite:///") :])
        if not db_path.is_absolute():
            db_path = ROOT / db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
    if settings.tracker_store_url.startswith("sqlite:///"):
        tracker_path = Path(settings.tracker_store_url[len("sqlite:///") :])
        if not tracker_path.is_absolute():
            tracker_path = ROOT / tracker_path
        tracker_path.parent.mkdir(parents=True, exist_ok=True)
    # the demo agent of the built-in inbox (issue 17): its password is INBOX_DEMO_PASSWORD (var/secrets.env)
    demo_agent = ["agent", "add", "--name", DEMO_AGENT, "--password-env", "INBOX_DEMO_PASSWORD", "--if-missing"]
    with_agent = seed and bool(settings.secrets.get("INBOX_DEMO_PASSWORD"))
    commands = [["migrate"]] + ([["load-demo"]] if seed else []) + ([demo_agent] if with_agent else [])
    for command in commands:
        result = subprocess.run(
            [str(ENGINE_PYTHON), "-m", "policy_engine", *command],
            cwd=ROOT,
            env=settings.child_env(),
            umask=CHILD_UMASK,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if log is not None and result.stdout:
            log.write(result.stdout)
            log.flush()
        if result.returncode != 0:
            raise StackError(
                f"`python -m policy_engine {' '.join(command)}` failed (exit {result.returncode}):\n"
                f"{result.stdout[-4000:]}"
            )


def private_files(settings: Settings) -> None:
    """Owner-only modes on the SQLite files and logs an earlier version may have created world-readable."""
    for url in (settings.database_url, settings.tracker_store_url):
        if url.startswith("sqlite:///"):
            path = Path(url[len("sqlite:///") :])
            path = path if path.is_absolute() else ROOT / path
            for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                if candidate.exists():
                    os.chmod(candidate, 0o600)
