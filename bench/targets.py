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
    """The issue's targets, each with the project's value, the default config's where relevant, and met or not."""
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
    mine = _get(results, "serving", "project", "sustained_msg_per_s")
    theirs = _get(results, "serving", "default", "sustained_msg_per_s")
    ratio = None if not mine or not theirs else mine / theirs
    targets.append(
        _target(
            ">= 2x the default config's sustained msg/s at p95 < 300 ms (ratio)",
            ratio,
            None if ratio is None else ratio >= 2.0,
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
