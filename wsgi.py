"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi …"""

from marketplace.app import create_app

app = create_app()
