"""Item 1 of the benchmark: intent and entity understanding of two trained models on the same held-out sets.

The held-out sets are Rasa NLU YAML files (read with ``nlu_tools/nlu_yaml.py``, the project's one parser):
``nlu_eval/own_heldout.yml`` (the project's own held-out utterances) and ``nlu_eval/bitext_heldout.yml`` (Bitext
utterances mapped to the bot's intents by ``nlu_eval/bitext_intent_map.yml``, out-of-scope intents included). The
Bitext linguistic flags are looked up in the Bitext CSV by normalised utterance (``nlu_tools.nlu_yaml.normalize``).
Issue 15's test sets are never scored here, in no mode, until ``bench.score_once`` has scored them once
(``paths.never_scored()``); ``load_heldout`` refuses them.
Predictions come from ``bench/rasa_eval.py`` run in ``.venv-rasa``, which also runs the test stories (item 2) while
each model is loaded.
"""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import paths
from bench.metrics import BENCH_ENTITY_TYPES, Scored, Span, by_flag, entity_report, evaluate
from nlu_tools.nlu_yaml import normalize, read_examples

# Bitext's flag legend (../shared/data/bitext/README.txt).
FLAG_LEGEND = {
    "B": "basic syntactic structure",
    "C": "complex/coordinated structure",
    "E": "expanded abbreviations",
    "I": "interrogative",
    "K": "keyword only",
    "L": "lexical variation (synonyms)",
    "M": "morphological variation",
    "P": "politeness",
    "Q": "colloquial",
    "W": "offensive language",
    "Z": "noise (typos, punctuation)",
}


@dataclass(frozen=True)
class HeldOut:
    text: str
    intent: str
    entities: tuple[Span, ...]
    flags: str = ""


def bitext_flags(csv_path: Path = paths.BITEXT_CSV) -> dict[str, str]:
    """Normalised utterance -> Bitext flags (union when an utterance is listed twice); {} without the CSV."""
    if not csv_path.is_file():
        return {}
    flags: dict[str, str] = {}
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            key = normalize(row["utterance"])
            flags[key] = "".join(sorted(set(flags.get(key, "")) | set(row["flags"])))
    return flags


def load_heldout(path: Path, flags: Mapping[str, str] | None = None) -> list[HeldOut]:
    if Path(path).resolve() in {p.resolve() for p in paths.never_scored()}:
        raise ValueError(f"{path} is never scored by the bench until bench.score_once has (bench/paths.py)")
    flags = flags or {}
    return [
        HeldOut(
            text=example.text,
            intent=example.intent,
            entities=tuple(Span(e.entity, e.start, e.end, e.text) for e in example.entities),
            flags=flags.get(normalize(example.text), ""),
        )
        for example in read_examples([path])
    ]


def heldout_sets(max_per_set: int | None = None) -> dict[str, list[HeldOut]]:
    """The sets that exist, by name ("own", "own-2", "bitext"); ``max_per_set`` keeps an even sample (smoke runs).
    Never a set still to be scored once (``paths.never_scored()``)."""
    sets: dict[str, list[HeldOut]] = {}
    if paths.OWN_HELDOUT.is_file():
        sets["own"] = load_heldout(paths.OWN_HELDOUT)
    if paths.OWN_HELDOUT_2.is_file():
        sets["own-2"] = load_heldout(paths.OWN_HELDOUT_2)
    if paths.BITEXT_HELDOUT.is_file():
        sets["bitext"] = load_heldout(paths.BITEXT_HELDOUT, bitext_flags())
    if max_per_set:
        sets = {name: rows[:: max(1, len(rows) // max_per_set)][:max_per_set] for name, rows in sets.items()}
    return sets


def tuning_sets(max_per_set: int | None = None) -> dict[str, list[HeldOut]]:
    """The tuning sets ("dev": nlu_eval/own_dev.yml, "bitext-dev": nlu_eval/bitext_dev.yml), for runs that only check
    the plumbing (``--smoke`` on every ``make test``): a test set is read by the full bench only, never by a check that
    runs on every change."""
    sets: dict[str, list[HeldOut]] = {}
    if paths.OWN_DEV.is_file():
        sets["dev"] = load_heldout(paths.OWN_DEV)
    if paths.BITEXT_DEV.is_file():
        sets["bitext-dev"] = load_heldout(paths.BITEXT_DEV, bitext_flags())
    if max_per_set:
        sets = {name: rows[:: max(1, len(rows) // max_per_set)][:max_per_set] for name, rows in sets.items()}
    return sets


def _span(prediction: dict, text: str) -> Span:
    start, end = int(prediction.get("start") or 0), int(prediction.get("end") or 0)
    return Span(str(prediction.get("entity")), start, end, text[start:end] or str(prediction.get("value")))


def score(rows: Sequence[HeldOut], predictions: Sequence[dict]) -> list[Scored]:
    if len(rows) != len(predictions):
        raise ValueError(f"{len(rows)} held-out messages but {len(predictions)} predictions")
    return [
        Scored(
            text=row.text,
            gold_intent=row.intent,
            predicted_intent=prediction["intent"],
            gold_entities=row.entities,
            predicted_entities=tuple(_span(e, row.text) for e in prediction.get("entities", [])),
            flags=row.flags,
        )
        for row, prediction in zip(rows, predictions, strict=True)
    ]


Sets = Mapping[str, Sequence[HeldOut]]
# (models by config name, held-out sets) -> {config: {"load_seconds", "parse_seconds", "predictions"}}, the
# predictions of every set in order, one after the other.
Predictor = Callable[[Mapping[str, Path], Sets], dict]


def _texts(sets: Sets) -> list[str]:
    return [row.text for rows in sets.values() for row in rows]


def rasa_predictor(work_dir: Path, stories: Path | None = None, timeout: float = 900.0) -> Predictor:
    """Parses with the real models in ``.venv-rasa`` (one process for every model); with ``stories``, also runs the
    test stories into ``work_dir/stories/<config>/`` (read by ``bench.training.story_results``)."""

    def predict(models: Mapping[str, Path], sets: Sets) -> dict:
        missing = [str(model) for model in models.values() if not Path(model).is_file()]
        if missing:
            raise FileNotFoundError(f"no model file at {', '.join(missing)}")
        work_dir.mkdir(parents=True, exist_ok=True)
        job = work_dir / "rasa_eval_job.json"
        out = work_dir / "rasa_eval.json"
        out.unlink(missing_ok=True)
        job.write_text(
            json.dumps(
                {
                    "texts": _texts(sets),
                    "models": {k: str(v) for k, v in models.items()},
                    "out": str(out),
                    "stories": str(stories) if stories and stories.is_file() else None,
                    "stories_out": str(work_dir / "stories"),
                }
            ),
            encoding="utf-8",
        )
        log = work_dir / "log" / "rasa_eval.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w", encoding="utf-8") as handle:
            result = subprocess.run(
                [str(paths.RASA_PYTHON), str(paths.BENCH / "rasa_eval.py"), "--job", str(job)],
                cwd=paths.ROOT,
                env=paths.quiet_env(),
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        if result.returncode != 0:
            raise RuntimeError(f"rasa_eval.py failed (exit {result.returncode}); see {log}")
        return json.loads(out.read_text(encoding="utf-8"))

    return predict


def simulated_predictor(error_every: Mapping[str, int]) -> Predictor:
    """Smoke runs: the gold answer, but ``nlu_fallback`` and no entities on every n-th message of a config."""

    def simulate(rows: Sequence[HeldOut], every: int) -> list[dict]:
        out = []
        for i, row in enumerate(rows):
            wrong = bool(every) and i % every == every - 1
            entities = [{"entity": e.entity, "start": e.start, "end": e.end, "value": e.value} for e in row.entities]
            out.append(
                {
                    "intent": "nlu_fallback" if wrong else row.intent,
                    "confidence": 0.99,
                    "entities": [] if wrong else entities,
                }
            )
        return out

    def predict(models: Mapping[str, Path], sets: Sets) -> dict:
        return {
            config: {
                "load_seconds": 0.0,
                "parse_seconds": 0.0,
                "predictions": [p for rows in sets.values() for p in simulate(rows, error_every.get(config, 0))],
            }
            for config in models
        }

    return predict


def run_understanding(models: Mapping[str, Path], sets: Sets, predictor: Predictor) -> dict:
    """``{"sets": {set: size}, "configs": {config: {set: figures, "entities_all": ..., timing}}}``."""
    raw = predictor(models, sets)
    n_texts = sum(len(rows) for rows in sets.values())
    result: dict = {"sets": {name: len(rows) for name, rows in sets.items()}, "configs": {}}
    for config in models:
        predictions = raw[config]["predictions"]
        figures: dict = {
            "model_load_seconds": raw[config]["load_seconds"],
            "stories_seconds": raw[config].get("stories_seconds"),
            "stories_error": raw[config].get("stories_error"),
            "parse_ms_per_message": 1000 * raw[config]["parse_seconds"] / max(1, n_texts),
        }
        offset = 0
        everything: list[Scored] = []
        for name, rows in sets.items():
            scored = score(rows, predictions[offset : offset + len(rows)])
            offset += len(rows)
            everything += scored
            figures[name] = evaluate(scored, BENCH_ENTITY_TYPES)
            if any(row.flags for row in rows):
                figures[name]["by_flag"] = by_flag(scored, FLAG_LEGEND)
            figures[name]["errors_sample"] = [
                {"text": s.text, "gold": s.gold_intent, "predicted": s.predicted_intent}
                for s in scored
                if s.gold_intent != s.predicted_intent
            ][:40]
        figures["entities_all"] = entity_report(everything, BENCH_ENTITY_TYPES)
        result["configs"][config] = figures
    return result
