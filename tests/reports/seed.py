"""Direct inserts of entity rows (system columns filled) and stage history, for reports."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert

from bridge.db import Database

CST = timezone(timedelta(hours=8))
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(s: str) -> datetime:
    """'2026-01-31 23:30' read as Beijing time, returned in UTC."""
    return datetime.fromisoformat(s).replace(tzinfo=CST).astimezone(UTC)


class Seed:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.ids: dict[str, str] = {}

    def row(self, entity: str, key: str | None = None, created: datetime = T0,
            **values: Any) -> str:
        rid = str(uuid.uuid4())
        if key:
            self.ids[key] = rid
        rec = {"id": rid, "version": 1, "created_by": "seed", "created_at": created,
               "updated_by": "seed", "updated_at": created, "deleted": False, "change_seq": 1,
               "owner": "admin", "team": None, "region": None, "shared": False}
        for k, v in values.items():
            rec[k] = date.fromisoformat(v) if isinstance(v, str) and k in (
                "signed_on", "paid_on", "issued_on", "next_followup_date") else v
        with self.db.write() as conn:
            conn.execute(insert(self.db.table(f"crm_{entity}")), [rec])
        return rid

    def customer(self, key: str, **v: Any) -> str:
        v.setdefault("name", key)
        return self.row("customer", key, **v)

    def order(self, key: str, customer: str, signed_on: str, amount: float,
              status: str = "signed", **v: Any) -> str:
        return self.row("order", key, order_no=key, customer=self.ids[customer],
                        signed_on=signed_on, amount=amount, status=status, **v)

    def refund(self, order: str, paid_on: str, amount: float, **v: Any) -> str:
        return self.row("payment", None, order=self.ids[order], kind="refund", paid_on=paid_on,
                        amount=amount, **v)

    def payment(self, order: str, paid_on: str, amount: float, **v: Any) -> str:
        return self.row("payment", None, order=self.ids[order], kind="payment",
                        paid_on=paid_on, amount=amount, **v)

    def credit_note(self, order: str, issued_on: str, amount: float, **v: Any) -> str:
        return self.row("invoice", None, invoice_no=f"cn-{uuid.uuid4().hex[:8]}",
                        order=self.ids[order], kind="credit_note", issued_on=issued_on,
                        amount=amount, **v)

    def opportunity(self, key: str, customer: str, history: list[tuple[str, str]],
                    amount: float | None = None, created: str | None = None,
                    **v: Any) -> str:
        """``history``: [(stage, 'YYYY-MM-DD HH:MM' Beijing time), ...]; the last stage is
        the current one."""
        rid = self.row("opportunity", key, created=at(created or history[0][1]), name=key,
                       customer=self.ids[customer], stage=history[-1][0], amount=amount, **v)
        with self.db.write() as conn:
            conn.execute(insert(self.db.table("sys_stage_history")), [
                {"opportunity_id": rid, "stage": s, "entered_at": at(t), "change_seq": 1}
                for s, t in history])
        return rid
