"""/api/docs/ works offline: Swagger UI renders in Chromium with every request outside the service refused."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.page.conftest import DESKTOP, open_page

pytestmark = __import__("pytest").mark.browser


def test_swagger_ui_renders_from_the_service_alone(browser, stack):
    page = open_page(browser, stack, DESKTOP, path=None)
    service = urlsplit(stack.base_url).netloc
    requested, refused = [], []

    def route(request_route):
        url = request_route.request.url
        requested.append(url)
        if urlsplit(url).netloc != service:
            refused.append(url)
            request_route.abort()
        else:
            request_route.continue_()

    page.route("**/*", route)
    page.goto(f"{stack.base_url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "Solana meme-coin market data" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/tokens/" in p for p in paths)
    assert refused == [], f"/api/docs/ asked other origins: {refused}"
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in u for u in requested)
    assert not page.errors, page.errors
    page.context.close()
