"""Item 5 (training: wall time and peak memory, cold and cached; model size) and item 2 (test-story results)."""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bench import paths
from bench.procmon import run_measured

MB = 1024 * 1024


def train(config: Path, name: str, out_dir: Path, cache_dir: Path, log_dir: Path, timeout: float,
          domain: Path = paths.DOMAIN, data: Path = paths.DATA) -> dict:
    """``rasa train`` of ``config`` on the project's data and domain into ``out_dir/<name>.tar.gz``.

    ``cache_dir`` is Rasa's training cache (RASA_CACHE_DIRECTORY): empty for a cold run, filled by an earlier run of
    the same config for a cached one. ``out_dir`` must hold no earlier model, or Rasa would skip training.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(paths.RASA_BIN), "train",
        "--config", str(config), "--domain", str(domain), "--data", str(data),
        "--out", str(out_dir), "--fixed-model-name", name,
    ]
    log = log_dir / f"train-{name}-{out_dir.name}.log"
    measured = run_measured(
        argv, cwd=paths.ROOT, env=paths.quiet_env(RASA_CACHE_DIRECTORY=str(cache_dir)), log_path=log,
        timeout=timeout,
    )
    model = out_dir / f"{name}.tar.gz"
    if measured.returncode != 0 or not model.is_file():
        raise RuntimeError(f"rasa train of {config.name} failed (exit {measured.returncode}); see {log}")
    return {
        "wall_seconds": measured.wall_seconds,
        "cpu_seconds": measured.cpu_seconds,
        "peak_rss_mb": measured.peak_rss_mb,
        "model_mb": model.stat().st_size / MB,
        "model": str(model),
        "log": str(log),
    }


def train_config(config: Path, name: str, work: Path, cached: bool, timeout: float) -> dict:
    """Cold training (fresh cache), then optionally a cached one (same cache, fresh output dir)."""
    cache = work / f"cache-{name}"
    shutil.rmtree(cache, ignore_errors=True)
    for sub in ("cold", "cached"):
        shutil.rmtree(work / "models" / name / sub, ignore_errors=True)
    result = {"cold": train(config, name, work / "models" / name / "cold", cache, work / "log", timeout)}
    if cached:
        result["cached"] = train(config, name, work / "models" / name / "cached", cache, work / "log", timeout)
    return result


def default_config_copy(work: Path) -> Path:
    """Rasa fills an empty pipeline into the config file it trains with: train a copy, keep bench/ untouched."""
    work.mkdir(parents=True, exist_ok=True)
    copy = work / "default_config.yml"
    shutil.copyfile(paths.DEFAULT_CONFIG, copy)
    return copy


# ---- item 2: conversation tests ------------------------------------------------------------------------------------


def count_stories(path: Path) -> int:
    """Stories in a file ``rasa test`` writes (a comment only when there are none)."""
    if not path.is_file():
        return 0
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return len(document.get("stories") or [])


def story_results(out: Path) -> dict:
    """Share of test stories predicted without an error, from the files ``rasa test core --successes`` writes
    (``bench/rasa_eval.py`` runs it while the model is loaded for item 1)."""
    failed_file = out / "failed_test_stories.yml"
    if not failed_file.is_file():
        raise RuntimeError(f"no test-story results in {out} (see var/bench/log/rasa_eval.log)")
    failed = count_stories(failed_file)
    passed = count_stories(out / "successful_test_stories.yml")
    total = failed + passed
    return {
        "stories": total,
        "passed": passed,
        "failed": failed,
        "pass_rate": passed / total if total else None,
        "failed_file": str(failed_file),
    }
