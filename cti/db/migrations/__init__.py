"""Alembic migrations of the cti schema."""
