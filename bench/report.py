"""The benchmark's outputs: ``bench.json`` (every figure), ``bench.md`` (tables + PNG plots) and the headline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from bench.report_sections import fmt, pct, serving_md, table, understanding_md
from bench.targets import CONFIGS, evaluate_targets


def headline(results: Mapping) -> list[str]:
    lines = []
    if (results.get("meta") or {}).get("mode") == "smoke":
        lines.append("smoke run: samples and checks, not measurements; every target is n/a")
    for t in results.get("targets", []):
        met = {True: "MET", False: "NOT MET", None: "n/a"}[t["met"]]
        extra = "" if t["default"] is None else f" (default {fmt(t['default'])})"
        lines.append(f"{met:8s} {t['target']}: {fmt(t['value'])}{extra}")
    serving = results.get("serving") or {}
    for name, run in serving.items():
        if isinstance(run, Mapping) and "sustained_msg_per_s" in run and run.get("stopped") != "smoke":
            best = run.get("sustained") or {}
            cpu = (run.get("cpu_ms_per_message") or {}).get("servers")
            lines.append(
                f"serving  {name}: {run['sustained_msg_per_s']:.1f} msg/s sustained at p95 "
                f"{fmt(best.get('p95_ms'), 0)} ms ({fmt(best.get('users'))} conversations; "
                f"servers' CPU {fmt(cpu, 1)} ms/message; stopped: {run.get('stopped')}"
                + (", CAP HIT before the knee)" if run.get("cap_hit") else ")")
            )
        elif isinstance(run, Mapping) and run.get("stopped") == "smoke":
            ok = sum(1 for c in run.get("checks", []) if c["ok"])
            lines.append(f"smoke    {name}: {ok}/{len(run.get('checks', []))} serving checks pass")
    conv = results.get("conversations") or {}
    for name in CONFIGS:
        if isinstance(conv.get(name), Mapping) and "pass_rate" in conv[name]:
            c = conv[name]
            lines.append(f"stories  {name}: {c['passed']}/{c['stories']} test stories pass ({pct(c['pass_rate'])})")
    engine = results.get("engine") or {}
    for key, value in (engine.get("headline") or {}).items():
        lines.append(f"engine   {key}: {fmt(value, 0)}")
    return lines


def markdown(results: Mapping, out: Path) -> tuple[str, list[str]]:
    files: list[str] = []
    meta = results.get("meta", {})
    md = [
        "# Benchmark: the project's configuration vs Rasa's default configuration",
        "",
        f"`{meta.get('command')}` on {meta.get('started')} ({meta.get('cpus')} CPUs, mode: {meta.get('mode')}), "
        f"{meta.get('seconds', 0):.0f} s in all; 1-minute load average {fmt(meta.get('load_average_at_start'), 1)} "
        f"at the start, {fmt(meta.get('load_average_at_end'), 1)} at the end (anything above the benchmark's own "
        "load skews the timings). Every figure is also in `bench.json`; how each is measured: docs/bench.md.",
        "",
        "## Targets",
        "",
    ]
    md += table(
        ["target", "project", "default", "met"],
        [[t["target"], fmt(t["value"]), fmt(t["default"]), fmt(t["met"])] for t in results.get("targets", [])],
    )
    md += ["```", *headline(results), "```", ""]
    md += understanding_md(results.get("understanding") or {}, out, files)

    md += ["## 2. Conversations (tests/test_stories.yml)", ""]
    conv = results.get("conversations") or {}
    if "skipped" in conv or "error" in conv:
        md += [f"Not run: {conv.get('error') or conv.get('skipped')}", ""]
    rows = [
        [
            c,
            v.get("passed", ""),
            v.get("stories", ""),
            pct(v.get("pass_rate")),
            v.get("error") or v.get("skipped") or "",
        ]
        for c, v in conv.items()
        if isinstance(v, Mapping)
    ]
    if rows:
        md += table(["config", "passed", "stories", "pass rate", "note"], rows)

    serving = results.get("serving") or {}
    md += serving_md(serving, (serving.get("plan") or {}).get("p95_limit_ms", 300.0), out, files)

    md += ["## 4. Engine (policy decisions)", ""]
    engine = results.get("engine") or {}
    if engine.get("headline"):
        md += table(["figure", "value"], [[k, fmt(v, 1)] for k, v in engine["headline"].items()])
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
                    fmt(r["wall_seconds"], 1),
                    fmt(r["cpu_seconds"], 1),
                    fmt(r["peak_rss_mb"], 0),
                    fmt(r["model_mb"], 1),
                    r.get("reused", ""),
                ]
            )
    if rows:
        md += table(["config", "run", "wall s", "CPU s", "peak RSS MB", "model MB", "note"], rows)
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
