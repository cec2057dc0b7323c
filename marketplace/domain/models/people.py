"""Entrepreneurs (the people vouchers are for), the staff who sign in, and how people are described."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, enum_check


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class Language(StrEnum):
    EN = "en"
    SW = "sw"


class Role(StrEnum):
    ADMIN = "admin"
    FUNDER = "funder"


class Entrepreneur(Base):
    __tablename__ = "entrepreneurs"
    __table_args__ = (
        enum_check("gender", "gender", Gender),
        enum_check("language", "language", Language),
        sa.CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),
        # The statistics' cells: the people of one region, trade and gender.
        sa.Index("ix_entrepreneurs_cell", "region_code", "trade_code", "gender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    gender: Mapped[str] = mapped_column(sa.String(10))
    birth_year: Mapped[int]
    trade_code: Mapped[str] = mapped_column(sa.ForeignKey("trades.code"))
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))
    language: Mapped[str] = mapped_column(sa.String(2), default=Language.EN)
    sms_opt_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]

    @property
    def first_name(self) -> str:
        return first_name(self.name)


def first_name(name: str) -> str:
    """What messages and screens greet a person by: the first word of the name they gave."""
    return (name.split() or [""])[0]


class StaffUser(Base):
    """Programme officers (admin) and funders' staff (funder) who use the web pages."""

    __tablename__ = "staff_users"
    __table_args__ = (enum_check("role", "role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    role: Mapped[str] = mapped_column(sa.String(10))
    funder: Mapped[str | None] = mapped_column(sa.String(120))  # a funder sees its programmes only
    active: Mapped[bool] = mapped_column(default=True)
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")  # as ProviderStaff's
    created_at: Mapped[datetime]
