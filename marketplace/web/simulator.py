"""The phone simulator for demos and training: the `flask phone` command (sms/simulator.py)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from sms.simulator import register_cli

    register_cli(app)
