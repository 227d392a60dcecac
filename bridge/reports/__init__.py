"""Reports computed in the database: sales funnel, RFM segmentation, KPIs and tag rules.

Every query is SQLAlchemy Core that runs on SQLite and PostgreSQL alike, aggregates in the
database (only small tables come back) and is combined with the caller's row scope
(``bridge.permissions.scope_filter``), so a salesperson gets the same reports limited to the
rows they may see. Definitions: ``docs/reports.md``.
"""
