"""Deny by default, checked over the whole URL map."""
from __future__ import annotations

import pytest

from praevcase.permissions import PERMISSIONS
from praevcase.permissions import endpoint_permission


def test_every_route_declares_a_known_permission(app):
    missing, unknown = [], []
    for rule in app.url_map.iter_rules():
        permission = endpoint_permission(app.view_functions.get(rule.endpoint), rule.endpoint)
        if permission is None:
            missing.append(rule.rule)
        elif permission not in PERMISSIONS:
            unknown.append((rule.rule, permission))
    assert missing == [] and unknown == []


def test_a_route_without_permission_is_refused_at_runtime(app):
    app.add_url_rule("/undeclared", "undeclared", lambda: "offen")
    response = app.test_client().get("/undeclared")
    assert response.status_code == 403
    assert "offen" not in response.get_data(as_text=True)


def test_every_state_changing_web_route_needs_a_csrf_token(app, client):
    """POST without a token to every non-API route that accepts POST: 400, never a change."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<uuid:{arg}>", "00000000-0000-7000-8000-000000000000").replace(f"<{arg}>", "x")
        response = client.post(url, data={"x": "1"})
        assert response.status_code == 400, url
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("path", ["/login", "/api/v1/openapi.json", "/gibt-es-nicht"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers


def test_hsts_when_served_over_https(client):
    headers = client.get("/login", base_url="https://praevcase.example").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_unknown_page_is_a_german_404(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert "Nicht gefunden" in response.get_data(as_text=True)
