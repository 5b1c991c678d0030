"""Persistence: engine, sessions, ORM models and Alembic migrations."""
