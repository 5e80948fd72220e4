"""Alembic migrations of the campaign store (run by :func:`rubric_xl.campaign.db.migrate`)."""
