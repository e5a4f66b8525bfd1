#!/usr/bin/env python3
"""Score a held-out test set of ``bench/paths.py``'s ``SCORE_ONCE_SETS``, once, and keep the record.

Run with the Rasa environment from the project root, when the work the set judges is done:

    .venv-rasa/bin/python -m bench.score_once --model models/<final>.tar.gz nlu_eval/fresh_test_15.yml

A test set that has been looked at is a tuning set from then on, so this refuses a set whose record exists
(``nlu_eval/scored/<set>.json``: when, which model and commit, every figure, every error).  The scoring is the
bench's (``bench/metrics.py``; ``scripts/measure_nlu.py`` prints the same figures for the other sets), plus how out-of-
scope messages and the case flows fare under the model's flow gate (``bench/flow_gate.py``: ``flows``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from bench import flow_gate, paths
from bench.metrics import BENCH_ENTITY_TYPES, evaluate
from bench.rasa_eval import slim
from bench.understanding import HeldOut, Span, score
from nlu_tools.nlu_yaml import read_examples

RECORDS = paths.SCORED_RECORDS


def record_path(test_set: Path) -> Path:
    return RECORDS / f"{test_set.stem}.json"


def rows_of(test_set: Path) -> list[HeldOut]:
    return [
        HeldOut(
            text=example.text,
            intent=example.intent,
            entities=tuple(Span(e.entity, e.start, e.end, e.text) for e in example.entities),
            flags="",
        )
        for example in read_examples([test_set])
    ]


def load_agent(model: Path):
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    return Agent.load(str(model))


async def parse_all(agent, texts: list[str]) -> list[dict]:
    return [await agent.parse_message(text) for text in texts]


def flows_under_the_gate(rows: list[HeldOut], parses: list[dict]) -> dict:
    """``bench/flow_gate.py``'s report on the model's own parses (its gate as trained), flow intents from config.yml."""
    flows, _ = flow_gate.gate_config()
    pairs = zip(rows, parses, strict=True)
    reads = [(row.intent.split("/")[0], *flow_gate.as_read_by_the_bot(parse)) for row, parse in pairs]
    return {"flow_intents": sorted(flows), **flow_gate.flow_report(reads, flows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the model archive the work ends with")
    parser.add_argument("sets", nargs="+", type=Path, help="test sets listed in bench/paths.py SCORE_ONCE_SETS")
    args = parser.parse_args(argv)
    once = {p.resolve() for p in paths.SCORE_ONCE_SETS}
    for test_set in args.sets:
        if test_set.resolve() not in once:
            raise SystemExit(f"{test_set} is not a set to be scored once (bench/paths.py SCORE_ONCE_SETS)")
        if record_path(test_set).exists():
            raise SystemExit(f"{test_set} was scored already: {record_path(test_set)}")
    model = Path(args.model)
    agent = load_agent(model)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=paths.ROOT).stdout.strip()
    RECORDS.mkdir(parents=True, exist_ok=True)
    for test_set in args.sets:
        rows = rows_of(test_set)
        parses = asyncio.run(parse_all(agent, [row.text for row in rows]))
        predictions = [slim(parse) for parse in parses]
        scored = score(rows, predictions)
        figures = evaluate(scored, BENCH_ENTITY_TYPES)
        figures.pop("confusion", None)
        figures["errors"] = [
            {"text": s.text, "gold": s.gold_intent, "predicted": s.predicted_intent}
            for s in scored
            if s.gold_intent != s.predicted_intent
        ]
        figures["flows"] = flows_under_the_gate(rows, parses)
        record = {
            "set": str(test_set),
            "scored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model": model.name,
            "model_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
            "commit": commit,
            "figures": figures,
        }
        record_path(test_set).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        headline = {k: figures.get(k) for k in ("n", "accuracy", "macro_f1", "out_of_scope_rejection_rate", "flows")}
        print(test_set.stem, json.dumps(headline), f"{len(figures['errors'])} errors")
        print(f"record: {record_path(test_set)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
