#!/usr/bin/env python3
"""Out-of-scope messages and the case flows (issue 15, item 8): how often a message opens a flow it should not, and
what the flow gate (``nlu_components/flow_gate.py``) costs the customers who did mean it.

A *flow intent* opens a form that asks for an order and ends in a decision (the gate's ``flow_intents`` in
config.yml). For a set of messages with gold intents and the bot's parse (intent and Rasa's ``intent_ranking``):

- ``out_of_scope_opening_a_flow``: gold ``out_of_scope`` messages the bot reads as a flow intent (the form opens);
- ``flow_opened``: gold flow-intent messages read as their own intent (the form opens at once);
- ``flow_confirmed``: gold flow-intent messages held back with their own intent first behind ``nlu_fallback`` (the
  bot asks "Do you want to ...?", and "Yes" opens the form);
- ``flow_misread``: gold flow-intent messages read as another intent, or held back with another intent first.

The sweep chooses the gate's thresholds on the tuning sets (never on a set still to be scored once), from one parse
per message with the model as trained: the classifier's own ranking is the parse's ranking without ``nlu_fallback``,
and Rasa's fallback and the gate are applied to it for each pair of thresholds::

    .venv-rasa/bin/python -m bench.flow_gate --model models/<m>.tar.gz

Pure functions above ``main``; ``main`` needs ``.venv-rasa``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench import paths

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
GATE_COMPONENT = "nlu_components.flow_gate.FlowGatedFallbackClassifier"


@dataclass(frozen=True)
class Read:
    """One message: its gold intent, and the classifier's ranking (name, confidence), best first, no fallback."""

    gold: str
    ranking: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Gate:
    threshold: float
    ambiguity: float
    flow_threshold: float
    flow_ambiguity: float


def gate_config(config: Path = paths.PROJECT_CONFIG) -> tuple[frozenset[str], Gate]:
    """The flow intents and thresholds config.yml gives the gate."""
    pipeline = yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
    entry = next(c for c in pipeline if c.get("name") == GATE_COMPONENT)
    gate = Gate(
        float(entry.get("threshold", 0.3)),
        float(entry.get("ambiguity_threshold", 0.1)),
        float(entry.get("flow_threshold", 0.0)),
        float(entry.get("flow_ambiguity_threshold", 0.0)),
    )
    return frozenset(entry.get("flow_intents") or ()), gate


def classifier_ranking(parse: Mapping) -> tuple[tuple[str, float], ...]:
    ranking = parse.get("intent_ranking") or [parse.get("intent") or {}]
    kept = [r for r in ranking if r.get("name") not in (None, FALLBACK)]
    return tuple((str(r.get("name")), float(r.get("confidence") or 0.0)) for r in kept)


def bot_reads(ranking: Sequence[tuple[str, float]], flows: frozenset[str], gate: Gate) -> tuple[str, str | None]:
    """(the intent the bot acts on, the intent it asks to confirm when that is ``nlu_fallback``) for a ranking."""
    if not ranking:
        return FALLBACK, None
    top, confidence = ranking[0]
    margin = confidence - (ranking[1][1] if len(ranking) > 1 else 0.0)
    held = confidence < gate.threshold or margin < gate.ambiguity
    if top in flows:
        held = held or confidence < gate.flow_threshold or margin < gate.flow_ambiguity
    return (FALLBACK, top) if held else (top, None)


def as_read_by_the_bot(parse: Mapping) -> tuple[str, str | None]:
    """(the intent the bot acts on, the intent it asks to confirm when that is ``nlu_fallback``) from a parse."""
    intent = str((parse.get("intent") or {}).get("name") or FALLBACK)
    ranking = classifier_ranking(parse)
    return intent, (ranking[0][0] if intent == FALLBACK and ranking else None)


def flow_report(reads: Iterable[tuple[str, str, str | None]], flows: frozenset[str]) -> dict:
    """Shares over (gold intent, intent the bot acts on, intent it asks to confirm) triples; see the module."""
    oos = opened_by_oos = flow_n = opened = confirmed = misread = other_n = other_held = 0
    for gold, intent, asked in reads:
        if gold == OUT_OF_SCOPE:
            oos += 1
            opened_by_oos += intent in flows
        elif gold in flows:
            flow_n += 1
            opened += intent == gold
            confirmed += intent == FALLBACK and asked == gold
            misread += intent != gold and asked != gold
        else:
            other_n += 1
            other_held += intent == FALLBACK and asked in flows

    def share(k: int, n: int) -> float | None:
        return None if n == 0 else round(k / n, 4)

    return {
        "out_of_scope": oos,
        "out_of_scope_opening_a_flow": share(opened_by_oos, oos),
        "flow_messages": flow_n,
        "flow_opened": share(opened, flow_n),
        "flow_confirmed": share(confirmed, flow_n),
        "flow_misread": share(misread, flow_n),
        "other_asked_about_a_flow": share(other_held, other_n),
    }


def simulated(reads: Iterable[Read], flows: frozenset[str], gate: Gate) -> list[tuple[str, str, str | None]]:
    """``flow_report``'s triples for classifier rankings under ``gate``."""
    return [(r.gold, *bot_reads(r.ranking, flows, gate)) for r in reads]


def _tuning_files() -> dict[str, Path]:
    files = {
        "dev": paths.OWN_DEV,
        "bitext-dev": paths.BITEXT_DEV,
        "own": paths.OWN_HELDOUT,
        "own-2": paths.OWN_HELDOUT_2,
        **{p.stem: p for p in paths.SCORE_ONCE_SETS},
    }
    never = {p.resolve() for p in paths.never_scored()}
    return {name: p for name, p in files.items() if p.is_file() and p.resolve() not in never}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--flow-thresholds", default="0.4,0.5,0.55,0.6,0.65,0.7,0.75,0.8")
    parser.add_argument("--flow-ambiguities", default="0.1,0.2,0.3")
    args = parser.parse_args(argv)

    from bench.score_once import load_agent, parse_all
    from nlu_tools.nlu_yaml import read_examples

    flows, configured = gate_config()
    agent = load_agent(Path(args.model))
    reads: dict[str, list[Read]] = {}
    for name, path in _tuning_files().items():
        examples = read_examples([path])
        parses = asyncio.run(parse_all(agent, [e.text for e in examples]))
        pairs = zip(examples, parses, strict=True)
        reads[name] = [Read(e.intent.split("/")[0], classifier_ranking(p)) for e, p in pairs]
    everything = [r for rows in reads.values() for r in rows]
    print(f"flow intents: {sorted(flows)}; configured: {configured}")
    print("sets: " + ", ".join(f"{k} {len(v)}" for k, v in reads.items()))
    for ft in (float(x) for x in args.flow_thresholds.split(",")):
        for fa in (float(x) for x in args.flow_ambiguities.split(",")):
            gate = Gate(configured.threshold, configured.ambiguity, ft, fa)
            report = flow_report(simulated(everything, flows, gate), flows)
            per_set = {
                k: flow_report(simulated(v, flows, gate), flows)["out_of_scope_opening_a_flow"]
                for k, v in reads.items()
            }
            print(json.dumps({"flow_threshold": ft, "flow_ambiguity": fa, **report, "oos_opening_by_set": per_set}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
