"""``make bench``: the project's configuration side by side with Rasa's default configuration.

    .venv-engine/bin/python -m bench            # full run (< 20 minutes on 2 cores): reports/bench.md + bench.json
    .venv-engine/bin/python -m bench --smoke    # a few seconds, no Rasa: exercises every step of the script
    options: --out DIR (reports) --work DIR (var/bench) --only training,understanding,conversations,engine,serving
             --reuse-models (skip training when a previous run left both models in --work; for development)

Sections: 1 understanding (held-out sets), 2 conversations (tests/test_stories.yml), 3 serving (rising load over
REST), 4 engine (bench/engine_bench.py), 5 training (cold and cached). A section that fails is recorded with its
error and the others still run; the exit code is 1 if any failed. Targets that are not met do not fail the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import engine, paths, report
from bench.load import load_scripts
from bench.serving import LoadPlan, Setup, run_setup, run_stub
from bench.training import default_config_copy, story_results, train_config, train_or_reuse
from bench.understanding import heldout_sets, rasa_predictor, run_understanding, simulated_predictor

SECTIONS = ("training", "understanding", "conversations", "engine", "serving")
TOTAL_BUDGET_SECONDS = 19 * 60  # `make bench` must finish within 20 minutes

FULL_PLAN = LoadPlan(
    # fine steps where both setups have hit the limit so far (the default between 4 and 8 users, the project near 24),
    # so the ratio of sustained rates is not set by the step size
    user_steps=(4, 6, 8, 10, 12, 16, 20, 24, 28, 32, 40, 48, 64, 96, 128, 160, 200, 256),
    step_seconds=15.0,
    warmup_seconds=4.0,
    think_seconds=(1.5, 4.5),
    budget_seconds=240.0,
)
SMOKE_PLAN = LoadPlan(
    user_steps=(2, 4),
    step_seconds=0.8,
    warmup_seconds=0.3,
    think_seconds=(0.01, 0.05),
    budget_seconds=5.0,
    warmup_total_seconds=0.0,
)

# How the project is served in the benchmark (the fair tuning the issue allows) and how the default config is.
# 4 Rasa workers on 2 cores: the sentence embedding holds a worker's event loop for about 25 ms per message, and with
# 2 workers p95 passed 300 ms at 16 customers while the machine was 70 % idle (docs/bench.md, "Serving setups")
PROJECT_SERVING = dict(rasa_workers=4, action_workers=2, redis=True)
DEFAULT_SERVING = dict(rasa_workers=1, action_workers=1, redis=False)


def _section(results: dict, name: str, run: Callable[[], object], log: Callable[[str], None]) -> None:
    started = time.monotonic()
    log(f"bench: {name} ...")
    try:
        results[name] = run()
    except Exception as error:  # recorded in the report; the other sections still run
        traceback.print_exc()
        results[name] = {"error": f"{type(error).__name__}: {error}"}
    log(f"bench: {name} done in {time.monotonic() - started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds, no Rasa model (used by make test)")
    parser.add_argument("--out", type=Path, default=paths.ROOT / "reports")
    parser.add_argument("--work", type=Path, default=paths.ROOT / "var" / "bench")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--reuse-models", action="store_true")
    parser.add_argument("--sample", type=int, default=0, help="development: at most N messages per held-out set")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}")

    def log(line: str) -> None:
        print(line, flush=True)

    began = time.monotonic()
    deadline = began + TOTAL_BUDGET_SECONDS
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "meta": {
            "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
            "mode": "smoke" if args.smoke else "full",
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg()[0],  # other work on the machine skews every timing
            "python": platform.python_version(),
            "configs": {
                "project": str(paths.PROJECT_CONFIG.relative_to(paths.ROOT)),
                "default": str(paths.DEFAULT_CONFIG.relative_to(paths.ROOT)),
            },
        }
    }
    models = {
        "project": work / "models" / "project" / "cold" / "project.tar.gz",
        "default": work / "models" / "default" / "cold" / "default.tar.gz",
    }

    if "training" in only and not args.smoke:
        if args.reuse_models and all(m.is_file() for m in models.values()):
            results["training"] = {"skipped": "--reuse-models: models of an earlier run reused"}
        else:
            timeout = max(60.0, deadline - time.monotonic())
            _section(
                results,
                "training",
                lambda: {
                    "project": train_config(paths.PROJECT_CONFIG, "project", work, cached=True, timeout=timeout),
                    # the default config needs 41-67 minutes here, more with every training example added (its DIET
                    # epochs grow with the data); the limit only stops a hung run
                    "default": train_or_reuse(
                        paths.DEFAULT_CONFIG, default_config_copy(work), "default", work, timeout=max(7200.0, timeout)
                    ),
                },
                log,
            )
    elif args.smoke:
        results["training"] = {"skipped": "smoke run"}

    if "understanding" in only:
        if args.smoke:
            _section(
                results,
                "understanding",
                lambda: run_understanding(
                    {"project": Path("simulated"), "default": Path("simulated")},
                    heldout_sets(max_per_set=60),
                    simulated_predictor({"project": 25, "default": 6}),
                ),
                log,
            )
        else:
            # one .venv-rasa process loads each model once for the held-out sets and the test stories (item 2)
            for name in models:
                shutil.rmtree(work / "stories" / name, ignore_errors=True)
            # a hard stop only against a hung process: on a busy machine a slow evaluation beats none
            timeout = max(1200.0, deadline - time.monotonic())
            _section(
                results,
                "understanding",
                lambda: run_understanding(
                    models,
                    heldout_sets(max_per_set=args.sample or None),
                    rasa_predictor(work, stories=paths.TEST_STORIES, timeout=timeout),
                ),
                log,
            )

    if "conversations" in only:
        if args.smoke:
            results["conversations"] = {"skipped": "smoke run"}
        elif not paths.TEST_STORIES.is_file():
            results["conversations"] = {"skipped": f"{paths.TEST_STORIES.relative_to(paths.ROOT)} does not exist"}
        elif "understanding" not in only:
            results["conversations"] = {"skipped": "runs with the understanding section"}
        else:

            def conversations() -> dict:
                configs = (results.get("understanding") or {}).get("configs") or {}
                return {
                    name: {"error": configs[name]["stories_error"]}
                    if (configs.get(name) or {}).get("stories_error")
                    else story_results(work / "stories" / name)
                    for name in models
                }

            _section(results, "conversations", conversations, log)

    if "engine" in only:
        _section(results, "engine", lambda: engine.run(work, smoke=args.smoke), log)

    if "serving" in only:
        plan = SMOKE_PLAN if args.smoke else FULL_PLAN
        scripts = load_scripts(paths.CONVERSATIONS)
        serving: dict = {"plan": {**plan.__dict__, "scripts": len(scripts)}}
        results["serving"] = serving
        if args.smoke:
            _section(serving, "project", lambda: run_stub(scripts, plan, log), log)
            _section(serving, "default", lambda: run_stub(scripts, plan, log), log)
        else:
            for name, tuning in (("project", PROJECT_SERVING), ("default", DEFAULT_SERVING)):
                # share what is left of the total budget; on a busy machine overrun it rather than measure nothing
                share = (deadline - time.monotonic() - 90) / (2 if name == "project" else 1)  # 90 s: start-up
                budget = min(plan.budget_seconds, max(120.0, share))
                setup = Setup(name=name, model=models[name], **tuning)

                def measure(setup: Setup = setup, budget: float = budget) -> dict:
                    return run_setup(setup, scripts, LoadPlan(**{**plan.__dict__, "budget_seconds": budget}), work, log)

                _section(serving, name, measure, log)

    results["meta"]["seconds"] = time.monotonic() - began
    results["meta"]["load_average_at_end"] = os.getloadavg()[0]
    log("bench: writing the report ...")
    written = report.write(results, args.out)
    log("")
    for line in report.headline(results):
        log(line)
    log(
        f"bench: {written['markdown']} and {written['json']} ({len(written['plots'])} plots) "
        f"in {results['meta']['seconds']:.0f} s"
    )
    failed = [name for name, value in results.items() if isinstance(value, dict) and "error" in value]
    failed += [
        f"serving.{k}" for k, v in (results.get("serving") or {}).items() if isinstance(v, dict) and "error" in v
    ]
    if failed:
        log(f"bench: failed sections: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
