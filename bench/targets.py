"""The benchmark's targets (issue 4): each with the project's figure, the default config's where relevant, met or not
(``report.write`` stores them in bench.json and tabulates them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CONFIGS = ("project", "default")
SET_TITLES = {"own": "own held-out", "own-2": "previous own held-out", "bitext": "Bitext-mapped held-out"}


def _get(data: Mapping, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping) or key not in data:
            return None
        data = data[key]
    return data


def _target(name: str, value: float | None, ok: bool | None, compared: float | None = None) -> dict:
    return {"target": name, "value": value, "default": compared, "met": ok}


def evaluate_targets(results: Mapping) -> list[dict]:
    """The issue's targets, each with the project's value, the default config's where relevant, and met or not.
    A smoke run measures nothing (samples of 8 messages, no load steps): every target is n/a there; with ``--sample``
    the understanding targets are n/a (a sample of a test set is not its score)."""
    targets = _evaluate(results)
    if _get(results, "meta", "mode") == "smoke":
        return [{**t, "value": None, "default": None, "met": None} for t in targets]
    if _get(results, "meta", "sample"):  # --sample N: the understanding figures are of samples, not the sets
        return [
            {**t, "value": None, "default": None, "met": None} if t["target"].startswith(("intent", "entity")) else t
            for t in targets
        ]
    return targets


def _evaluate(results: Mapping) -> list[dict]:
    targets = []
    nlu = _get(results, "understanding", "configs") or {}
    for set_name, floor in (("bitext", 0.95), ("own", 0.97), ("own-2", 0.97)):
        mine = _get(nlu, "project", set_name, "macro_f1")
        theirs = _get(nlu, "default", set_name, "macro_f1")
        ok = None if mine is None else mine >= floor and (theirs is None or mine > theirs)
        targets.append(
            _target(f"intent macro-F1 {SET_TITLES[set_name]} >= {floor} and above default", mine, ok, theirs)
        )
    entity = _get(nlu, "project", "entities_all", "micro", "f1")
    targets.append(
        _target(
            "entity F1 (order number, email, serial) >= 0.99",
            entity,
            None if entity is None else entity >= 0.99,
            _get(nlu, "default", "entities_all", "micro", "f1"),
        )
    )
    rates = {
        name: _get(results, "serving", name, "sustained_msg_per_s")
        for name in ("project", "project-4w", "default", "starter")
    }
    # issue 4: the project, served at its best, against the default config (both measured in the run)
    mine = max((rates[n] for n in ("project", "project-4w") if rates[n]), default=None)
    theirs = rates["default"]
    ratio = None if not mine or not theirs else mine / theirs
    targets.append(
        _target(
            ">= 2x the default config's sustained msg/s at p95 < 300 ms (ratio)",
            ratio,
            None if ratio is None else ratio >= 2.0,
        )
    )
    # issue 14: make run's setup, 40 msg/s and 1.5x Rasa's starter bot in the same run
    made = rates["project"]
    targets.append(
        _target(
            "make run's setup >= 40 msg/s sustained at p95 < 300 ms",
            made,
            None if made is None else made >= 40.0,
        )
    )
    starter = rates["starter"]
    ratio = None if made is None or not starter else made / starter
    targets.append(
        _target(
            "make run's setup >= 1.5x the starter bot's sustained msg/s (ratio)",
            ratio,
            None if ratio is None else ratio >= 1.5,
            starter,
        )
    )
    cold = _get(results, "training", "project", "cold", "wall_seconds")
    targets.append(
        _target(
            "training < 3 minutes cold (s)",
            cold,
            None if cold is None else cold < 180,
            _get(results, "training", "default", "cold", "wall_seconds"),
        )
    )
    return targets
