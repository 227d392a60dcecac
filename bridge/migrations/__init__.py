"""Alembic migrations of the bridge's database.

Entity tables are derived from the data dictionary, so revisions create or alter them
from it: ``0001`` creates everything the dictionary of its time declares; later revisions
(``alembic revision --autogenerate`` against ``bridge.tables.full_metadata``) add what the
dictionary adds.
"""
