"""``/docs`` and ``/openapi.json``: every console API described, to signed-in users only."""

from __future__ import annotations

from collections.abc import Callable

from console_helpers import add_user, log_in
from fastapi.testclient import TestClient

from shequn.store import Store


def test_the_api_description_needs_a_session(app_client: Callable[..., TestClient]) -> None:
    client = app_client()
    for path in ("/docs", "/openapi.json"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_every_route_is_described_and_listed(
    seeded: Store, app_client: Callable[..., TestClient]
) -> None:
    add_user(seeded, "vic", "viewer")
    client = log_in(app_client(), "vic")
    spec = client.get("/openapi.json").json()
    described = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    # a route of every page module, and none of the description's own routes
    for route in [("GET", "/"), ("GET", "/groups/{group_id}"), ("POST", "/content/plans"),
                  ("GET", "/audit"), ("GET", "/users"), ("POST", "/login")]:  # fmt: skip
        assert route in described, route
    assert not {p for _, p in described} & {"/docs", "/openapi.json"}
    page = client.get("/docs", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and "接口文档" in page.text
    for _method, path in described:
        assert f"<code>{path}</code>" in page.text, path
    # parameters are listed with the operation
    assert '<code>group_id</code> <span class="hint">path *</span>' in page.text
