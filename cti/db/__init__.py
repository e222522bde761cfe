"""PostgreSQL: SQLAlchemy 2 models, migrations, the engine, repositories, imports, demo data.

The only package that imports SQLAlchemy.
"""
