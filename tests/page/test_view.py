"""The screener view: the template, its data attributes and its security headers (no browser)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.pure  # renders a template: no Redis, no database


def test_page_carries_the_api_base_and_stream_path(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-api-base="/api/tokens/"' in html
    assert 'data-ws-path="/ws/tokens/"' in html
    assert 'type="module"' in html
    assert "/static/realtime/screener.js" in html
    # offline: nothing loaded from elsewhere (no CDN script or style, no external fonts); the chart's
    # attribution is a plain link, which loads nothing
    assert not re.search(r'(src|srcset)="(https?:)?//', html)
    assert not re.search(r'<link[^>]+href="(https?:)?//', html)
    assert "@import" not in html


def test_page_has_a_strict_content_security_policy(client):
    csp = client.get("/", HTTP_HOST="127.0.0.1:8000")["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "connect-src 'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000" in csp
    assert "object-src 'none'" in csp


def test_page_answers_only_safe_methods(client):
    assert client.post("/").status_code == 405
    assert client.head("/").status_code == 200
