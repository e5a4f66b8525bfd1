"""Evaluate trained Rasa models (runs in .venv-rasa; the rest of the benchmark runs in .venv-engine).

    .venv-rasa/bin/python bench/rasa_eval.py --job job.json

``job.json``: ``{"texts": [...], "models": {"<name>": "<model.tar.gz>", ...}, "out": "<predictions.json>",
"stories": "<test stories file>" | null, "stories_out": "<dir>"}``. Each model is loaded once; it parses every text
and, when ``stories`` is given, runs the test stories exactly as ``rasa test core --successes --no-plot`` does, writing
``<stories_out>/<name>/{failed,successful}_test_stories.yml``.
Writes ``{"<name>": {"load_seconds": s, "parse_seconds": s, "stories_seconds": s, "predictions": [...]}}`` where
each prediction is
``{"intent": "faq/return_window" | "greet" | "nlu_fallback" ..., "confidence": c,
"entities": [{"entity", "start", "end", "value", "extractor"}]}``. A retrieval intent is resolved to its full name
with the response selector's ``intent_response_key`` (the selector named after the intent, else ``default``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def full_intent(parse: dict) -> str:
    intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    selectors = parse.get("response_selector") or {}
    for key in (intent, "default"):
        response = (selectors.get(key) or {}).get("response") or {}
        irk = response.get("intent_response_key")
        if irk and irk.split("/", 1)[0] == intent:
            return irk
    return intent


def slim(parse: dict) -> dict:
    return {
        "intent": full_intent(parse),
        "confidence": (parse.get("intent") or {}).get("confidence"),
        "entities": [
            {
                "entity": e.get("entity"),
                "start": e.get("start"),
                "end": e.get("end"),
                "value": str(e.get("value")),
                "extractor": e.get("extractor"),
            }
            for e in parse.get("entities") or []
        ],
    }


async def evaluate(model: str, texts: list[str], stories: str | None, stories_out: Path | None) -> dict:
    from rasa.core.agent import Agent

    started = time.perf_counter()
    agent = Agent.load(model)
    loaded = time.perf_counter()
    predictions = [slim(await agent.parse_message(text)) for text in texts]
    parsed = time.perf_counter()
    stories_error = None
    if stories and stories_out is not None:
        from rasa.core.test import test

        stories_out.mkdir(parents=True, exist_ok=True)
        try:
            await test(stories, agent, out_directory=str(stories_out), successes=True, disable_plotting=True)
        except Exception as error:  # reported under "conversations"; the NLU figures still count
            logging.exception("test stories failed")
            stories_error = f"{type(error).__name__}: {error}"
    return {
        "load_seconds": loaded - started,
        "parse_seconds": parsed - loaded,
        "stories_seconds": time.perf_counter() - parsed,
        "stories_error": stories_error,
        "predictions": predictions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", required=True, type=Path)
    args = parser.parse_args()
    job = json.loads(args.job.read_text(encoding="utf-8"))
    logging.basicConfig(level=logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no debug line per prediction
    stories, out = job.get("stories"), job.get("stories_out")
    result = {
        name: asyncio.run(evaluate(model, job["texts"], stories, Path(out) / name if out else None))
        for name, model in job["models"].items()
    }
    Path(job["out"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
