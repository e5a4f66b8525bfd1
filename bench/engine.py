"""Item 4 of the benchmark: policy decisions per second, pure and persisted, measured by ``bench/engine_bench.py``.

``bench/engine_bench.py`` belongs to the store part of the project; this module only runs it (in .venv-engine, the
interpreter running the benchmark) and files its figures under ``engine`` in bench.json.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from bench import paths


def _options(script: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=paths.ROOT,
        env=paths.quiet_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout + result.stderr


def headline(figures: object, prefix: str = "") -> dict[str, float]:
    """Every "... per second" figure of the engine benchmark's JSON, flattened to ``a.b.c`` keys."""
    found: dict[str, float] = {}
    if isinstance(figures, dict):
        for key, value in figures.items():
            name = f"{prefix}{key}"
            if isinstance(value, (int, float)) and not isinstance(value, bool) and re.search(r"per_s|/s|_ps$", name):
                found[name] = float(value)
            elif isinstance(value, dict):
                found.update(headline(value, f"{name}."))
    return found


def run(work: Path, smoke: bool = False, timeout: float = 300.0) -> dict:
    script = paths.ENGINE_BENCH
    if not script.is_file():
        return {"skipped": f"{script.relative_to(paths.ROOT)} does not exist yet"}
    options = _options(script)
    argv = [sys.executable, str(script)]
    out = work / "engine_bench.json"
    out.unlink(missing_ok=True)
    if "--json" in options:
        argv += ["--json", str(out)]
    if smoke:
        for flag in ("--smoke", "--quick"):
            if flag in options:
                argv.append(flag)
                break
        else:
            return {"skipped": "engine_bench.py has no --smoke/--quick option"}
    result = subprocess.run(
        argv, cwd=paths.ROOT, env=paths.quiet_env(), capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"engine_bench.py failed (exit {result.returncode}): {result.stderr[-2000:]}")
    figures: object = None
    if out.is_file():
        figures = json.loads(out.read_text(encoding="utf-8"))
    else:
        try:
            figures = json.loads(result.stdout)
        except ValueError:
            figures = None
    return {
        "command": " ".join(argv[1:]),
        "figures": figures,
        "headline": headline(figures),
        "output": result.stdout[-4000:],
    }
