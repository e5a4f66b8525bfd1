"""``make bench``: the project's configuration side by side with Rasa's default configuration and starter bot.

    .venv-engine/bin/python -m bench            # full run (about an hour on 2 cores): reports/bench.md + bench.json
    .venv-engine/bin/python -m bench --smoke    # under a minute: the real plumbing on samples (what tests/bench runs)
    options: --out DIR (reports) --work DIR (var/bench) --only training,understanding,conversations,engine,serving
             --reuse-models (skip training when a previous run left both models in --work; for development)
             --setups starter,project,project-4w,default  --step-seconds S --max-users N --cap-minutes M (serving)
             --model PATH (the project's model when this run did not train it; default: the newest in models/)

Sections: 1 understanding (held-out sets), 2 conversations (tests/test_stories.yml), 3 serving (rising load over
REST until the knee), 4 engine (bench/engine_bench.py), 5 training (cold and cached). A section that fails is
recorded with its error and the others still run; the exit code is 1 if any failed. Targets that are not met do not
fail the run.

``--smoke`` runs the real plumbing on small inputs: ``bench/rasa_eval.py`` in ``.venv-rasa`` with the trained model of
``models/`` on an even sample of each held-out set (8 messages each), and every scripted conversation once through a
real Rasa + action server (``botstack.acquire_test_stack``: the one the test session shares, else one of its own)
and the project's authenticated REST channel, checked (``bench.serving.smoke_checks``). No training, no test
stories, no load steps: those take minutes.
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
from typing import Any

import botstack
from bench import engine, paths, report
from bench.alternate import run_setups
from bench.load import load_scripts
from bench.serving import LoadPlan, Setup
from bench.smoke import run_smoke
from bench.starter import starter_bot
from bench.training import default_config_copy, story_results, train_config, train_or_reuse
from bench.understanding import heldout_sets, rasa_predictor, run_understanding, tuning_sets

SECTIONS = ("training", "understanding", "conversations", "engine", "serving")
# the timeouts of training and understanding (a hard stop only against a hung process); serving has no time budget
# before the knee, only a cap per setup (LoadPlan.cap_seconds)
TOTAL_BUDGET_SECONDS = 19 * 60
SMOKE_SAMPLE = 8  # messages per held-out set in --smoke

FULL_PLAN = LoadPlan(
    # fine steps where the setups met the limit in earlier runs (the default config between 4 and 8 users, make run's
    # setup near 8-16, the starter bot near 32); after the last, 25 % more users per step until the knee
    user_steps=(2, 4, 6, 8, 10, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128),
    step_seconds=15.0,
    warmup_seconds=4.0,
    think_seconds=(0.5, 1.5),  # mean 1 s, as in issue 14's measurement
    cap_seconds=15 * 60.0,
    max_users=1000,
)

# How each setup is served. "project" is `make run`'s setup as botstack starts it (its workers and stores, whatever
# they are); "project-4w" the tuning of earlier runs: 4 Rasa workers on 2 cores (the sentence embedding held a
# worker's event loop for tens of ms per message) with Redis. The default config is served like "project" (the same
# channels and stores), so the two differ by their model only.
SERVING: dict[str, dict[str, Any]] = {
    "starter": dict(starter=True),
    "project": dict(),
    "project-4w": dict(rasa_workers=4, action_workers=2, redis=True),
    "default": dict(),
}


def newest_model(directory: Path = paths.ROOT / "models") -> Path | None:
    models = sorted(directory.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


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
    parser.add_argument("--smoke", action="store_true", help="the real plumbing on samples (used by make test)")
    parser.add_argument("--out", type=Path, default=paths.ROOT / "reports")
    parser.add_argument("--work", type=Path, default=paths.ROOT / "var" / "bench")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--reuse-models", action="store_true")
    parser.add_argument("--sample", type=int, default=0, help="development: at most N messages per held-out set")
    parser.add_argument("--model", type=Path, help="the project's model if not trained in this run")
    parser.add_argument("--setups", default=",".join(SERVING), help="serving setups, comma-separated")
    parser.add_argument("--step-seconds", type=float, default=FULL_PLAN.step_seconds, help="measured s per step")
    parser.add_argument("--max-users", type=int, default=FULL_PLAN.max_users)
    parser.add_argument("--cap-minutes", type=float, default=FULL_PLAN.cap_seconds / 60, help="per serving setup")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    unknown = sorted(set(setups) - set(SERVING))
    if unknown:
        parser.error(f"unknown setup(s): {', '.join(unknown)}; known: {', '.join(SERVING)}")

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
            "sample": args.sample or (SMOKE_SAMPLE if args.smoke else None),
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
    trains = (
        "training" in only and not args.smoke and not (args.reuse_models and all(m.is_file() for m in models.values()))
    )
    if args.model is not None:
        models["project"] = args.model
    elif not trains and not models["project"].is_file():
        models["project"] = newest_model() or models["project"]  # `make train`'s model, when no bench trained one
    results["meta"]["models"] = {name: str(path) for name, path in models.items()}

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
            # the real evaluation (bench/rasa_eval.py in .venv-rasa) of the project's model on a sample of each set
            _section(
                results,
                "understanding",
                lambda: run_understanding(
                    {"project": models["project"]},
                    tuning_sets(max_per_set=args.sample or SMOKE_SAMPLE),  # never a test set on every make test
                    rasa_predictor(work, stories=None, timeout=600.0),
                ),
                log,
            )
        else:
            # one .venv-rasa process loads each model once for the held-out sets and the test stories (item 2)
            for name in models:
                shutil.rmtree(work / "stories" / name, ignore_errors=True)
            # a hard stop only against a hung process: on a busy machine a slow evaluation beats none
            timeout = max(1200.0, deadline - time.monotonic())
            # without training in this run (--only, --reuse-models), a model that is not there is left out and said
            # so; after training, a missing model is the section's error
            evaluated = models if trains else {n: m for n, m in models.items() if m.is_file()}

            def understanding() -> dict:
                figures = run_understanding(
                    evaluated,
                    heldout_sets(max_per_set=args.sample or None),
                    rasa_predictor(work, stories=paths.TEST_STORIES, timeout=timeout),
                )
                figures["not_evaluated"] = {n: f"no model at {m}" for n, m in models.items() if n not in evaluated}
                return figures

            _section(results, "understanding", understanding, log)

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
                    if name in configs
                }

            _section(results, "conversations", conversations, log)

    if "engine" in only:
        _section(results, "engine", lambda: engine.run(work, smoke=args.smoke), log)

    if "serving" in only:
        scripts = load_scripts(paths.CONVERSATIONS)
        serving: dict = {}
        results["serving"] = serving
        if args.smoke:
            serving["plan"] = {"smoke": True, "scripts": len(scripts)}

            def smoke() -> dict:
                stack = botstack.acquire_test_stack(work / "stack")  # the test session's, or one of its own
                try:
                    return run_smoke(scripts, stack.settings, log)
                finally:
                    botstack.release_test_stack()

            _section(serving, "project", smoke, log)
        else:
            plan = LoadPlan(
                **{
                    **FULL_PLAN.__dict__,
                    "step_seconds": args.step_seconds,
                    "max_users": args.max_users,
                    "cap_seconds": 60.0 * args.cap_minutes,
                }
            )
            serving["plan"] = {**plan.__dict__, "scripts": len(scripts), "setups": setups}
            chosen: list[Setup] = []
            trained: dict[str, dict] = {}

            def prepare(name: str) -> dict:
                if name == "starter":
                    bot = starter_bot(work)
                    trained[name] = bot["training"]
                    chosen.append(Setup(name=name, model=bot["model"], project_dir=bot["project_dir"], **SERVING[name]))
                    return {"pending": True}
                model = models["default" if name == "default" else "project"]
                if not model.is_file():
                    return {"skipped": f"no model at {model}"}
                chosen.append(Setup(name=name, model=model, **SERVING[name]))
                return {"pending": True}

            for name in setups:
                _section(serving, name, lambda name=name: prepare(name), log)
            # all setups at once, each load step measured for every setup in turn (bench/alternate.py)
            measured = run_setups(chosen, scripts, plan, work, log) if chosen else {}
            for name, result in measured.items():
                serving[name] = {**result, **({"training": trained[name]} if name in trained else {})}

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
