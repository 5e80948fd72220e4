"""The store's tables (SQLAlchemy 2).  The schema itself is created and
upgraded only by the Alembic migrations in ``migrations/``; these classes
must match the newest migration (a test compares them).

Two tables:

* ``campaigns`` – one 考核 round: the pack's YAML text and hash (scores are
  always recomputed from this stored text, never from ``rules/*.yaml``), the
  period, the unit list, and the head of the event chain (``head_seq``,
  ``head_hash``), which doubles as the optimistic version of the campaign.
* ``events`` – append-only: submissions, rejected files, 核定 corrections,
  抽查 findings, publications.  Each row carries the hash of the row before it.
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    pack_id: Mapped[str] = mapped_column(String(100), nullable=False)
    pack_version: Mapped[str] = mapped_column(String(100), nullable=False)
    pack_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    pack_text: Mapped[str] = mapped_column(Text, nullable=False)
    units: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list
    created_at: Mapped[str] = mapped_column(String(40), nullable=False)
    head_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    head_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("campaign_id", "seq", name="uq_events_campaign_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    unit: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    at: Mapped[str] = mapped_column(String(40), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
