"""The report's Markdown helpers and its two longest sections: understanding (1) and serving (3), with their plots."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench import plots
from bench.targets import CONFIGS, SET_TITLES


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int,)):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def understanding_md(nlu: Mapping, out: Path, files: list[str]) -> list[str]:
    md = ["## 1. Understanding", ""]
    for name, why in (nlu.get("not_evaluated") or {}).items():
        md += [f"- {name}: not evaluated: {why}", ""]
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
                f"{fmt(ents[t]['precision'], 3)} / {fmt(ents[t]['recall'], 3)}"
                for t in ("order_number", "email", "serial_number")
            ]
            rows.append(
                [
                    c,
                    fig["n"],
                    fmt(fig["accuracy"]),
                    fmt(fig["macro_f1"]),
                    pct(fig["out_of_scope_rejection_rate"]),
                    pct(fig["false_fallback_rate"]),
                    *ent_cells,
                ]
            )
        md += table(
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
            rows.append([label, cells[0].get("support", ""), *[fmt(cell.get("f1")) for cell in cells]])
        md += ["<details><summary>per-intent F1</summary>", ""]
        md += table(["intent", "support", *[f"{c} F1" for c in configs]], rows)
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
                        fmt(cell.get("accuracy")),
                        fmt(cell.get("macro_f1")),
                        pct(cell.get("out_of_scope_rejection_rate")),
                        pct(cell.get("false_fallback_rate")),
                    ]
                rows.append(row)
            header = ["flag", "meaning", "n"]
            for c in configs:
                header += [f"{c} acc", f"{c} macro-F1", f"{c} OOS rejected", f"{c} false fallback"]
            md += table(header, rows)
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
                    f"{fmt(per[t]['precision'])} / {fmt(per[t]['recall'])} / {fmt(per[t]['f1'])} (n={per[t]['gold']})"
                    for t in ("order_number", "email", "serial_number")
                ],
                fmt(micro["micro"]["f1"]),
            ]
        )
    md += ["### Entities, both sets together (precision / recall / F1)", ""]
    md += table(["config", "order_number", "email", "serial_number", "micro F1"], rows)
    return md


STOPPED = {
    "knee": "p95 passed the limit",
    "errors": "more than 5 % errors",
    "cap": "TIME CAP HIT before the knee",
    "max_users": "USER CAP HIT before the knee",
    "no answers": "no answers in a step",
    "smoke": "smoke run: every conversation once, checked",
}


def serving_md(serving: Mapping, limit: float, out: Path, files: list[str]) -> list[str]:
    md = ["## 3. Serving", ""]
    runs = {k: v for k, v in serving.items() if isinstance(v, Mapping) and "steps" in v}
    for name, value in serving.items():
        if name not in runs and name != "plan":
            md.append(f"- {name}: not run: {value.get('error') or value.get('skipped')}")
    plan = serving.get("plan") or {}
    if plan.get("smoke"):
        md += [f"Smoke run: each of the {plan.get('scripts')} scripted conversations played once, checked.", ""]
    elif plan:
        md += [
            f"Scripted conversations ({plan.get('scripts')}) over REST, think time uniform "
            f"{plan['think_seconds'][0]}-{plan['think_seconds'][1]} s before each message, a new sender per "
            f"conversation; users added in steps ({plan['warmup_seconds']} s settle + {plan['step_seconds']} s "
            f"measured each) until p95 > {limit:.0f} ms (the knee); caps: {plan.get('cap_seconds', 0) / 60:.0f} "
            f"minutes of steps and {plan.get('max_users')} users per setup. The setups run at once and each step "
            "is measured for every setup in turn (bench/alternate.py), so they share the machine's other work alike; "
            "'others' CPU %' is what other processes on the machine took during a window (200 = both cores).",
            "",
        ]
    starter = (runs.get("starter") or {}).get("sustained_msg_per_s")
    summary = []
    for name, run in runs.items():
        if run.get("stopped") == "smoke":
            continue
        best = run.get("sustained") or {}
        cpu = run.get("cpu_ms_per_message") or {}
        processes = run.get("processes") or {}
        peak = sum((v.get("peak_rss_mb") or 0) for k, v in processes.items() if k != "load generator")
        summary.append(
            [
                name,
                fmt(run["sustained_msg_per_s"], 1),
                fmt(best.get("users")),
                f"{fmt(best.get('p50_ms'), 0)} / {fmt(best.get('p95_ms'), 0)} / {fmt(best.get('p99_ms'), 0)}",
                fmt(cpu.get("servers"), 1),
                fmt(best.get("others_cpu_percent"), 0),
                fmt(peak, 0),
                fmt(run["sustained_msg_per_s"] / starter, 2) if starter else "n/a",
                STOPPED.get(str(run.get("stopped")), str(run.get("stopped"))),
            ]
        )
    if summary:
        md += table(
            [
                "setup",
                "sustained msg/s",
                "users",
                "p50 / p95 / p99 ms",
                "servers' CPU ms/message",
                "others' CPU % there",
                "peak RSS MB (servers)",
                "x starter bot",
                "stopped",
            ],
            summary,
        )
    for name, run in runs.items():
        md += [f"### {name}: {run['setup']}", ""]
        if run.get("startup_seconds") is not None:
            md += [f"Start-up until the model answered: {run['startup_seconds']:.0f} s.", ""]
        trained = run.get("training")
        if isinstance(trained, Mapping) and trained.get("wall_seconds") is not None:
            md += [
                f"Model written and trained by `rasa init` in {trained['wall_seconds']:.0f} s "
                f"({trained.get('cpu_seconds', 0):.0f} s CPU) at {trained.get('trained_at')}"
                + (", by an earlier run." if trained.get("reused") else ", in this run."),
                "",
            ]
        rows = []
        for s in run["steps"]:
            cpu = s.get("cpu_ms_per_message") or {}
            rows.append(
                [
                    s["users"],
                    fmt(s["msg_per_s"], 1),
                    fmt(s["p50_ms"], 0),
                    fmt(s["p95_ms"], 0),
                    fmt(s["p99_ms"], 0),
                    s["errors"],
                    " ".join(f"{k} {fmt(v, 1)}" for k, v in cpu.items()),
                    fmt(s.get("others_cpu_percent"), 0),
                ]
            )
        header = ["users", "msg/s", "p50 ms", "p95 ms", "p99 ms", "errors", "CPU ms per message", "others' CPU %"]
        md += table(header, rows)
        best = run.get("sustained")
        if run.get("stopped") != "smoke":
            md += [
                f"Sustained at p95 < {limit:.0f} ms: **{run['sustained_msg_per_s']:.1f} msg/s**"
                + (f" ({best['users']} conversations)" if best else "")
                + f"; stopped: {STOPPED.get(str(run.get('stopped')), run.get('stopped'))}.",
                "",
            ]
        for check in run.get("checks") or []:
            md.append(f"- {'ok' if check['ok'] else '**FAILED**'}: {check['check']} ({check['detail'][:200]})")
        if run.get("checks"):
            md.append("")
        rows = [
            [
                p,
                fmt(v.get("cpu_seconds"), 1),
                fmt(v.get("cpu_percent"), 0),
                fmt(v.get("peak_rss_mb"), 0),
                v.get("processes", ""),
            ]
            for p, v in (run.get("processes") or {}).items()
        ]
        md += table(["process (tree)", "CPU s under load", "mean CPU %", "peak RSS MB", "processes"], rows)
    if runs:
        name = "bench_latency.png"
        plots.latency_plot(runs, limit, out / name)
        files.append(name)
        md += [f"![latency vs load]({name})", ""]
    return md
