"""Liveness and readiness of the console."""

import pytest


@pytest.mark.django_db
def test_ready_checks_database_and_redis(client):
    body = client.get("/healthz/ready").json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_ready_reports_redis_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("redis: ConnectionError")
