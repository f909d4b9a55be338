"""Harbor Console project wiring: settings, URLs, the Celery app, WSGI/ASGI."""

from harborconsole.celery import app as celery_app

__all__ = ["celery_app"]
