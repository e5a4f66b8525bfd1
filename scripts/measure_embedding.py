#!/usr/bin/env python3
"""The sentence embedding before and after a change to nlu_components/minilm.py, in one run on one machine.

    .venv-rasa/bin/python scripts/measure_embedding.py --before-rev 913590d --model models/x.tar.gz

"before" is nlu_components/minilm.py as committed at ``--before-rev`` (loaded from git into a private module),
"after" the working tree's. Prints, for both:

- equality: word pieces and vectors on every utterance of nlu_eval/*.yml and data/nlu/*.yml (max abs difference);
- embedding CPU per message: ``encode([text])`` as the featurizer calls it for a customer's message, CPU time of the
  whole process (every thread) per message, over ``--messages`` utterances of the test sets, in alternating blocks
  so that both see the same machine load;
- the training path: one ``encode(all training texts)`` call, wall and CPU time;
- NLU parse per message (with ``--model``): Rasa's ``Agent.parse_message`` on the trained model, the featurizer's
  encoder swapped between before and after, alternating blocks; CPU time of the process and wall time per message;
- predictions (with ``--before-model`` too, a model trained with the "before" encoder): every utterance of the
  evaluation sets parsed by the before model on the before encoder and by ``--model`` on the after one; intents
  (with FAQ keys), entities and confidences compared.

Timings are figures to read, not tests: the machine may be shared. Writes reports/embedding.json.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nlu_tools import nlu_yaml

ROOT = Path(__file__).resolve().parent.parent

EVAL_SETS = [
    ROOT / "nlu_eval" / name
    for name in ("own_heldout.yml", "own_heldout_2.yml", "own_dev.yml", "bitext_heldout.yml", "bitext_dev.yml")
]
TEST_SETS = [ROOT / "nlu_eval" / "own_heldout.yml", ROOT / "nlu_eval" / "own_heldout_2.yml"]


def module_at(rev: str):
    source = subprocess.run(
        ["git", "show", f"{rev}:nlu_components/minilm.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="minilm-before-")) / "minilm_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("minilm_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pieces(encoder, text: str) -> list[int]:
    if hasattr(encoder, "piece_ids"):
        return encoder.piece_ids(text)
    return encoder.tokenizer.encode(text)  # the NumPy implementation's WordPieceTokenizer


def texts_of(paths) -> list[str]:
    return list(dict.fromkeys(e.text for e in nlu_yaml.read_examples(paths) if e.text.strip()))


def ms(values: list[float]) -> dict:
    values = sorted(values)
    return {
        "mean": 1000 * statistics.mean(values),
        "median": 1000 * statistics.median(values),
        "p95": 1000 * values[int(0.95 * (len(values) - 1))],
        "n": len(values),
    }


def alternate(runs: dict, texts: list[str], rounds: int, block: int) -> dict:
    """{name: fn(text)} -> {name: {"cpu": [...], "wall": [...]}}: every fn over every text, in alternating blocks."""
    out = {name: {"cpu": [], "wall": []} for name in runs}
    for _ in range(rounds):
        for start in range(0, len(texts), block):
            for name, fn in runs.items():
                for text in texts[start : start + block]:
                    cpu, wall = time.process_time(), time.perf_counter()
                    fn(text)
                    out[name]["cpu"].append(time.process_time() - cpu)
                    out[name]["wall"].append(time.perf_counter() - wall)
    return out


def show(title: str, results: dict) -> dict:
    summary = {}
    for name, series in results.items():
        cpu, wall = ms(series["cpu"]), ms(series["wall"])
        summary[name] = {"cpu_ms": cpu, "wall_ms": wall}
        print(
            f"  {title:18s} {name:7s} CPU per message: mean {cpu['mean']:6.2f} ms, median {cpu['median']:6.2f} ms, "
            f"p95 {cpu['p95']:6.2f} ms; wall mean {wall['mean']:6.2f} ms  (n={cpu['n']})"
        )
    return summary


def load_agent(model: str):
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    agent = Agent.load(model)
    nodes = agent.processor.graph_runner._instantiated_nodes  # rasa 3.6's DaskGraphRunner
    featurizers = [
        node._component for node in nodes.values() if type(node._component).__name__ == "SentenceEmbeddingFeaturizer"
    ]
    assert len(featurizers) == 1, f"expected one SentenceEmbeddingFeaturizer, found {len(featurizers)}"
    return agent, featurizers[0]


def compare_predictions(agent, featurizer, encoder, before_model: str, before_encoder, loop) -> dict:
    from bench.rasa_eval import slim

    before_agent, before_featurizer = load_agent(before_model)
    before_featurizer.encoder = before_encoder
    featurizer.encoder = encoder

    def parse(agent_, texts):
        return [slim(loop.run_until_complete(agent_.parse_message(t))) for t in texts]

    def differences(texts, old, new) -> dict:
        intents = [t for t, a, b in zip(texts, old, new, strict=True) if a["intent"] != b["intent"]]
        entities = [t for t, a, b in zip(texts, old, new, strict=True) if a["entities"] != b["entities"]]
        confidence = max(abs((a["confidence"] or 0) - (b["confidence"] or 0)) for a, b in zip(old, new, strict=True))
        return {
            "n": len(texts),
            "intent_differences": intents,
            "entity_differences": entities,
            "max_confidence_diff": confidence,
        }

    result = {}
    print("predictions, before model + before encoder vs (a) the same model + after encoder, (b) the after model:")
    for path in EVAL_SETS:
        texts = [e.text for e in nlu_yaml.read_examples([path])]
        before_encoder_before_model = parse(before_agent, texts)
        before_featurizer.encoder = encoder
        after_encoder_before_model = parse(before_agent, texts)
        before_featurizer.encoder = before_encoder
        after_model = parse(agent, texts)
        row = result[path.name] = {
            "same_model": differences(texts, before_encoder_before_model, after_encoder_before_model),
            "after_model": differences(texts, before_encoder_before_model, after_model),
        }
        print(
            f"  {path.name:22s} n={len(texts):5d}: "
            + "; ".join(
                f"({k}) intents differ {len(r['intent_differences'])}, entities differ "
                f"{len(r['entity_differences'])}, max confidence diff {r['max_confidence_diff']:.1e}"
                for k, r in zip("ab", row.values(), strict=True)
            )
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-rev", required=True, help="git revision whose nlu_components/minilm.py is 'before'")
    parser.add_argument("--model", help="a trained Rasa model archive, for the NLU parse timing")
    parser.add_argument("--before-model", help="a model trained with the 'before' encoder: compare predictions")
    parser.add_argument("--messages", type=int, default=300, help="test-set utterances timed per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--report", default=str(ROOT / "reports" / "embedding.json"))
    args = parser.parse_args(argv)
    os.chdir(ROOT)

    before_module = module_at(args.before_rev)
    import nlu_components.minilm as after_module

    report: dict = {"before_rev": args.before_rev, "model": args.model, "cpus": os.cpu_count()}
    started = time.perf_counter()
    before = before_module.MiniLM.load()
    report["load_s"] = {"before": time.perf_counter() - started}
    started = time.perf_counter()
    after = after_module.MiniLM.load()
    report["load_s"]["after"] = time.perf_counter() - started
    print(
        f"load (read, hash-check, build): before {report['load_s']['before']:.2f} s, "
        f"after {report['load_s']['after']:.2f} s"
    )

    # equality on everything the project has
    training = texts_of(sorted((ROOT / "data" / "nlu").glob("*.yml")))
    everything = list(dict.fromkeys(texts_of(EVAL_SETS) + training))
    piece_mismatches = sum(pieces(before, t) != pieces(after, t) for t in everything)
    vectors = {}
    for name, encoder in (("before", before), ("after", after)):
        cpu, wall = time.process_time(), time.perf_counter()
        vectors[name] = encoder.encode(training)
        report.setdefault("training_encode", {})[name] = {
            "wall_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() - cpu,
            "texts": len(training),
        }
    rest = [t for t in everything if t not in set(training)]
    diff = np.abs(vectors["before"] - vectors["after"]).max(axis=1)
    diff = np.concatenate([diff, np.abs(before.encode(rest) - after.encode(rest)).max(axis=1)])
    report["equality"] = {
        "texts": len(everything),
        "piece_mismatches": piece_mismatches,
        "max_abs_diff": float(diff.max()),
        "p99_abs_diff": float(np.quantile(diff, 0.99)),
    }
    print(
        f"equality over {len(everything)} texts (nlu_eval + data/nlu): word-piece mismatches {piece_mismatches}, "
        f"max abs diff {diff.max():.2e} (p99 {np.quantile(diff, 0.99):.2e})"
    )
    for name, row in report["training_encode"].items():
        print(
            f"  training path    {name:7s} encode {row['texts']} texts: wall {row['wall_s']:.1f} s, "
            f"CPU {row['cpu_s']:.1f} s"
        )

    messages = texts_of(TEST_SETS)[: args.messages]
    for encoder in (before, after):  # warm up
        for text in messages[:20]:
            encoder.encode([text])
    print(f"per message ({len(messages)} test-set utterances x {args.rounds} rounds, alternating blocks of 25):")
    report["embedding"] = show(
        "embedding",
        alternate(
            {"before": lambda t: before.encode([t]), "after": lambda t: after.encode([t])}, messages, args.rounds, 25
        ),
    )

    if args.model:
        agent, featurizer = load_agent(args.model)
        loop = asyncio.new_event_loop()

        if args.before_model:
            report["predictions"] = compare_predictions(agent, featurizer, after, args.before_model, before, loop)

        def parse_with(encoder):
            def parse(text: str) -> None:
                featurizer.encoder = encoder
                loop.run_until_complete(agent.parse_message(text))

            return parse

        for encoder in (before, after):
            for text in messages[:20]:
                parse_with(encoder)(text)
        report["nlu_parse"] = show(
            "NLU parse",
            alternate({"before": parse_with(before), "after": parse_with(after)}, messages, args.rounds, 25),
        )
        featurizer.encoder = after

    out = Path(args.report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
