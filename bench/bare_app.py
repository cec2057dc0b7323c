"""The baseline for bench/ussd.py: a bare Flask endpoint that reads the same form and answers
`text/plain`, served by gunicorn with the same settings as the real app."""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)


@app.post("/at/<secret>/ussd")
def hop(secret: str) -> Response:
    form = request.form
    return Response(f"CON hello {form.get('phoneNumber', '')[-3:]}", mimetype="text/plain")
