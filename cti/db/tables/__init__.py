"""The tables of cti by subject; :mod:`cti.db.models` gathers them (import them from there)."""
