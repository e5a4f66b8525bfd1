"""Item 5 (training: wall time and peak memory, cold and cached; model size) and item 2 (test-story results)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

import yaml

from bench import paths
from bench.procmon import run_measured

MB = 1024 * 1024


def train(
    config: Path,
    name: str,
    out_dir: Path,
    cache_dir: Path,
    log_dir: Path,
    timeout: float,
    domain: Path = paths.DOMAIN,
    data: Path = paths.DATA,
) -> dict:
    """``rasa train`` of ``config`` on the project's data and domain into ``out_dir/<name>.tar.gz``.

    ``cache_dir`` is Rasa's training cache (RASA_CACHE_DIRECTORY): empty for a cold run, filled by an earlier run of
    the same config for a cached one. ``out_dir`` must hold no earlier model, or Rasa would skip training.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(paths.RASA_BIN),
        "train",
        "--config",
        str(config),
        "--domain",
        str(domain),
        "--data",
        str(data),
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]
    log = log_dir / f"train-{name}-{out_dir.name}.log"
    measured = run_measured(
        argv,
        cwd=paths.ROOT,
        env=paths.quiet_env(RASA_CACHE_DIRECTORY=str(cache_dir)),
        log_path=log,
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


def fingerprint(
    config: Path, domain: Path = paths.DOMAIN, data: Path = paths.DATA, requirements: Path = paths.RASA_REQUIREMENTS
) -> str:
    """What a trained model depends on: the config, the domain, every training file and the pinned Rasa version."""
    digest = hashlib.sha256()
    files = [config, domain, requirements] + sorted(p for p in data.rglob("*") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(paths.ROOT) if path.is_relative_to(paths.ROOT) else path.name).encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def train_or_reuse(config: Path, train_with: Path, name: str, work: Path, timeout: float) -> dict:
    """Rasa's default config takes over half an hour to train on 2 cores: train it cold once per fingerprint of its
    inputs, keep its training figures beside the model, and reuse both while nothing it depends on changed.

    ``config`` is fingerprinted (the file as committed); ``train_with`` is the copy Rasa trains with.
    """
    home = work / "models" / name / "cold"
    record_path = home / "training.json"
    expected = fingerprint(config)
    if record_path.is_file() and (home / f"{name}.tar.gz").is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record.get("fingerprint") == expected:
            record["reused"] = f"trained by an earlier run at {record.get('measured_at')}; inputs unchanged"
            return {"cold": record}
    result = train_config(train_with, name, work, cached=False, timeout=timeout)
    result["cold"].update(
        fingerprint=expected,
        measured_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        load_average_1m=os.getloadavg()[0],
    )
    record_path.write_text(json.dumps(result["cold"], indent=1), encoding="utf-8")
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
