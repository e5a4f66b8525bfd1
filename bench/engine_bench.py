"""Decisions per second: pure decision functions, and persisted, idempotent case creation through SupportService.

    .venv-engine/bin/python bench/engine_bench.py [--seconds 2] [--orders 300] [--smoke] [--json out.json]

* pure: ``decide_return`` / ``decide_cancellation`` / ``decide_warranty`` / ``credits_summary`` on demo facts;
* persisted, on a fresh SQLite file and (when ``TEST_POSTGRES_URL`` is set) a fresh PostgreSQL database:
  identity checks, first ``open_return`` per order (case + refund + audit in one transaction), and repeated
  ``open_return`` calls answered from the stored case (idempotent).

The figures go to stdout as JSON (keys ending in ``_per_s``) and, readable, to stderr.  Each persisted section also
gives the CPU time this process spent per call (``*_cpu_ms``: the database server's time is not in it) and the load
average at the start, because on a shared machine the wall-clock rates say as much about the neighbours as about the
code.  Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from policy_engine import ReturnRequest, WarrantyRequest  # noqa: E402
from policy_engine.core.cancellation import decide_cancellation  # noqa: E402
from policy_engine.core.credits import credits_summary  # noqa: E402
from policy_engine.core.policy_file import load_policy  # noqa: E402
from policy_engine.core.returns import decide_return  # noqa: E402
from policy_engine.core.warranty import decide_warranty  # noqa: E402
from policy_engine.service import SupportService  # noqa: E402
from policy_engine.store import import_data, make_engine, make_session_factory, unit_of_work, upgrade  # noqa: E402
from policy_engine.store.db import database_url  # noqa: E402
from policy_engine.store.demo import load_demo  # noqa: E402
from policy_engine.store.mapping import order_fact  # noqa: E402
from policy_engine.store.queries import customer_ledger, order_by_number  # noqa: E402

NOW = datetime(2025, 3, 12, 18, 0, tzinfo=timezone.utc)


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def _timed(fn, seconds: float) -> float:
    """Calls of ``fn`` per second over about ``seconds``."""
    count, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        count += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return _rate(count, elapsed)


def bench_pure(seconds: float) -> dict[str, float]:
    policy = load_policy()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/facts.db")
        upgrade(engine)
        factory = make_session_factory(engine)
        with unit_of_work(factory, write=True) as uow:
            load_demo(uow.session, NOW)
            uow.commit()
        with unit_of_work(factory) as uow:
            order = order_fact(order_by_number(uow.session, "AK1000003"))
            power_station = order_fact(order_by_number(uow.session, "AK1000010"))
            row = order_by_number(uow.session, "AK1000008")
            ledger = customer_ledger(uow.session, row.customer_id)
        engine.dispose()
    ret, war = (
        ReturnRequest(1, 1),
        WarrantyRequest(line_id=1, defect="dead", cause="quality", troubleshooting_done=True, evidence_provided=True),
    )
    return {
        "return_decisions_per_s": _timed(lambda: decide_return(order, ret, policy, NOW), seconds),
        "cancellation_decisions_per_s": _timed(lambda: decide_cancellation(order, policy, NOW), seconds),
        "warranty_decisions_per_s": _timed(lambda: decide_warranty(power_station, war, policy, NOW), seconds),
        "credits_summaries_per_s": _timed(lambda: credits_summary(ledger, policy, NOW), seconds),
    }


def _orders_document(count: int) -> dict:
    placed = NOW - timedelta(days=10)
    iso = lambda t: t.isoformat().replace("+00:00", "Z")  # noqa: E731
    return {
        "format_version": 1,
        "products": [{"sku": "B0001", "name": "Bench charger", "category": "charger", "price": "19.99"}],
        "orders": [
            {
                "order_number": f"AK9{n:06d}",
                "email": f"bench{n}@example.com",
                "placed_at": iso(placed),
                "paid_at": iso(placed),
                "status": "delivered",
                "shipped_at": iso(placed + timedelta(days=1)),
                "delivered_at": iso(placed + timedelta(days=2)),
                "lines": [{"line_id": 1, "sku": "B0001", "quantity": 1, "unit_price": "19.99"}],
            }
            for n in range(count)
        ],
    }


def bench_persisted(url: str, orders: int) -> dict[str, float]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        with unit_of_work(factory, write=True) as uow:
            import_data(uow.session, _orders_document(orders), NOW)
            uow.commit()
        service = SupportService(factory, load_policy(), lambda: NOW)
        numbers = [f"AK9{n:06d}" for n in range(orders)]

        def timed(call):
            wall, cpu = time.perf_counter(), time.process_time()
            result = call()
            return result, time.perf_counter() - wall, time.process_time() - cpu

        tokens, verify_s, verify_cpu = timed(
            lambda: [
                service.verify_customer(f"bench-{n}", number, f"bench{n}@example.com").verified
                for n, number in enumerate(numbers)
            ]
        )
        assert all(tokens), "verification failed"

        cases, create_s, create_cpu = timed(
            lambda: [
                service.open_return(f"bench-{n}", number, ReturnRequest(1, 1)).case_id
                for n, number in enumerate(numbers)
            ]
        )
        assert len(set(cases)) == orders and all(cases)

        repeats, repeat_s, repeat_cpu = timed(
            lambda: [service.open_return(f"bench-{n}", number, ReturnRequest(1, 1)) for n, number in enumerate(numbers)]
        )
        assert all(d.values["repeated"] for d in repeats)
        ms = lambda seconds: round(1000 * seconds / orders, 2)  # noqa: E731
        return {
            "verifications_per_s": _rate(orders, verify_s),
            "cases_created_per_s": _rate(orders, create_s),
            "idempotent_repeats_per_s": _rate(orders, repeat_s),
            "verification_cpu_ms": ms(verify_cpu),
            "case_creation_cpu_ms": ms(create_cpu),
            "idempotent_repeat_cpu_ms": ms(repeat_cpu),
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
    finally:
        engine.dispose()


def bench_postgres(orders: int) -> dict:
    server = os.environ.get("TEST_POSTGRES_URL", "").strip()
    if not server:
        return {"skipped": "TEST_POSTGRES_URL is not set (see scripts/postgres.sh)"}
    server = database_url(server)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            return bench_persisted(make_url(server).set(database=name).render_as_string(hide_password=False), orders)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per pure decision kind (default 2)")
    parser.add_argument("--orders", type=int, default=300, help="orders per persisted run (default 300)")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 0.2 s per pure kind, 30 orders")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    seconds, orders = (0.2, 30) if args.smoke else (args.seconds, args.orders)

    figures: dict = {"pure": bench_pure(seconds)}
    with tempfile.TemporaryDirectory() as tmp:
        figures["sqlite"] = bench_persisted(f"sqlite:///{tmp}/bench.db", orders)
    figures["postgresql"] = bench_postgres(orders)

    for section, values in figures.items():
        for key, value in values.items():
            print(f"{section:>10}  {key:<32} {value}", file=sys.stderr)
    text_out = json.dumps(figures, indent=2)
    print(text_out)
    if args.json:
        Path(args.json).write_text(text_out + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
