"""Writing a checked import document: customers, products, orders with their lines, serials and parcels, refunds, the
credits ledger, in one transaction (called by ``importer.import_data`` after every check passed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select

from .identity_models import VerificationAttemptRow
from .import_cases import write_cases
from .import_shipments import shipment_rows
from .import_values import ImportSummary, checked_email, money, optional_time, parse_timestamp
from .models import (
    CreditLedgerRow,
    CustomerRow,
    OrderLineRow,
    OrderRow,
    ProductRow,
    RefundRow,
    SerialNumberRow,
)


def write_document(session, data, customers, orders, parsed_times, stored_orders, now, replace_orders) -> ImportSummary:
    for p in data.get("products", []):
        row = session.get(ProductRow, p["sku"]) or ProductRow(sku=p["sku"])
        row.name = p["name"]
        row.category = p["category"]
        row.price = Decimal(p["price"])
        row.refurbished_available = p.get("refurbished_available", False)
        row.new_available = p.get("new_available", True)
        row.extended_warranty_eligible = p.get("extended_warranty_eligible", False)
        session.add(row)

    customer_rows: dict[str, CustomerRow] = {}

    def customer(email: str) -> CustomerRow:
        if email not in customer_rows:
            row = session.scalars(select(CustomerRow).where(CustomerRow.email == email)).one_or_none()
            if row is None:
                row = CustomerRow(email=email, name="", country="US", region="US")
                session.add(row)
            customer_rows[email] = row
        return customer_rows[email]

    for email, c in customers.items():
        row = customer(email)
        row.name = c.get("name", row.name or "")
        row.country = c.get("country", row.country or "US")
        row.region = c.get("region", row.region or "US")
        if "birth_date" in c:
            row.birth_date = date.fromisoformat(c["birth_date"])
        for k in ("registered_at", "profile_completed_at"):
            if k in c:
                setattr(row, k, parse_timestamp(c[k]))

    if replace_orders:
        if stored_orders:
            session.execute(delete(OrderRow).where(OrderRow.id.in_([r.id for r in stored_orders.values()])))
            session.execute(
                delete(VerificationAttemptRow).where(VerificationAttemptRow.order_number.in_(list(stored_orders)))
            )
        listed = [customer(e).id for e in customers if customer(e).id is not None]
        if listed:
            session.execute(delete(CreditLedgerRow).where(CreditLedgerRow.customer_id.in_(listed)))
        session.expire_all()
        session.flush()

    order_rows: dict[str, OrderRow] = {}
    for number, o in orders.items():
        times = parsed_times[number]
        email = checked_email(o["email"])
        row = OrderRow(
            order_number=number,
            customer=customer(email),
            email=email,
            status=o.get("status", "placed"),
            placed_at=times["placed_at"],
            paid_at=times["paid_at"],
            shipped_at=times["shipped_at"],
            delivered_at=times["delivered_at"],
            channel=o.get("channel", "web_store"),
            country=o.get("country", "US"),
            corporate=o.get("corporate", False),
            campaign=o.get("campaign", "none"),
            logged_in=o.get("logged_in", True),
            shipping=money(o.get("shipping")),
            tax=money(o.get("tax")),
            discount=money(o.get("discount")),
            credits_applied=money(o.get("credits_applied")),
            worry_free_insurance=o.get("worry_free_insurance", False),
            shipping_insurance=o.get("shipping_insurance", False),
            payment_method=o.get("payment_method", "card"),
        )
        for line in o["lines"]:
            row.lines.append(
                OrderLineRow(
                    line_no=line["line_id"],
                    sku=line["sku"],
                    quantity=line["quantity"],
                    unit_price=money(line["unit_price"]),
                    discount=money(line.get("discount")),
                    free_gift=line.get("free_gift", False),
                    redeemed_with_credits=line.get("redeemed_with_credits", False),
                    extended_warranty_years=line.get("extended_warranty_years", 0),
                    serials=[SerialNumberRow(serial=s) for s in line.get("serial_numbers", [])],
                )
            )
        session.add(row)
        session.add_all(shipment_rows(o, row))
        order_rows[number] = row
    session.flush()
    cases = sum(len(write_cases(session, orders[number], order_rows[number])) for number in orders)

    def order_id(number: str) -> int:
        if number not in order_rows:
            order_rows[number] = session.scalars(select(OrderRow).where(OrderRow.order_number == number)).one()
        return order_rows[number].id

    for r in data.get("refunds", []):
        oid = order_id(r["order_number"])
        session.add(
            RefundRow(
                order_id=oid,
                amount=money(r["amount"]),
                payment_method=r.get("payment_method") or order_rows[r["order_number"]].payment_method,
                status=r.get("status", "awaiting_item"),
                item_received_at=optional_time(r, "item_received_at"),
                inspected_at=optional_time(r, "inspected_at"),
                inspection_passed=r.get("inspection_passed"),
                inspection_finding=r.get("inspection_finding"),
                issued_at=optional_time(r, "issued_at"),
                created_at=optional_time(r, "created_at") or now,
            )
        )
    for c in data.get("credits", []):
        session.add(
            CreditLedgerRow(
                customer_id=customer(checked_email(c["email"])).id,
                kind=c["kind"],
                points=c["points"],
                created_at=parse_timestamp(c["created_at"]),
                unlock_at=optional_time(c, "unlock_at"),
                expires_at=optional_time(c, "expires_at"),
                order_id=order_id(c["order_number"]) if c.get("order_number") else None,
                note=c.get("note", ""),
            )
        )
    session.flush()
    return ImportSummary(
        products=len(data.get("products", [])),
        customers=len(customer_rows),
        orders=len(orders),
        refunds=len(data.get("refunds", [])),
        credits=len(data.get("credits", [])),
        cases=cases,
    )
