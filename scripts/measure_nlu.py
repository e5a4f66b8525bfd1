#!/usr/bin/env python3
"""Quick NLU check during development: one model (given, or trained cold from a config) over the held-out sets.

Run with the Rasa environment from the project root:

    .venv-rasa/bin/python scripts/measure_nlu.py --model models/x.tar.gz        # measure an existing model
    .venv-rasa/bin/python scripts/measure_nlu.py --config config.yml            # train NLU cold, then measure
    .venv-rasa/bin/python scripts/measure_nlu.py --model M --sets dev           # the tuning set only
    .venv-rasa/bin/python scripts/measure_nlu.py parse --model M "text" ...     # print parse results as JSON

The scoring is the benchmark's (`bench/metrics.py`, `bench/rasa_eval.full_intent`, `bench/understanding.score`;
definitions in docs/bench.md), so a figure printed here equals the one `make bench` reports for the same model.
Sets: `own` (nlu_eval/own_heldout.yml, the test set: never used for tuning), `own-2` (nlu_eval/own_heldout_2.yml,
the previous test set, still reported), `dev` (nlu_eval/own_dev.yml, the set the training data was tuned against),
`bitext` (nlu_eval/bitext_heldout.yml) and `bitext-dev` (nlu_eval/bitext_dev.yml, Bitext utterances for tuning).
Writes reports/nlu.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import paths
from bench.metrics import BENCH_ENTITY_TYPES, evaluate
from bench.rasa_eval import slim
from bench.understanding import load_heldout, score

ROOT = Path(__file__).resolve().parent.parent

SETS = {
    "own": paths.OWN_HELDOUT,
    "own-2": paths.OWN_HELDOUT_2,
    "dev": paths.OWN_DEV,
    "bitext": paths.BITEXT_HELDOUT,
    "bitext-dev": paths.BITEXT_DEV,
}
TARGETS = {"own": 0.97, "own-2": 0.97, "bitext": 0.95}  # intent macro-F1 (issue 4); entity F1 >= 0.99 on every set


def train(config: Path, out_dir: Path, cache: str | None = None) -> Path:
    """A cold `rasa train nlu` (a fresh, empty training cache), or one with the given cache (faster, not cold)."""
    os.environ["RASA_CACHE_DIRECTORY"] = cache or tempfile.mkdtemp(prefix="rasa-cache-")
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    model = train_nlu(
        config=str(config),
        nlu_data=str(paths.DATA),
        output=str(out_dir),
        fixed_model_name="nlu-check",
        domain=str(paths.DOMAIN),
    )
    if not model:
        raise SystemExit("error: NLU training failed (see the log above)")
    print(f"trained {model} in {time.perf_counter() - started:.0f} s (NLU only{', cache reused' if cache else ''})")
    return Path(model)


def load_agent(model: Path):
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no debug line per message
    return Agent.load(str(model))


async def parse_all(agent, texts: list[str]) -> list[dict]:
    return [await agent.parse_message(text) for text in texts]


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def summary(name: str, figures: dict) -> list[str]:
    entities = figures["entities"]["micro"]
    lines = [
        f"[{name}] n={figures['n']} accuracy={fmt(figures['accuracy'])} macro-F1={fmt(figures['macro_f1'])} "
        f"oos-rejection={fmt(figures['out_of_scope_rejection_rate'])} "
        f"false-fallback={fmt(figures['false_fallback_rate'])} entity-F1={fmt(entities['f1'])}"
    ]
    for label, row in figures["per_intent"].items():
        if row["f1"] < 1.0:
            lines.append(
                f"    {label:32s} F1={row['f1']:.3f} P={row['precision']:.3f} R={row['recall']:.3f} n={row['support']}"
            )
    for error in figures["errors"][:25]:
        lines.append(f"    ! {error['gold']:28s} -> {error['predicted']:28s} {error['text']}")
    return lines


def measure(args: argparse.Namespace) -> int:
    model = Path(args.model) if args.model else train(Path(args.config), Path(args.out_dir), args.cache)
    agent = load_agent(model)
    report: dict = {"model": str(model), "sets": {}}
    missed = []
    for name in args.sets.split(","):
        rows = load_heldout(SETS[name])
        predictions = [slim(parse) for parse in asyncio.run(parse_all(agent, [row.text for row in rows]))]
        scored = score(rows, predictions)
        figures = evaluate(scored, BENCH_ENTITY_TYPES)
        figures.pop("confusion")
        figures["errors"] = [
            {"text": s.text, "gold": s.gold_intent, "predicted": s.predicted_intent}
            for s in scored
            if s.gold_intent != s.predicted_intent
        ]
        report["sets"][name] = figures
        print("\n".join(summary(name, figures)))
        if name in TARGETS and (figures["macro_f1"] or 0) < TARGETS[name]:
            missed.append(f"{name} macro-F1 {fmt(figures['macro_f1'])} < {TARGETS[name]}")
        entity_f1 = figures["entities"]["micro"]["f1"]
        if entity_f1 is not None and entity_f1 < 0.99:
            missed.append(f"{name} entity F1 {fmt(entity_f1)} < 0.99")
    out = Path(args.report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("\n".join(f"target missed: {line}" for line in missed) or "all targets met")
    print(f"report: {out}")
    return 1 if (args.strict and missed) else 0


def parse_cmd(args: argparse.Namespace) -> int:
    agent = load_agent(Path(args.model))
    results = asyncio.run(parse_all(agent, args.texts))
    keep = ("text", "intent", "entities", "response_selector")
    print(json.dumps([{k: r.get(k) for k in keep} for r in results], default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    os.chdir(ROOT)  # rasa loads nlu_components.* from the project root
    logging.getLogger().setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description="NLU check (see the module docstring)")
    sub = parser.add_subparsers(dest="command")
    parse = sub.add_parser("parse", help="parse messages with a model and print JSON")
    parse.add_argument("--model", required=True)
    parse.add_argument("texts", nargs="+")
    parser.add_argument("--model", help="existing model archive; default: train one with --config")
    parser.add_argument("--config", default=str(paths.PROJECT_CONFIG))
    parser.add_argument("--out-dir", default=str(ROOT / "var" / "nlu-check"), help="where a trained model goes")
    parser.add_argument("--cache", help="development: a Rasa training cache directory to reuse (training not cold)")
    parser.add_argument(
        "--sets", default="own,own-2,dev,bitext", help="comma-separated: own, own-2, dev, bitext, bitext-dev"
    )
    parser.add_argument("--report", default=str(ROOT / "reports" / "nlu.json"))
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.command == "parse":
        return parse_cmd(args)
    if args.model and not Path(args.model).is_file():
        print(f"error: model not found: {args.model}", file=sys.stderr)
        return 2
    unknown = set(args.sets.split(",")) - set(SETS)
    if unknown:
        print(f"error: unknown set(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
