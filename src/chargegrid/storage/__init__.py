"""Persistence: SQLAlchemy 2 async tables, repositories and migrations."""
