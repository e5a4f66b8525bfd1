"""Understanding metrics over (gold, predicted) pairs: pure functions, standard library only.

Conventions (docs/bench.md explains them; the same as scripts/measure_nlu.py, so the figures agree):
- An intent label is the full intent, retrieval intents included (``faq/return_window``), as the bot would act on it:
  after the FallbackClassifier, so ``nlu_fallback`` is a label of its own and an error for every gold intent.
- Macro-F1 averages the F1 of the intents present in the gold labels of the set (predicted labels that never occur
  in the gold set count as errors of the gold intent, not as extra classes).
- A *rejection* is a prediction of ``out_of_scope`` or ``nlu_fallback``: the bot declines the message either way.
  Out-of-scope rejection rate: share of gold ``out_of_scope`` messages that are rejected. False-fallback rate: share
  of in-scope gold messages that are rejected.
- Entities: a predicted entity is correct when its type and its span equal those of a gold entity of the same
  message; the same span predicted twice (two extractors) counts once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

OUT_OF_SCOPE = "out_of_scope"
REJECTION_LABELS = frozenset({OUT_OF_SCOPE, "nlu_fallback"})
BENCH_ENTITY_TYPES = ("order_number", "email", "serial_number")


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Scored:
    """One held-out message with the gold answer and one configuration's prediction."""

    text: str
    gold_intent: str
    predicted_intent: str
    gold_entities: tuple[Span, ...] = ()
    predicted_entities: tuple[Span, ...] = ()
    flags: str = ""  # Bitext linguistic flags, e.g. "BQZ"; "" for the project's own held-out set


def f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def intent_report(pairs: Sequence[tuple[str, str]]) -> dict:
    """Accuracy, macro-F1 and per-intent precision/recall/F1/support for (gold, predicted) label pairs."""
    if not pairs:
        return {"n": 0, "accuracy": None, "macro_f1": None, "per_intent": {}}
    gold_counts = Counter(gold for gold, _ in pairs)
    pred_counts = Counter(pred for _, pred in pairs)
    hits = Counter(gold for gold, pred in pairs if gold == pred)
    per_intent = {}
    for label in sorted(gold_counts):
        precision = hits[label] / pred_counts[label] if pred_counts[label] else 0.0
        recall = hits[label] / gold_counts[label]
        per_intent[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1(precision, recall),
            "support": gold_counts[label],
        }
    return {
        "n": len(pairs),
        "accuracy": sum(hits.values()) / len(pairs),
        "macro_f1": sum(row["f1"] for row in per_intent.values()) / len(per_intent),
        "per_intent": per_intent,
    }


def rejection_rates(pairs: Sequence[tuple[str, str]]) -> dict:
    """Out-of-scope rejection rate and false-fallback rate (see the module docstring)."""
    oos = [pred for gold, pred in pairs if gold == OUT_OF_SCOPE]
    in_scope = [pred for gold, pred in pairs if gold != OUT_OF_SCOPE]
    return {
        "out_of_scope_n": len(oos),
        "out_of_scope_rejection_rate": _ratio(sum(p in REJECTION_LABELS for p in oos), len(oos)),
        "in_scope_n": len(in_scope),
        "false_fallback_rate": _ratio(sum(p in REJECTION_LABELS for p in in_scope), len(in_scope)),
    }


def _match_entities(gold: Iterable[Span], predicted: Iterable[Span]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) for one message: exact type and span."""
    g = {(s.entity, s.start, s.end) for s in gold}
    p = {(s.entity, s.start, s.end) for s in predicted}
    return len(g & p), len(p - g), len(g - p)


def entity_report(rows: Sequence[Scored], entity_types: Sequence[str] = BENCH_ENTITY_TYPES) -> dict:
    """Precision/recall/F1 per entity type and micro-averaged over ``entity_types``."""
    counts: dict[str, list[int]] = {name: [0, 0, 0] for name in entity_types}
    for row in rows:
        for name in entity_types:
            gold = [s for s in row.gold_entities if s.entity == name]
            pred = [s for s in row.predicted_entities if s.entity == name]
            tp, fp, fn = _match_entities(gold, pred)
            counts[name][0] += tp
            counts[name][1] += fp
            counts[name][2] += fn

    def scores(tp: int, fp: int, fn: int) -> dict:
        precision = _ratio(tp, tp + fp)
        recall = _ratio(tp, tp + fn)
        return {
            "precision": precision,
            "recall": recall,
            "f1": None if precision is None or recall is None else f1(precision, recall),
            "gold": tp + fn,
            "predicted": tp + fp,
        }

    per_type = {name: scores(*values) for name, values in counts.items()}
    total = [sum(values[i] for values in counts.values()) for i in range(3)]
    return {"per_type": per_type, "micro": scores(*total)}


def confusion(pairs: Sequence[tuple[str, str]]) -> dict:
    """Confusion counts: rows are gold labels, columns predicted labels (gold labels first)."""
    matrix: dict[str, Counter] = defaultdict(Counter)
    for gold, pred in pairs:
        matrix[gold][pred] += 1
    gold_labels = sorted(matrix)
    predicted_labels = sorted({label for row in matrix.values() for label in row} - set(gold_labels))
    labels = gold_labels + predicted_labels
    return {
        "gold_labels": gold_labels,
        "labels": labels,
        "counts": [[matrix[g][p] for p in labels] for g in gold_labels],
    }


def evaluate(rows: Sequence[Scored], entity_types: Sequence[str] = BENCH_ENTITY_TYPES) -> dict:
    """Every understanding figure for one configuration on one held-out set."""
    pairs = [(row.gold_intent, row.predicted_intent) for row in rows]
    return {
        **intent_report(pairs),
        **rejection_rates(pairs),
        "entities": entity_report(rows, entity_types),
        "confusion": confusion(pairs),
    }


def by_flag(rows: Sequence[Scored], legend: Mapping[str, str]) -> dict:
    """The headline figures per Bitext linguistic flag (a message with flags "BQZ" counts under B, Q and Z)."""
    result = {}
    for flag, name in legend.items():
        subset = [row for row in rows if flag in row.flags]
        if not subset:
            continue
        pairs = [(row.gold_intent, row.predicted_intent) for row in subset]
        intents = intent_report(pairs)
        entities = entity_report(subset)
        result[flag] = {
            "name": name,
            "n": len(subset),
            "accuracy": intents["accuracy"],
            "macro_f1": intents["macro_f1"],
            **rejection_rates(pairs),
            "entity_f1": entities["micro"]["f1"],
        }
    return result


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) like numpy's default; None for no values."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    position = (len(data) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)
