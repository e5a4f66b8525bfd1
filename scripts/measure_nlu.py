#!/usr/bin/env python3
"""NLU benchmark: train (or take) a model, run it over the held-out sets, report intent and entity quality.

Run with the Rasa environment from the project root:

    .venv-rasa/bin/python scripts/measure_nlu.py                   # train NLU with config.yml, then measure
    .venv-rasa/bin/python scripts/measure_nlu.py --model models/x.tar.gz   # measure an existing model
    .venv-rasa/bin/python scripts/measure_nlu.py --strict          # exit 1 if a target is missed
    .venv-rasa/bin/python scripts/measure_nlu.py parse --model M "text" ...  # print parse results as JSON

Held-out sets (never in training; tests/nlu/test_nlu_data.py checks it): nlu_eval/bitext_heldout.yml (Bitext
wording mapped by nlu_eval/bitext_intent_map.yml) and nlu_eval/own_heldout.yml (written for this assistant).
An intent is scored at full granularity: a retrieval intent counts as right only if the ResponseSelector also picks
the right key ("faq/return_window").  The prediction is what the bot would act on, i.e. *after* the
FallbackClassifier (an `nlu_fallback` is an error); figures without the fallback are reported beside.
Macro-F1 averages over the intents present in the gold labels of the set.  Entities: exact span and type match.
Writes reports/nlu.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from nlu_yaml import Example, read_examples  # noqa: E402

HELDOUT_SETS = {"bitext": ROOT / "nlu_eval" / "bitext_heldout.yml", "own": ROOT / "nlu_eval" / "own_heldout.yml"}
RETRIEVAL_INTENTS = ("faq", "credits_faq")
KEY_ENTITIES = ("order_number", "email", "serial_number")
OTHER_ENTITIES = ("channel", "country", "product", "quantity", "purchase_date", "condition")
TARGETS = {"bitext_macro_f1": 0.95, "own_macro_f1": 0.97, "entity_f1": 0.99}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime


def train_model(config: Path, out_dir: Path) -> tuple[str, dict]:
    """A cold `rasa train nlu`: a fresh, empty training cache, so nothing is reused from an earlier run."""
    import tempfile

    os.environ["RASA_CACHE_DIRECTORY"] = tempfile.mkdtemp(prefix="rasa-cache-")
    from rasa.model_training import train_nlu

    domain = ROOT / "domain.yml"
    wall, cpu = time.perf_counter(), cpu_seconds()
    model = train_nlu(
        config=str(config), nlu_data=str(ROOT / "data"), output=str(out_dir),
        fixed_model_name="nlu-bench", domain=str(domain) if domain.exists() else None,
    )
    timing = {"wall_seconds": round(time.perf_counter() - wall, 1), "cpu_seconds": round(cpu_seconds() - cpu, 1),
              "cores": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}
    if not model:
        raise SystemExit("error: NLU training failed (see the log above)")
    return model, timing


def quiet_rasa() -> None:
    """Keep rasa's per-message debug lines off the console (they also slow the parse loop down)."""
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def load_agent(model: str):
    from rasa.core.agent import Agent

    quiet_rasa()

    return Agent.load(model)


def full_intent(result: dict, skip_fallback: bool) -> str:
    ranking = result.get("intent_ranking") or [result.get("intent") or {}]
    top = (result.get("intent") or {}).get("name")
    if skip_fallback and top == "nlu_fallback":
        top = next((r["name"] for r in ranking if r.get("name") != "nlu_fallback"), top)
    if top in RETRIEVAL_INTENTS:
        selector = (result.get("response_selector") or {}).get(top) or {}
        key = ((selector.get("response") or {}).get("intent_response_key")) or f"{top}/?"
        return key
    return top or "?"


async def parse_all(agent, texts: list[str]) -> list[dict]:
    return [await agent.parse_message(text) for text in texts]


def prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


def intent_scores(gold: list[str], predicted: list[str]) -> dict:
    labels = sorted(set(gold))
    per = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted) if g == label and p != label)
        per[label] = {**prf(tp, fp, fn), "support": gold.count(label)}
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0
    macro = sum(v["f1"] for v in per.values()) / len(per) if per else 0.0
    confusions = Counter((g, p) for g, p in zip(gold, predicted) if g != p)
    return {"n": len(gold), "accuracy": round(accuracy, 4), "macro_f1": round(macro, 4), "per_intent": per,
            "top_confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common(15)]}


def entity_scores(examples: list[Example], results: list[dict], types: tuple[str, ...]) -> dict:
    counts = {t: Counter() for t in types}
    duplicates = 0
    for example, result in zip(examples, results):
        predicted = [(e["entity"], e["start"], e["end"]) for e in result.get("entities", [])]
        if len(predicted) != len(set(predicted)):
            duplicates += 1
        gold = {(e.entity, e.start, e.end) for e in example.entities}
        for kind in types:
            g = {s for s in gold if s[0] == kind}
            p = {s for s in predicted if s[0] == kind}
            counts[kind]["tp"] += len(g & p)
            counts[kind]["fp"] += len(p - g)
            counts[kind]["fn"] += len(g - p)
    scores = {kind: prf(c["tp"], c["fp"], c["fn"]) for kind, c in counts.items()}
    scores["messages_with_duplicate_entities"] = duplicates
    return scores


def measure_set(agent, name: str, path: Path) -> dict:
    examples = read_examples([path])
    started = time.perf_counter()
    results = asyncio.run(parse_all(agent, [e.text for e in examples]))
    elapsed = time.perf_counter() - started
    gold = [e.intent for e in examples]
    with_fallback = [full_intent(r, skip_fallback=False) for r in results]
    without_fallback = [full_intent(r, skip_fallback=True) for r in results]
    base = [p.split("/")[0] for p in with_fallback]
    errors = [{"text": e.text, "gold": g, "predicted": p,
               "confidence": round((r.get("intent") or {}).get("confidence") or 0.0, 3)}
              for e, r, g, p in zip(examples, results, gold, with_fallback) if g != p]
    report = {
        "file": str(path.relative_to(ROOT)),
        "intents": intent_scores(gold, with_fallback),
        "intents_without_fallback": {k: v for k, v in intent_scores(gold, without_fallback).items()
                                     if k in ("accuracy", "macro_f1")},
        "base_intents": {k: v for k, v in intent_scores([g.split("/")[0] for g in gold], base).items()
                         if k in ("accuracy", "macro_f1")},
        "fallback_rate": round(with_fallback.count("nlu_fallback") / len(examples), 4) if examples else 0.0,
        "entities": entity_scores(examples, results, KEY_ENTITIES + OTHER_ENTITIES),
        "parse_ms_per_message": round(1000 * elapsed / max(1, len(examples)), 1),
        "errors": errors[:60],
    }
    return report


def summarise(report: dict) -> list[str]:
    lines = []
    if report.get("training"):
        t = report["training"]
        lines.append(f"training: {t['wall_seconds']} s wall, {t['cpu_seconds']} s CPU "
                     f"({t['cores']} cores, load {t['load_average_1m']})")
    for name, data in report["sets"].items():
        i = data["intents"]
        lines.append(f"[{name}] n={i['n']} accuracy={i['accuracy']:.4f} macro-F1={i['macro_f1']:.4f} "
                     f"(without fallback {data['intents_without_fallback']['macro_f1']:.4f}; "
                     f"base intents {data['base_intents']['macro_f1']:.4f}) fallback={data['fallback_rate']:.3f}")
        for label, s in i["per_intent"].items():
            lines.append(f"    {label:32s} F1={s['f1']:.3f}  P={s['precision']:.3f} R={s['recall']:.3f} n={s['support']}")
        for kind in KEY_ENTITIES + OTHER_ENTITIES:
            e = data["entities"][kind]
            if e["tp"] + e["fn"] + e["fp"]:
                lines.append(f"    entity {kind:14s} P={e['precision']:.3f} R={e['recall']:.3f} F1={e['f1']:.3f} "
                             f"(tp={e['tp']} fp={e['fp']} fn={e['fn']})")
        lines.append(f"    messages with duplicate entities: {data['entities']['messages_with_duplicate_entities']}")
    for key, value in report["targets"].items():
        lines.append(f"target {key}: {value['value']} >= {value['target']} -> {'ok' if value['met'] else 'MISSED'}")
    return lines


def bench(args: argparse.Namespace) -> int:
    training = None
    model = args.model
    if not model:
        model, training = train_model(Path(args.config), Path(args.out_dir))
    agent = load_agent(model)
    sets = {name: measure_set(agent, name, path) for name, path in HELDOUT_SETS.items()}
    entity_f1 = {kind: sets["own"]["entities"][kind]["f1"] for kind in KEY_ENTITIES}
    targets = {
        "bitext_macro_f1": sets["bitext"]["intents"]["macro_f1"],
        "own_macro_f1": sets["own"]["intents"]["macro_f1"],
        **{f"{kind}_f1": value for kind, value in entity_f1.items()},
    }
    report = {
        "model": str(model), "config": args.config, "training": training, "sets": sets,
        "targets": {k: {"value": v, "target": TARGETS["entity_f1" if k.endswith("number_f1") or k == "email_f1"
                                                      else k], "met": None} for k, v in targets.items()},
    }
    for value in report["targets"].values():
        value["met"] = value["value"] >= value["target"]
    out = Path(args.report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    print("\n".join(summarise(report)))
    print(f"report: {out}")
    missed = [k for k, v in report["targets"].items() if not v["met"]]
    return 1 if (args.strict and missed) else 0


def parse_cmd(args: argparse.Namespace) -> int:
    agent = load_agent(args.model)
    results = asyncio.run(parse_all(agent, args.texts))
    keep = ("text", "intent", "entities", "response_selector")
    print(json.dumps([{k: r.get(k) for k in keep} for r in results], default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    os.chdir(ROOT)  # rasa loads nlu_components.* from the project root
    sys.path.insert(0, str(ROOT))
    logging.getLogger().setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description="NLU benchmark (see the module docstring)")
    sub = parser.add_subparsers(dest="command")
    parse = sub.add_parser("parse", help="parse messages with a model and print JSON")
    parse.add_argument("--model", required=True)
    parse.add_argument("texts", nargs="+")
    parser.add_argument("--model", help="existing model archive; default: train one with --config")
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--out-dir", default=str(ROOT / "models"), help="where a trained model is written")
    parser.add_argument("--report", default=str(ROOT / "reports" / "nlu.json"))
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.command == "parse":
        return parse_cmd(args)
    if args.model and not Path(args.model).is_file():
        print(f"error: model not found: {args.model}", file=sys.stderr)
        return 2
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
