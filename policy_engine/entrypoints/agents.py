"""The agent side's commands: ``agent add --name X`` (an inbox account; the password from ``--password-env VAR`` or
typed twice, never on the command line) and ``inbox`` (the built-in agent inbox's web server)."""

from __future__ import annotations

import getpass
import os

from ..service.base import utc_now
from ..store.db import make_session_factory
from .common import CliError, engine_for, policy_for, require_schema


def cmd_agent_add(args) -> int:
    from ..service import SupportService

    if args.password_env:
        password = os.environ.get(args.password_env) or ""
        if not password:
            raise CliError(f"${args.password_env} is empty")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CliError("the passwords differ")
    engine = engine_for(args)
    try:
        require_schema(engine)
        service = SupportService(make_session_factory(engine), policy_for(args), utc_now)
        if args.if_missing and service.agent_exists(args.name.strip()):
            print(f"agent {args.name.strip()!r} exists already")
            return 0
        service.add_agent(args.name, password)
    finally:
        engine.dispose()
    print(f"agent {args.name.strip()!r} added")
    return 0


def cmd_agent_disable(args) -> int:
    from ..service import SupportService

    engine = engine_for(args)
    try:
        require_schema(engine)
        service = SupportService(make_session_factory(engine), policy_for(args), utc_now)
        ended = service.disable_agent(args.name, by=f"cli:{getpass.getuser()}")
    finally:
        engine.dispose()
    print(f"agent {args.name.strip()!r} disabled; {ended} session(s) ended")
    return 0


def cmd_inbox(args) -> int:
    from .inbox import run

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if args.policy:
        os.environ["POLICY_FILE"] = args.policy
    run(args.host, args.port)
    return 0


def add_agent_parsers(sub) -> None:
    agent = sub.add_parser("agent", help="agent inbox accounts").add_subparsers(dest="agent_command", required=True)
    add = agent.add_parser("add", help="add an agent account (argon2id password hash)")
    add.add_argument("--name", required=True)
    add.add_argument("--password-env", help="read the password from this environment variable (else typed twice)")
    add.add_argument(
        "--if-missing", action="store_true", help="do nothing when the name exists (make run's demo agent)"
    )
    add.set_defaults(func=cmd_agent_add)
    disable = agent.add_parser("disable", help="disable an agent account: no sign-in, their sessions end now")
    disable.add_argument("--name", required=True)
    disable.set_defaults(func=cmd_agent_disable)
    inbox = sub.add_parser("inbox", help="serve the built-in agent inbox")
    inbox.add_argument("--host", default=os.environ.get("BOT_HOST", "127.0.0.1"))
    inbox.add_argument("--port", type=int, default=int(os.environ.get("INBOX_PORT") or 8090))
    inbox.set_defaults(func=cmd_inbox)
