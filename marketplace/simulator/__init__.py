"""The phone simulator for demos and training: a phone that reaches the app only through the routes
Africa's Talking calls (`phone.py`), as the `flask phone` command and, in development only, as a web
page at `/dev/phone` (web/phone/).

It stands outside the channels it drives: the web page uses the phone, and the phone talks HTTP to
the gateway's routes, so neither `web/` nor `sms/` imports the other for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

# Set to False to keep the page off even in development.
PAGE_SETTING = "PHONE_SIMULATOR_PAGE"


def page_enabled(config: Mapping[str, Any]) -> bool:
    """The page exists in development only (`APP_ENV=development`, the `make run` default), and
    not even there when the setting turns it off."""
    return config.get("APP_ENV") == "development" and bool(config.get(PAGE_SETTING, True))


def register(app: Flask) -> None:
    from .phone import register_cli

    register_cli(app)
    if page_enabled(app.config):
        from ..web.phone import bp

        app.register_blueprint(bp)
