"""History imports: the customer name is no longer unique (the USCC stays unique), a
branch's ``parent`` link to its head office, and a ``customer`` on payments and invoices
(a refund or a credit note may be tied to a customer rather than an order), filled from
each one's order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from schema.sql import table_name

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CUSTOMER = table_name("customer")
NAME_INDEX = f"uq_{CUSTOMER}_name"
# (table, new reference column, the table it points at), as schema.sql declares them
NEW_REFERENCES = ((CUSTOMER, "parent", CUSTOMER),
                  (table_name("payment"), "customer", CUSTOMER),
                  (table_name("invoice"), "customer", CUSTOMER))
FILLED_FROM_ORDER = (table_name("payment"), table_name("invoice"))


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    # 0001 builds from the current declarations: a fresh database is already there
    if NAME_INDEX in {ix["name"] for ix in inspector.get_indexes(CUSTOMER)}:
        op.drop_index(NAME_INDEX, table_name=CUSTOMER)
    for table, column, target in NEW_REFERENCES:
        if column in {c["name"] for c in inspector.get_columns(table)}:
            continue
        if bind.dialect.name == "sqlite":
            # SQLite adds a column with its REFERENCES clause (no table copy; alembic's
            # batch mode would drop a table other tables reference)
            op.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" VARCHAR(36) '
                       f'REFERENCES "{target}" (id)')
        else:
            op.add_column(table, sa.Column(column, sa.String(36), sa.ForeignKey(f"{target}.id"),
                                           nullable=True))
        op.create_index(f"ix_{table}_{column}", table, [column])
    for table in FILLED_FROM_ORDER:
        _fill_customer(bind, table)


def _fill_customer(bind: sa.Connection, table: str) -> None:
    """Set each payment's or invoice's customer to its order's (one statement)."""
    orders = sa.table(table_name("order"), sa.column("id"), sa.column("customer"))
    rows = sa.table(table, sa.column("order"), sa.column("customer"))
    of_order = (sa.select(orders.c.customer).where(orders.c.id == rows.c.order)
                .scalar_subquery())
    bind.execute(rows.update().where(rows.c.customer.is_(None), rows.c.order.is_not(None))
                 .values(customer=of_order))


def downgrade() -> None:
    for table, column, _ in reversed(NEW_REFERENCES):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
    op.create_index(NAME_INDEX, CUSTOMER, ["name"], unique=True,
                    sqlite_where=sa.text("deleted = 0"),
                    postgresql_where=sa.text("deleted = false"))
