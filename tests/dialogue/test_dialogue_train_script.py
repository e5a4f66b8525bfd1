"""scripts/train.sh trains only when the model is missing or stale (its inputs' hash differs from the newest
model's), with a stand-in for ``rasa`` that records each call and writes a model file. Fast: no Rasa involved."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_RASA = """#!/usr/bin/env bash
# stand-in for `rasa train --out DIR [...]`: logs the call, writes a new model file
echo "$@" >> "$(dirname "$0")/calls.log"
out=models
while [[ $# -gt 0 ]]; do [[ "$1" == "--out" ]] && out="$2"; shift; done
mkdir -p "$out"
touch "$out/$(date +%Y%m%d-%H%M%S)-$RANDOM.tar.gz"
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "train.sh", tmp_path / "scripts" / "train.sh")
    (tmp_path / "config.yml").write_text("recipe: default.v1\n")
    (tmp_path / "domain.yml").write_text("version: '3.1'\n")
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "greet.yml").write_text("version: '3.1'\nnlu: []\n")
    fake = tmp_path / "bin" / "rasa"
    fake.parent.mkdir()
    fake.write_text(FAKE_RASA)
    fake.chmod(0o755)
    return tmp_path


def train(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(project / "scripts" / "train.sh"), *args],
        cwd=project,
        text=True,
        capture_output=True,
        env={**os.environ, "RASA": str(project / "bin" / "rasa")},
        timeout=60,
    )


def calls(project: Path) -> int:
    log = project / "bin" / "calls.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_trains_when_missing_then_not_again_until_an_input_changes(project):
    assert train(project, "--check").returncode == 1, "no model yet: stale"
    first = train(project)
    assert first.returncode == 0, first.stderr
    assert calls(project) == 1
    assert train(project, "--check").returncode == 0

    again = train(project)
    assert again.returncode == 0 and "up to date" in again.stdout
    assert calls(project) == 1, "a fresh model is not trained again"

    (project / "data" / "nlu" / "greet.yml").write_text("version: '3.1'\nnlu:\n- intent: greet\n")
    assert train(project, "--check").returncode == 1, "changed training data makes the model stale"
    assert train(project).returncode == 0
    assert calls(project) == 2


def test_a_newer_model_from_elsewhere_or_force_retrains(project):
    assert train(project).returncode == 0
    time.sleep(1.1)  # a newer mtime
    (project / "models" / "29990101-000000-other.tar.gz").touch()
    assert train(project, "--check").returncode == 1, "the newest model is not the one the hash was taken for"
    time.sleep(1.1)
    assert train(project, "--force").returncode == 0
    assert calls(project) == 2
    assert train(project, "--check").returncode == 0


def test_old_models_are_pruned(project):
    for _ in range(5):
        assert train(project, "--force").returncode == 0
        time.sleep(1.1)
    assert len(list((project / "models").glob("*.tar.gz"))) == 3


def test_a_project_without_config_is_an_error(project):
    (project / "config.yml").unlink()
    result = train(project)
    assert result.returncode == 1 and "config.yml" in result.stderr
