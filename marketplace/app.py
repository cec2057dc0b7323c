"""The application factory: the one place that wires extensions, blueprints, the gateway and CLI."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify
from werkzeug.routing import IntegerConverter, Map

from config import load_config

from .db import tuning
from .domain.base import MAX_ID
from .extensions import babel, csrf, db, login_manager, migrate

log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(load_config())
    if test_config:
        app.config.update(test_config)
    _ensure_instance_dir(app)
    proxies = int(app.config.get("TRUSTED_PROXIES", 0))
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    register_extensions(app)
    register_gateway(app)
    register_url_converters(app)
    register_blueprints(app)
    register_cli(app)
    register_health(app)
    register_observability(app)
    return app


def _ensure_instance_dir(app: Flask) -> None:
    import os

    uri = str(app.config["SQLALCHEMY_DATABASE_URI"])
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        os.makedirs(os.path.dirname(uri.removeprefix("sqlite:///")) or ".", exist_ok=True)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir())
    csrf.init_app(app)
    login_manager.init_app(app)
    from .web.i18n import choose_language, language_choices

    babel.init_app(app, locale_selector=choose_language)
    app.jinja_env.globals["language_choices"] = language_choices()
    with app.app_context():
        tuning.configure(db.engine)


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")


def register_gateway(app: Flask) -> None:
    from sms.backends import gateway_from_config

    app.extensions["sms_gateway"] = gateway_from_config(app.config)
    from payments.backends import gateways_from_config

    app.extensions["payments"] = gateways_from_config(app.config)


def _up_to(limit: int) -> str:
    """A pattern of the decimal numbers from 0 to `limit` (no sign, leading zeros allowed)."""
    digits = str(limit)
    shorter = rf"0*\d{{1,{len(digits) - 1}}}" if len(digits) > 1 else ""
    same = [digits]
    for i, d in enumerate(digits):
        if d != "0":
            rest = len(digits) - i - 1
            same.append(digits[:i] + f"[0-{int(d) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    return "(?:" + "|".join([p for p in (shorter,) if p] + [f"0*{p}" for p in same]) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` in a route, up to the largest id a row can have.

    A larger number matches no route, so every channel answers it as it answers any unknown page
    (404: an HTML page on the web, the error shape in the API) instead of sending the database a
    number it refuses to compare.
    """

    # Only numbers up to the largest id match at all: refused after matching, a larger one made
    # werkzeug's matcher answer 405 for a path with a rule per method (a PATCH beside a GET).
    regex = _up_to(MAX_ID)

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_url_converters(app: Flask) -> None:
    """Before any blueprint, whose rules pick their converters when they are added."""
    app.url_map.converters["int"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from payments import routes as payment_routes
    from sms import routes as gateway_routes

    from . import simulator
    from .web import admin, front, funder, mentor, security
    from .web.api import openapi

    openapi.init_app(app)  # the API's blueprint, and its document from the routes' decorators
    channels = (gateway_routes, payment_routes, security, front, mentor, admin, funder, simulator)
    for channel in channels:
        channel.register(app)


def register_cli(app: Flask) -> None:
    from payments import cli as payments_cli
    from sms import worker

    from .cli import register

    register(app)
    worker.register_cli(app)
    payments_cli.register(app)


def register_observability(app: Flask) -> None:
    from . import logs, metrics

    logs.register(app)
    metrics.register(app)


def register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        try:
            db.session.execute(sa.text("SELECT 1"))
            database = "ok"
        except Exception:  # the check must answer, whatever the database does
            log.exception("health check: database unreachable")
            db.session.rollback()
            database = "unreachable"
        ok = database == "ok"
        body: dict[str, Any] = {"status": "ok" if ok else "degraded", "database": database}
        if ok:
            body["sms_outbox"] = _outbox_backlog()
            body["heartbeats"] = _heartbeats()
        return jsonify(body), 200 if ok else 503


def _outbox_backlog() -> dict[str, int] | None:
    """The SMS outbox's backlog for /healthz (None when it cannot be read: the check still
    answers, and SMS trouble does not take the app out of service)."""
    from .domain.base import utcnow
    from .queries import outbox

    try:
        return outbox.backlog(utcnow())
    except Exception:
        log.exception("health check: the SMS outbox could not be read")
        db.session.rollback()
        return None


def _heartbeats() -> dict[str, Any] | None:
    """When the SMS worker and the scheduler were last alive (written by each to the database),
    and how many seconds ago; None for one never started. They do not decide the status: a web
    server stays in service while a worker is down, and the operator is told here and by /metrics."""
    from .domain.base import utcnow
    from .services import heartbeat

    try:
        beats = heartbeat.last_beats()
    except Exception:
        log.exception("health check: the heartbeats could not be read")
        db.session.rollback()
        return None
    now = utcnow()
    return {
        component: (
            {
                "at": beats[component].isoformat(),
                "age_seconds": int((now - beats[component]).total_seconds()),
            }
            if component in beats
            else None
        )
        for component in heartbeat.COMPONENTS
    }
