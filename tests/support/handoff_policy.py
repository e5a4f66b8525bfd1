"""Policy files whose live chat is open (or closed) *now*, for the stacks of the handoff tests (issue 17): the real
clock of a running stack is never asked to be inside or outside the hours of policy/policy.yml.

``live_chat_policy(tmp_dir, open_now=True)`` copies policy/policy.yml with the live-chat hours every day 06:00-18:00
in a fixed-offset time zone (``Etc/GMT...``) in which it is about noon now (``open_now``) or about midnight (closed);
today's date is taken out of the holiday calendar so that it cannot close the chat."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

POLICY_FILE = Path(__file__).resolve().parents[2] / "policy" / "policy.yml"


def _zone_for_local_hour(target_hour: int, now: datetime) -> str:
    offset = (target_hour - now.hour + 12) % 24 - 12  # -12..+11
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # Etc/GMT-3 is UTC+3


def live_chat_policy(tmp_dir: Path, *, open_now: bool, now: datetime | None = None) -> Path:
    now = now or datetime.now(timezone.utc)
    zone = _zone_for_local_hour(12 if open_now else 0, now)
    text = Path(POLICY_FILE).read_text(encoding="utf-8")
    hours = '    days: [mon, tue, wed, thu, fri, sat, sun]\n    open: "06:00"\n    close: "18:00"\n'
    text, n = re.subn(
        r"  live_chat_hours:\n    days: \[[^\]]*\]\n    open: \"[0-9:]+\"\n    close: \"[0-9:]+\"\n",
        "  live_chat_hours:\n" + hours,
        text,
    )
    assert n == 1, "policy.yml's live_chat_hours block changed shape"
    text, n = re.subn(r"  hours_timezone: \S+\n", f"  hours_timezone: {zone}\n", text)
    assert n == 1
    local = now.astimezone(ZoneInfo(zone)).date()
    for day in (local - timedelta(days=1), local, local + timedelta(days=1)):
        text = re.sub(rf"\n    - {day.isoformat()}\b[^\n]*", "", text)
    path = Path(tmp_dir) / ("policy-open.yml" if open_now else "policy-closed.yml")
    path.write_text(text, encoding="utf-8")
    return path
