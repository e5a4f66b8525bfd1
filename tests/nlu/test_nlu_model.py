"""Slow: check the fixed-format extraction end to end with the project's trained model (models/, as `make test`
trains it); without one, train the NLU pipeline of config.yml on part of the data first.

The pipeline is config.yml's (same tokenizer, featurizers, RegexEntityExtractor, RegexOwnedEntityFilter,
EntitySynonymMapper), without the ResponseSelectors (and DIET cut to 1 epoch if a config has it) so it trains quickly:
the entities checked here come from the regexes and lookup tables, not from a learned extractor.  Runs .venv-rasa in a
subprocess (this suite runs in .venv-engine).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from tests.nlu.conftest import NLU_DIR, RASA_PY, ROOT

TRAIN_FILES = (
    "lookups.yml",
    "identity_inform.yml",
    "chitchat.yml",
    "cancellation.yml",
    "warranty.yml",
    "returns.yml",
    "transit.yml",
)

pytestmark = pytest.mark.slow


def quick_config(tmp_path):
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    pipeline = []
    for component in config["pipeline"]:
        if component["name"].endswith("ResponseSelector"):  # Rasa's, or nlu_components.response_selector's
            continue
        if component["name"] == "DIETClassifier":
            component = {**component, "epochs": 1, "number_of_transformer_layers": 0}
        pipeline.append(component)
    path = tmp_path / "config.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "recipe": config["recipe"],
                "language": config["language"],
                "assistant_id": config["assistant_id"],
                "pipeline": pipeline,
            }
        )
    )
    return path


MESSAGES = (
    "order ak1234567 from last week, email jo@x.com, the charger died, serial A2633C1F23100457",
    "Maria.Lopez+anker@gmail.com",
    "its AK7654321 and my email is first.last@sub.company.io.",
    "order AK123456 and serial A2633C1F2310045 and email jo@x",
    "bought it on amzn in germany, still sealed",
    "my package never arrived",
)


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict[str, dict]:
    """Train once, parse every message of this module in one subprocess (loading a model takes a while)."""
    if not RASA_PY.exists():
        pytest.skip(".venv-rasa not installed")
    tmp_path = tmp_path_factory.mktemp("nlu_model")
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(tmp_path / "cache"), "RASA_TELEMETRY_ENABLED": "false"}
    model = trained_model() or train_quick_model(tmp_path, env)
    result = subprocess.run(
        [str(RASA_PY), str(ROOT / "scripts" / "measure_nlu.py"), "parse", "--model", str(model), *MESSAGES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {r["text"]: r for r in json.loads(result.stdout.strip().splitlines()[-1])}


def trained_model():
    """The project's model as `make test` trained it (newest in models/), if there is one: the real pipeline."""
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def train_quick_model(tmp_path, env):
    data = tmp_path / "data"
    data.mkdir()
    for name in TRAIN_FILES:
        shutil.copy(NLU_DIR / name, data / name)
    train = subprocess.run(
        [
            str(ROOT / ".venv-rasa" / "bin" / "rasa"),
            "train",
            "nlu",
            "--config",
            str(quick_config(tmp_path)),
            "--nlu",
            str(data),
            "--out",
            str(tmp_path / "models"),
            "--fixed-model-name",
            "quick",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    return tmp_path / "models" / "quick.tar.gz"


def entities(result: dict, kind: str) -> list[tuple[str, str]]:
    return [(e["value"], e.get("extractor")) for e in result["entities"] if e["entity"] == kind]


def test_fixed_formats_extracted_exactly_once(parsed):
    one, two, three, four = (parsed[m] for m in MESSAGES[:4])
    assert entities(one, "order_number") == [("ak1234567", "RegexEntityExtractor")]
    assert entities(one, "email") == [("jo@x.com", "RegexEntityExtractor")]
    assert entities(one, "serial_number") == [("A2633C1F23100457", "RegexEntityExtractor")]
    assert entities(two, "email") == [("Maria.Lopez+anker@gmail.com", "RegexEntityExtractor")]
    assert entities(three, "order_number") == [("AK7654321", "RegexEntityExtractor")]
    assert entities(three, "email") == [("first.last@sub.company.io", "RegexEntityExtractor")]
    assert [e["entity"] for e in four["entities"] if e["entity"] in ("order_number", "serial_number", "email")] == []


def test_closed_lists_are_normalised(parsed):
    result = parsed[MESSAGES[4]]
    assert [v for v, _ in entities(result, "channel")] == ["amazon"]
    assert [v for v, _ in entities(result, "country")] == ["DE"]
    assert [v for v, _ in entities(result, "condition")] == ["unopened"]
    assert [v for v, _ in entities(parsed[MESSAGES[5]], "transit_problem")] == ["lost"]
