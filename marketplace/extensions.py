"""Unbound extension objects; create_app() binds them to an app."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from .db.session import Session
from .domain.base import Base

db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
# The pages' language for each request (`web/i18n.py` chooses it). The words are the catalogue's:
# templates get `_` from their blueprint, so no gettext is installed in Jinja.
babel = Babel(configure_jinja=False)
