"""Reference data: the trades taught and the regions served, with their names in each language."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base
from .people import Language


class Trade(Base):
    __tablename__ = "trades"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name_en: Mapped[str] = mapped_column(sa.String(80))
    name_sw: Mapped[str] = mapped_column(sa.String(80))
    aliases: Mapped[str] = mapped_column(sa.String(400), default="")  # space-separated, lower case

    def name(self, language: str) -> str:
        return self.name_sw if language == Language.SW else self.name_en


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    country: Mapped[str] = mapped_column(sa.String(2), index=True)
