"""Run the assistant on this machine: ``make run`` (serve) and ``make shell`` (chat in the terminal).

    .venv-engine/bin/python scripts/run.py serve [--no-train] [--no-seed] [--quiet]
    .venv-engine/bin/python scripts/run.py shell [--no-train]

serve: trains if the model is missing or stale, migrates and seeds the support database, starts the action server,
the Rasa server and the web chat page, prints the URLs and runs until Ctrl-C (or SIGTERM), then stops every process
it started (each in its own process group). If one server dies, it is restarted and the others keep running; after
too many restarts in a short time the supervisor gives up, stops everything and exits 1 (``Stack.supervise``).

shell: the same preparation, then the action server in the background and ``rasa shell`` in the foreground.

Ports, hosts and stores come from the environment: see ``botstack.Settings.from_env`` (BOT_HOST, RASA_PORT,
ACTION_PORT, WEB_PORT, SHELL_PORT, DATABASE_URL, TRACKER_STORE_URL, LOCK_STORE_TYPE, ...). RASA_PROCESSES (default 2,
one per core) Rasa processes run behind a local nginx on RASA_PORT with a local Redis on REDIS_PORT (6390):
botstack/balancer.py.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

import botstack
from botstack import ROOT, Settings, Stack, StackError


class _Stop(Exception):
    pass


def _raise_stop(signum, frame) -> None:
    raise _Stop()


def _stop_on_signals() -> None:
    """Ctrl-C, SIGTERM and a closed terminal all stop the stack. Installed explicitly: a process started in the
    background of a non-interactive shell inherits SIGINT as ignored, and would otherwise never see Ctrl-C."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stop)


def _ignore_signals_while_stopping() -> None:
    """A second Ctrl-C must not interrupt the clean-up half-way (which would leave processes behind)."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)


def _processes(settings: Settings) -> str:
    """How the Rasa server is run: RASA_PROCESSES processes behind nginx (botstack/balancer.py), or one."""
    ports = settings.rasa_internal_ports
    if not ports:
        return "1 (RASA_PROCESSES=1)"
    listed = ", ".join(str(port) for port in ports)
    return f"{len(ports)} behind nginx on the port above (loopback ports {listed}; Redis on {settings.redis_port})"


def serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env().with_secrets(announce=sys.stdout)
    if not args.no_train:
        botstack.train_if_stale()
    stack = Stack(settings, echo=not args.quiet, with_web=True, seed=not args.no_seed)
    _stop_on_signals()
    try:
        print(f"run: starting (logs in {stack.log_dir}) ...", flush=True)
        stack.start(timeout=args.timeout)
        print(
            "\n"
            f"run: web chat page   {settings.web_url}\n"
            f"run: Rasa server     {settings.rasa_url}  (REST: {settings.rasa_url}/webhooks/rest/webhook with "
            f"'Authorization: Bearer $REST_CHANNEL_TOKEN'; API: ?token=$RASA_API_TOKEN; both in "
            f"{settings.var_dir / 'secrets.env'} unless set in the environment)\n"
            f"run: Rasa processes  {_processes(stack.settings)}\n"
            f"run: action server   {settings.action_url}\n"
            f"run: agent inbox     {settings.inbox_url}  (sign in as '{botstack.DEMO_AGENT}', password: "
            f"INBOX_DEMO_PASSWORD in {settings.var_dir / 'secrets.env'}; more agents: "
            "python -m policy_engine agent add --name X)\n"
            f"run: support db      {settings.database_url}\n"
            "run: Ctrl-C stops everything\n",
            flush=True,
        )
        return stack.supervise(say=lambda line: print(f"run: {line}", file=sys.stderr, flush=True))
    except (KeyboardInterrupt, _Stop):
        print("\nrun: stopping ...", flush=True)
        return 0
    except StackError as error:
        print(f"run: {error}", file=sys.stderr)
        return 1
    finally:
        _ignore_signals_while_stopping()
        stack.stop()
        print("run: stopped", flush=True)


def shell(args: argparse.Namespace) -> int:
    settings = Settings.from_env().with_secrets(announce=sys.stdout)
    if not args.no_train:
        botstack.train_if_stale()
    reuse = botstack.action_server_ready(settings)
    stack = Stack(settings, echo=False, with_web=False, with_rasa=False)
    _stop_on_signals()
    try:
        if reuse:
            print(f"shell: using the action server already running at {settings.action_url}", flush=True)
        else:
            stack.start(timeout=args.timeout)
            print(f"shell: action server at {settings.action_url} (log: {stack.log_dir / 'actions.log'})", flush=True)
        argv = [
            str(botstack.RASA_BIN),
            "shell",
            "--model",
            settings.models,
            "--endpoints",
            str(ROOT / "endpoints.yml"),
            "--interface",
            settings.host,
            "--port",
            str(settings.shell_port),
        ]
        # rasa shell owns the terminal; Ctrl-C is its to handle (its SIGINT restored to the default, since an
        # ignored signal is inherited), this process only waits for it
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return subprocess.call(
                argv,
                cwd=ROOT,
                env=settings.child_env(),
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
        finally:
            signal.signal(signal.SIGINT, previous)
    except (KeyboardInterrupt, _Stop):
        return 0
    except StackError as error:
        print(f"shell: {error}", file=sys.stderr)
        return 1
    finally:
        _ignore_signals_while_stopping()
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the bot, the action server and the web chat page")
    p_serve.add_argument("--no-train", action="store_true", help="do not train even if the model is stale")
    p_serve.add_argument("--no-seed", action="store_true", help="migrate only; do not load the demo data")
    p_serve.add_argument("--quiet", action="store_true", help="server output to var/log/*.log only")
    p_serve.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the servers")
    p_serve.set_defaults(func=serve)
    p_shell = sub.add_parser("shell", help="chat with the bot in the terminal (rasa shell)")
    p_shell.add_argument("--no-train", action="store_true")
    p_shell.add_argument("--timeout", type=float, default=300.0)
    p_shell.set_defaults(func=shell)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
