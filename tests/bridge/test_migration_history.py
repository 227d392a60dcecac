"""Migration 0006 on a database that holds data of the 1.0 model: the customer name index
goes, the new references come, payments and invoices get their order's customer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text

import bridge.db as bridge_db
from bridge.db import connect, migrate
from bridge.settings import Settings
from schema.dictionary import Dictionary, build_dictionary
from schema.sql import table_name
from tests.bridge.helpers import alembic_head


def _dictionary_1_0() -> Dictionary:
    """The dictionary as it was before 1.1.0: a unique name, no parent, payments and
    invoices tied to an order only."""
    d = build_dictionary()
    cust = d.entity("customer")
    cust.fields = [replace(f, unique=True) if f.code == "name" else f
                   for f in cust.fields if f.code != "parent"]
    for code in ("payment", "invoice"):
        e = d.entity(code)
        e.fields = [replace(f, required=True) if f.code == "order" else f
                    for f in e.fields if f.code != "customer"]
    return d


def _stamp_0004(db: bridge_db.Database) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(bridge_db.__file__).with_name("migrations")))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "0004")


def _record(rid: str, **values: object) -> dict[str, object]:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    return {"id": rid, "version": 1, "created_by": "admin", "created_at": at,
            "updated_by": "admin", "updated_at": at, "deleted": False, "change_seq": 1,
            **values}


def test_upgrade_from_0004_keeps_the_data_and_fills_customers(settings: Settings) -> None:
    old = connect(settings, _dictionary_1_0())
    with old.engine.begin() as conn:
        if old.dialect == "postgresql":
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.database_schema}"'))
        old.metadata.create_all(conn)
        conn.execute(insert(old.table(table_name("customer"))),
                     [_record("c1", name="恒通公司", name_key="恒通公司")])
        conn.execute(insert(old.table(table_name("order"))),
                     [_record("o1", order_no="HT-1", customer="c1", signed_on=date(2024, 1, 2),
                              amount=100.0, status="signed")])
        conn.execute(insert(old.table(table_name("payment"))),
                     [_record("p1", order="o1", kind="refund", paid_on=date(2024, 2, 1),
                              amount=10.0)])
        conn.execute(insert(old.table(table_name("invoice"))),
                     [_record("i1", invoice_no="F-1", order="o1", kind="credit_note",
                              issued_on=date(2024, 2, 1), amount=5.0)])
    _stamp_0004(old)
    old.engine.dispose()

    new = connect(settings, build_dictionary())
    try:
        migrate(new)
        with new.engine.begin() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == alembic_head()
            diffs = compare_metadata(MigrationContext.configure(conn), new.metadata)
            assert [d for d in diffs if d[0] in ("add_table", "remove_table", "add_column",
                                                "remove_column", "add_index",
                                                "remove_index")] == []
            pay, inv = new.table(table_name("payment")), new.table(table_name("invoice"))
            assert conn.execute(select(pay.c.customer)).scalar_one() == "c1"
            assert conn.execute(select(inv.c.customer)).scalar_one() == "c1"
            # two companies of one name may now be stored (恒通公司 in two cities)
            conn.execute(insert(new.table(table_name("customer"))),
                         [_record("c2", name="恒通公司", name_key="恒通公司", parent="c1")])
        names = {ix["name"] for ix in inspect(new.engine).get_indexes(table_name("customer"))}
        assert "uq_crm_customer_name" not in names and "ix_crm_customer_parent" in names
    finally:
        new.engine.dispose()
