"""The benchmark's outputs: ``bench.json`` (every figure), ``bench.md`` (tables + PNG plots) and the headline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench import plots

CONFIGS = ("project", "default")
SET_TITLES = {"own": "own held-out", "own-2": "previous own held-out", "bitext": "Bitext-mapped held-out"}


# ---- targets -------------------------------------------------------------------------------------------------------


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


# ---- formatting ----------------------------------------------------------------------------------------------------


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int,)):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def headline(results: Mapping) -> list[str]:
    lines = []
    for t in results.get("targets", []):
        met = {True: "MET", False: "NOT MET", None: "n/a"}[t["met"]]
        extra = "" if t["default"] is None else f" (default {_f(t['default'])})"
        lines.append(f"{met:8s} {t['target']}: {_f(t['value'])}{extra}")
    serving = results.get("serving") or {}
    for name in CONFIGS:
        if isinstance(serving.get(name), Mapping) and "sustained_msg_per_s" in serving[name]:
            best = serving[name].get("sustained") or {}
            lines.append(
                f"serving  {name}: {serving[name]['sustained_msg_per_s']:.1f} msg/s sustained at p95 "
                f"{_f(best.get('p95_ms'), 0)} ms ({_f(best.get('users'))} conversations)"
            )
    conv = results.get("conversations") or {}
    for name in CONFIGS:
        if isinstance(conv.get(name), Mapping) and "pass_rate" in conv[name]:
            c = conv[name]
            lines.append(f"stories  {name}: {c['passed']}/{c['stories']} test stories pass ({_pct(c['pass_rate'])})")
    engine = results.get("engine") or {}
    for key, value in (engine.get("headline") or {}).items():
        lines.append(f"engine   {key}: {_f(value, 0)}")
    return lines


def _understanding_md(nlu: Mapping, out: Path, files: list[str]) -> list[str]:
    md = ["## 1. Understanding", ""]
    configs = [c for c in CONFIGS if c in nlu.get("configs", {})]
    if not configs:
        return md + [f"Not run: {nlu.get('error') or nlu.get('skipped')}", ""]
    md.append(
        "Held-out sets: "
        + ", ".join(f"{SET_TITLES.get(k, k)} ({v} messages)" for k, v in nlu["sets"].items())
        + ". Parse time per message: "
        + ", ".join(f"{c} {nlu['configs'][c]['parse_ms_per_message']:.1f} ms" for c in configs)
        + "."
    )
    md.append("")
    for set_name in nlu["sets"]:
        md.append(f"### {SET_TITLES.get(set_name, set_name)}")
        md.append("")
        rows = []
        for c in configs:
            fig = nlu["configs"][c][set_name]
            ents = fig["entities"]["per_type"]
            ent_cells = [
                f"{_f(ents[t]['precision'], 3)} / {_f(ents[t]['recall'], 3)}"
                for t in ("order_number", "email", "serial_number")
            ]
            rows.append(
                [
                    c,
                    fig["n"],
                    _f(fig["accuracy"]),
                    _f(fig["macro_f1"]),
                    _pct(fig["out_of_scope_rejection_rate"]),
                    _pct(fig["false_fallback_rate"]),
                    *ent_cells,
                ]
            )
        md += _table(
            [
                "config",
                "n",
                "accuracy",
                "macro-F1",
                "out-of-scope rejected",
                "false fallback",
                "order_number P / R",
                "email P / R",
                "serial_number P / R",
            ],
            rows,
        )
        labels = sorted({label for c in configs for label in nlu["configs"][c][set_name]["per_intent"]})
        rows = []
        for label in labels:
            cells = [nlu["configs"][c][set_name]["per_intent"].get(label, {}) for c in configs]
            rows.append([label, cells[0].get("support", ""), *[_f(cell.get("f1")) for cell in cells]])
        md += ["<details><summary>per-intent F1</summary>", ""]
        md += _table(["intent", "support", *[f"{c} F1" for c in configs]], rows)
        md += ["</details>", ""]
        for c in configs:
            name = f"bench_confusion_{c}_{set_name}.png"
            plots.confusion_plot(
                nlu["configs"][c][set_name]["confusion"],
                f"{c} config, {SET_TITLES.get(set_name, set_name)}",
                out / name,
            )
            files.append(name)
            md.append(f"![confusion matrix, {c}, {set_name}]({name})")
        md.append("")
        flags = {c: nlu["configs"][c][set_name].get("by_flag") for c in configs}
        if all(flags.values()):
            md += [f"#### By Bitext linguistic flag ({SET_TITLES.get(set_name, set_name)})", ""]
            rows = []
            for flag, first in flags[configs[0]].items():
                row = [flag, first["name"], first["n"]]
                for c in configs:
                    cell = flags[c].get(flag, {})
                    row += [
                        _f(cell.get("accuracy")),
                        _f(cell.get("macro_f1")),
                        _pct(cell.get("out_of_scope_rejection_rate")),
                        _pct(cell.get("false_fallback_rate")),
                    ]
                rows.append(row)
            header = ["flag", "meaning", "n"]
            for c in configs:
                header += [f"{c} acc", f"{c} macro-F1", f"{c} OOS rejected", f"{c} false fallback"]
            md += _table(header, rows)
            name = f"bench_flags_{set_name}.png"
            plots.grouped_bars(
                {c: {f"{k} {v['name']}": v["macro_f1"] for k, v in flags[c].items()} for c in configs},
                f"macro-F1 by Bitext flag ({SET_TITLES.get(set_name, set_name)})",
                "macro-F1",
                out / name,
            )
            files.append(name)
            md += [f"![macro-F1 by flag]({name})", ""]
    rows = []
    for c in configs:
        micro = nlu["configs"][c]["entities_all"]
        per = micro["per_type"]
        rows.append(
            [
                c,
                *[
                    f"{_f(per[t]['precision'])} / {_f(per[t]['recall'])} / {_f(per[t]['f1'])} (n={per[t]['gold']})"
                    for t in ("order_number", "email", "serial_number")
                ],
                _f(micro["micro"]["f1"]),
            ]
        )
    md += ["### Entities, both sets together (precision / recall / F1)", ""]
    md += _table(["config", "order_number", "email", "serial_number", "micro F1"], rows)
    return md


def _serving_md(serving: Mapping, limit: float, out: Path, files: list[str]) -> list[str]:
    md = ["## 3. Serving", ""]
    runs = {k: v for k, v in serving.items() if isinstance(v, Mapping) and "steps" in v}
    for name, value in serving.items():
        if name not in runs and name != "plan":
            md.append(f"- {name}: not run: {value.get('error') or value.get('skipped')}")
    if serving.get("plan"):
        plan = serving["plan"]
        md += [
            f"Scripted conversations ({plan.get('scripts')}) over REST, think time uniform "
            f"{plan['think_seconds'][0]}-{plan['think_seconds'][1]} s before each message, users added in steps "
            f"({plan['warmup_seconds']} s settle + {plan['step_seconds']} s measured each) until p95 > {limit:.0f} ms.",
            "",
        ]
    for name, run in runs.items():
        md += [f"### {name}: {run['setup']}", ""]
        if run.get("startup_seconds") is not None:
            md += [f"Start-up until the model answered: {run['startup_seconds']:.0f} s.", ""]
        rows = []
        for s in run["steps"]:
            cpu = s.get("cpu_percent") or {}
            rows.append(
                [
                    s["users"],
                    _f(s["msg_per_s"], 1),
                    _f(s["p50_ms"], 0),
                    _f(s["p95_ms"], 0),
                    _f(s["p99_ms"], 0),
                    s["errors"],
                    " ".join(f"{k} {_f(v, 0)}%" for k, v in cpu.items()),
                ]
            )
        md += _table(["users", "msg/s", "p50 ms", "p95 ms", "p99 ms", "errors", "CPU (% of one core)"], rows)
        best = run.get("sustained")
        md += [
            f"Sustained at p95 < {limit:.0f} ms: **{run['sustained_msg_per_s']:.1f} msg/s**"
            + (f" ({best['users']} conversations)." if best else "."),
            "",
        ]
        rows = [
            [
                p,
                _f(v.get("cpu_seconds"), 1),
                _f(v.get("cpu_percent"), 0),
                _f(v.get("peak_rss_mb"), 0),
                v.get("processes", ""),
            ]
            for p, v in (run.get("processes") or {}).items()
        ]
        md += _table(["process (tree)", "CPU s under load", "mean CPU %", "peak RSS MB", "processes"], rows)
    if runs:
        name = "bench_latency.png"
        plots.latency_plot(runs, limit, out / name)
        files.append(name)
        md += [f"![latency vs load]({name})", ""]
    return md


def markdown(results: Mapping, out: Path) -> tuple[str, list[str]]:
    files: list[str] = []
    meta = results.get("meta", {})
    md = [
        "# Benchmark: the project's configuration vs Rasa's default configuration",
        "",
        f"`{meta.get('command')}` on {meta.get('started')} ({meta.get('cpus')} CPUs, mode: {meta.get('mode')}), "
        f"{meta.get('seconds', 0):.0f} s in all; 1-minute load average {_f(meta.get('load_average_at_start'), 1)} "
        f"at the start, {_f(meta.get('load_average_at_end'), 1)} at the end (anything above the benchmark's own "
        "load skews the timings). Every figure is also in `bench.json`; how each is measured: docs/bench.md.",
        "",
        "## Targets",
        "",
    ]
    md += _table(
        ["target", "project", "default", "met"],
        [[t["target"], _f(t["value"]), _f(t["default"]), _f(t["met"])] for t in results.get("targets", [])],
    )
    md += ["```", *headline(results), "```", ""]
    md += _understanding_md(results.get("understanding") or {}, out, files)

    md += ["## 2. Conversations (tests/test_stories.yml)", ""]
    conv = results.get("conversations") or {}
    if "skipped" in conv or "error" in conv:
        md += [f"Not run: {conv.get('error') or conv.get('skipped')}", ""]
    rows = [
        [
            c,
            v.get("passed", ""),
            v.get("stories", ""),
            _pct(v.get("pass_rate")),
            v.get("error") or v.get("skipped") or "",
        ]
        for c, v in conv.items()
        if isinstance(v, Mapping)
    ]
    if rows:
        md += _table(["config", "passed", "stories", "pass rate", "note"], rows)

    serving = results.get("serving") or {}
    md += _serving_md(serving, (serving.get("plan") or {}).get("p95_limit_ms", 300.0), out, files)

    md += ["## 4. Engine (policy decisions)", ""]
    engine = results.get("engine") or {}
    if engine.get("headline"):
        md += _table(["figure", "value"], [[k, _f(v, 1)] for k, v in engine["headline"].items()])
    else:
        md += [f"Not run: {engine.get('error') or engine.get('skipped')}", ""]

    md += ["## 5. Training", ""]
    training = results.get("training") or {}
    if "skipped" in training or "error" in training:
        md += [f"Not run: {training.get('error') or training.get('skipped')}", ""]
    rows = []
    for c, runs in training.items():
        if not isinstance(runs, Mapping):
            continue
        if "error" in runs or "skipped" in runs:
            rows.append([c, "", "", "", "", "", runs.get("error") or runs.get("skipped")])
            continue
        for kind, r in runs.items():
            rows.append(
                [
                    c,
                    kind,
                    _f(r["wall_seconds"], 1),
                    _f(r["cpu_seconds"], 1),
                    _f(r["peak_rss_mb"], 0),
                    _f(r["model_mb"], 1),
                    r.get("reused", ""),
                ]
            )
    if rows:
        md += _table(["config", "run", "wall s", "CPU s", "peak RSS MB", "model MB", "note"], rows)
    return "\n".join(md) + "\n", files


def write(results: dict, out: Path) -> dict:
    """Write bench.json and bench.md (with plots) into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    results["targets"] = evaluate_targets(results)
    text, files = markdown(results, out)
    (out / "bench.md").write_text(text, encoding="utf-8")
    results["plots"] = files
    (out / "bench.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return {"markdown": out / "bench.md", "json": out / "bench.json", "plots": [out / f for f in files]}
