"""The central sync bridge: FastAPI over SQLAlchemy (SQLite by default, PostgreSQL for teams)."""
