"""WSGI entry point: ``gunicorn wsgi:app`` (web) and ``flask --app wsgi …`` (CLI, scheduler)."""
from praevcase import create_app

app = create_app()
