"""Report tests: hand-worked figures on SQLite and PostgreSQL."""
