"""The warehouse and support desk side: ``inspect``, ``refund-issued`` (REF-1, REF-4, CRD-11) and ``forget --email``."""

from __future__ import annotations

import os

from ..store.db import make_session_factory, unit_of_work
from .common import CliError, engine_for, parse_now, policy_for, print_json, require_schema

# ------------------------------------------------------------------------------------------------- staff side


def _staff_service(args, engine):
    from ..service import SupportService

    now = parse_now(args.now)
    return SupportService(make_session_factory(engine), policy_for(args), lambda: now)


def cmd_inspect(args) -> int:
    """RET-6/REF-1: record the warehouse inspection of the order's returned item."""
    engine = engine_for(args)
    try:
        require_schema(engine)
        decision = _staff_service(args, engine).record_inspection(
            args.order_number, args.passed, args.finding, line_id=args.line
        )
    finally:
        engine.dispose()
    print_json(decision.to_dict())
    return 0


def cmd_refund_issued(args) -> int:
    """REF-1/REF-4/CRD-11: the refund was paid; reverses the returned lines' credits, once."""
    engine = engine_for(args)
    try:
        require_schema(engine)
        decision = _staff_service(args, engine).issue_refund(args.order_number, line_id=args.line)
    finally:
        engine.dispose()
    print_json(decision.to_dict())
    return 0


def cmd_forget(args) -> int:
    """Issue 12, item 9: erase the customer's personal data and conversations; idempotent; counts as JSON."""
    from ..store.forget import ForgetError, forget_all, tracker_engine

    engine = engine_for(args)
    tracker = None
    try:
        require_schema(engine)
        try:
            tracker = tracker_engine(args.tracker_store_url or os.environ.get("TRACKER_STORE_URL"))
        except Exception as exc:  # a malformed URL or a missing driver: nothing was written
            raise CliError(f"tracker store: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
        try:
            with unit_of_work(make_session_factory(engine), write=True) as uow:
                summary = forget_all(uow.session, tracker, args.email)  # commits the tracker store, then this
        except ForgetError as exc:
            raise CliError(str(exc)) from None
    finally:
        engine.dispose()
        if tracker is not None:
            tracker.dispose()
    print_json(summary.to_dict())
    return 0
