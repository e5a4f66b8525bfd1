"""PNG plots of the benchmark (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"project": "tab:blue", "default": "tab:orange", "starter": "tab:green", "project-4w": "tab:purple"}


def confusion_plot(confusion: Mapping, title: str, path: Path) -> Path:
    """Row-normalised confusion matrix: gold intents down, predicted intents across."""
    gold, labels, counts = confusion["gold_labels"], confusion["labels"], confusion["counts"]
    rows = [[c / max(1, sum(row)) for c in row] for row in counts]
    size = max(6.0, 0.28 * len(labels) + 3)
    fig, ax = plt.subplots(figsize=(size, max(4.0, 0.28 * len(gold) + 2.5)))
    image = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(gold)))
    ax.set_yticklabels(gold, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=10)
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            if count:
                ax.text(
                    j,
                    i,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=5,
                    color="white" if rows[i][j] > 0.6 else "black",
                )
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latency_plot(serving: Mapping[str, Mapping], p95_limit_ms: float, path: Path) -> Path:
    """Latency percentiles against the load (users, and the messages per second they sent), for every setup.

    A step measured again (its first window over the limit, ``retried``) is drawn as a lone "x" beside the line,
    which follows the step's last measurement."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for name, result in serving.items():
        measured = [s for s in result.get("steps", []) if s.get("p95_ms") is not None]
        if not measured:
            continue
        color = COLORS.get(name)
        retried = [s for s in measured if s.get("retried")]
        steps = [s for s in measured if not s.get("retried")]
        users = [s["users"] for s in steps]
        left.plot(users, [s["p95_ms"] for s in steps], "o-", color=color, label=f"{name} p95")
        left.plot(users, [s["p50_ms"] for s in steps], "s--", color=color, alpha=0.6, label=f"{name} p50")
        left.plot(users, [s["p99_ms"] for s in steps], ":", color=color, alpha=0.6, label=f"{name} p99")
        if retried:
            left.plot(
                [s["users"] for s in retried],
                [s["p95_ms"] for s in retried],
                "x",
                color=color,
                label=f"{name} p95, window measured again",
            )
        right.plot(users, [s["msg_per_s"] for s in steps], "o-", color=color, label=name)
    left.axhline(p95_limit_ms, color="red", linewidth=0.8, linestyle="--", label=f"{p95_limit_ms:.0f} ms")
    left.set_xlabel("concurrent scripted conversations (users)")
    left.set_ylabel("latency (ms)")
    left.set_yscale("log")
    left.set_title("latency vs load")
    left.legend(fontsize=7)
    right.set_xlabel("concurrent scripted conversations (users)")
    right.set_ylabel("messages per second")
    right.set_title("throughput vs users")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def grouped_bars(series: Mapping[str, Mapping[str, float | None]], title: str, ylabel: str, path: Path) -> Path:
    """One group of bars per category, one bar per configuration (e.g. macro-F1 by Bitext flag)."""
    categories = sorted({c for values in series.values() for c in values})
    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(categories) + 3), 4.2))
    for k, (name, values) in enumerate(series.items()):
        xs = [i + k * width for i in range(len(categories))]
        ax.bar(xs, [values.get(c) or 0.0 for c in categories], width, label=name, color=COLORS.get(name))
    ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(categories))])
    ax.set_xticklabels(categories, rotation=60, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right", framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
