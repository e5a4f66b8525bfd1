"""Staff: ``python -m policy_engine evidence --case WAR-E000001 [--copy-to DIR]`` lists a case's uploaded files (proof
of purchase, photos of the defect: kind, type, size, SHA-256, channel, when, where the file is) as JSON; ``--copy-to``
copies them into a directory of the operator's choosing (mode 0600, named ``<case>-<n>-<kind><extension>``), so they
can be opened without touching the upload directory.  The files are never served over HTTP (README, "Security"):
this command, run by someone with shell access, and the agent inbox (``SupportService.evidence_for_case``) are the
only ways to them.  Malware is not scanned for: open them with care."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..store.db import make_session_factory
from .common import CliError, engine_for, parse_now, policy_for, print_json, require_schema

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}


def cmd_evidence(args) -> int:
    from ..service import SupportService

    engine = engine_for(args)
    try:
        require_schema(engine)
        now = parse_now(None)
        files = SupportService(make_session_factory(engine), policy_for(args), lambda: now).evidence_for_case(args.case)
    finally:
        engine.dispose()
    copied: list[str | None] = [None] * len(files)
    if args.copy_to:
        target = Path(args.copy_to)
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        for n, item in enumerate(files, start=1):
            if item.path is None or not item.path.is_file():
                raise CliError(f"the file of upload {item.upload_id} is missing from the upload directory")
            out = target / f"{args.case.upper()}-{n}-{item.kind}{EXTENSIONS.get(item.content_type, '.bin')}"
            shutil.copyfile(item.path, out)
            os.chmod(out, 0o600)
            copied[n - 1] = str(out)
    print_json(
        {
            "case_id": args.case.upper(),
            "files": [
                {
                    "upload_id": f.upload_id,
                    "kind": f.kind,
                    "content_type": f.content_type,
                    "size": f.size,
                    "sha256": f.sha256,
                    "channel": f.channel,
                    "received_at": f.received_at,
                    "path": str(f.path) if f.path else None,
                    "copied_to": copied[i],
                }
                for i, f in enumerate(files)
            ],
        }
    )
    return 0


def add_evidence_parser(sub) -> None:
    evidence = sub.add_parser("evidence", help="staff: a case's uploaded files (proof of purchase, defect photos)")
    evidence.add_argument("--case", required=True, help="the case id, e.g. WAR-E000001")
    evidence.add_argument("--copy-to", help="copy the files into this directory (0600)")
    evidence.set_defaults(func=cmd_evidence)
