"""Trades and regions are cached by each app process; another process may change them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.extensions import db
from marketplace.services import reference


def _add_a_trade_behind_the_apps_back() -> None:
    """What `flask load-reference-data` run in another process does: a row this app did not
    write."""
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO trades (code, name_en, name_sw, aliases) VALUES (:c, :e, :s, '')"),
            {"c": "beekeeping", "e": "Beekeeping", "s": "Ufugaji nyuki"},
        )


@pytest.fixture
def fresh_cache(app: Flask) -> Iterator[None]:
    """The trades as loaded for every test, and no cached copy, before and after."""
    app.extensions.pop(reference._CACHE, None)
    yield
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM trades WHERE code = 'beekeeping'"))
    app.extensions.pop(reference._CACHE, None)


@pytest.mark.usefixtures("fresh_cache")
def test_a_running_app_sees_trades_added_elsewhere_once_its_copy_is_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = reference.trade_codes()
    assert before and "beekeeping" not in before
    _add_a_trade_behind_the_apps_back()

    assert reference.trade_codes() == before  # the copy is fresh: no query for every screen

    later = reference.time.monotonic() + reference.REFRESH_SECONDS + 1
    monkeypatch.setattr(reference.time, "monotonic", lambda: later)
    assert "beekeeping" in reference.trade_codes()
    assert reference.match_trade("bee keeping") == "beekeeping"


@pytest.mark.usefixtures("fresh_cache")
def test_reference_data_loaded_in_this_process_is_seen_at_once() -> None:
    assert "beekeeping" not in reference.trade_codes()
    _add_a_trade_behind_the_apps_back()

    reference.load_reference_data("KE")  # the files' rows again; the extra row stays

    assert "beekeeping" in reference.trade_codes()
