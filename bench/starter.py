"""Rasa's starter bot: the project ``rasa init --no-prompt`` writes and trains (rasa 3.6.21's moodbot), the reference
the serving benchmark compares against (issue 14: "the ratio to the starter bot").

It is written and trained into ``<work>/starter/`` once per pinned Rasa (``requirements/rasa.txt``); later runs reuse
it. It is served as ``rasa run`` serves it: its own ``credentials.yml`` (Rasa's open ``rest`` channel),
``endpoints.yml`` (nothing configured: in-memory tracker and lock store, no action server).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from bench import paths
from bench.procmon import run_measured


def _stamp() -> str:
    return hashlib.sha256(paths.RASA_REQUIREMENTS.read_bytes()).hexdigest()[:16]


def starter_bot(work: Path, timeout: float = 1800.0) -> dict:
    """``{"project_dir", "model", "training": {...}}``: the starter bot, trained now or by an earlier run."""
    home = work / "starter"
    project = home / "bot"
    record_path = home / "training.json"
    if record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        models = sorted((project / "models").glob("*.tar.gz"))
        if record.get("stamp") == _stamp() and models:
            return {"project_dir": project, "model": models[-1], "training": {**record, "reused": True}}
    shutil.rmtree(home, ignore_errors=True)
    project.mkdir(parents=True)
    (home / "log").mkdir()
    measured = run_measured(
        [str(paths.RASA_BIN), "init", "--no-prompt", "--init-dir", str(project)],
        cwd=project,
        env=paths.quiet_env(),
        log_path=home / "log" / "rasa_init.log",
        timeout=timeout,
    )
    models = sorted((project / "models").glob("*.tar.gz"))
    if measured.returncode != 0 or not models:
        raise RuntimeError(f"rasa init failed (exit {measured.returncode}); see {home / 'log' / 'rasa_init.log'}")
    record = {
        "stamp": _stamp(),
        "wall_seconds": measured.wall_seconds,
        "cpu_seconds": measured.cpu_seconds,
        "peak_rss_mb": measured.peak_rss_mb,
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    record_path.write_text(json.dumps(record), encoding="utf-8")
    return {"project_dir": project, "model": models[-1], "training": {**record, "reused": False}}
