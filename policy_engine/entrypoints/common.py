"""What every command shares: the policy, the clock argument, the database, JSON output, the error type."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core.decision import to_jsonable
from ..core.policy import DEFAULT_POLICY_PATH, Policy
from ..core.policy_file import load_policy
from ..core.topics import TOPICS  # noqa: F401 (the commands import it from here)
from ..service.base import utc_now
from ..store.db import make_engine
from ..store.import_values import parse_timestamp
from ..store.migrate import current_revision, head_revision

MAX_STDIN_BYTES = 1_000_000


class CliError(Exception):
    """An expected failure: printed as one clear message, exit status 1."""


# ------------------------------------------------------------------------------------------------- helpers


def policy_for(args) -> Policy:
    return load_policy(Path(args.policy or os.environ.get("POLICY_FILE") or DEFAULT_POLICY_PATH))


def parse_now(raw: str | None) -> datetime:
    if raw is None:
        return utc_now()
    if not isinstance(raw, str):
        raise CliError("now must be an ISO 8601 date-time string with a time zone")
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        raise CliError(f"now: not an ISO 8601 date-time with a time zone ({exc})") from None


def engine_for(args):
    return make_engine(args.database_url)


def require_schema(engine) -> None:
    if current_revision(engine) != head_revision():
        raise CliError("the database schema is missing or out of date: run `python -m policy_engine migrate` first")


def print_json(data: Any) -> None:
    json.dump(to_jsonable(data), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
