"""The collector's store: SQLAlchemy Core tables, Alembic migrations, and the
embedded metric store that lives in the same database so a batch's points and
its agent's high-water mark commit in one transaction.
"""
