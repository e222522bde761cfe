"""Alembic revisions, one file each, written out by hand."""
