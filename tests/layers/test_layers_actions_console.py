"""The layers-in-action console page: suggestions per layer, one-click carry-out (one and
a whole layer, htmx), permissions, audit rows and the outbox rows it plans."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from console_fixtures import app_client, cheap_argon2, clock, fake, seeded
from console_helpers import TG, Clock, add_user, csrf_of, group_id
from fastapi.testclient import TestClient
from layers_actions_helpers import SAMPLE, export_events, replay_layers
from sqlalchemy import select

from shequn.platforms.port import FakePlatform
from shequn.store import Store, schema

__all__ = ["app_client", "cheap_argon2", "clock", "fake", "seeded"]


def _ready(seeded: Store, clock: Clock) -> str:
    """The seeded archive's Telegram group replayed into the live layers; its page URL."""
    clock.now = replay_layers(seeded, "telegram", export_events(SAMPLE / "oop.json")) + 3600
    return f"/groups/{group_id(seeded, TG)}/layers"


def test_a_manager_carries_out_one_suggestion_and_a_whole_layer(
    seeded: Store, clock: Clock, fake: FakePlatform, app_client: Callable[..., TestClient]
) -> None:
    url = _ready(seeded, clock)
    add_user(seeded, "mia", "manager", "A")
    c = app_client("mia")
    group_page = c.get(url.removesuffix("/layers")).text
    assert f'href="{url}"' in group_page  # linked from the group page
    page = c.get(url).text
    assert page.count('data-testid="suggestion"') == 8
    assert 'data-testid="layer-spreader"' in page and "Thank publicly" in page
    assert "公开感谢并授予特权" in c.get(url + "?lang=zh").text
    csrf = csrf_of(page)
    spreader_key = page.split('name="key" value="')[1].split('"')[0]  # best layer first
    r = c.post(url + "/act", data={"key": spreader_key, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and "msg=done" in r.headers["location"]
    assert [call.name for call in fake.calls] == ["send"]  # carried out on the live platform
    assert "传播者" in fake.calls[0].args["text"]
    # the whole bystander layer, as htmx posts it (the redirect is followed)
    r = c.post(url + "/act-layer", data={"layer": "bystander", "csrf_token": csrf},
               headers={"HX-Request": "true"})  # fmt: skip
    assert r.status_code == 200 and 'id="suggestions"' in r.text
    assert 'data-testid="layer-bystander"' not in r.text
    assert r.text.count('data-testid="suggestion"') == 3  # the three participants are left
    assert len(fake.calls) == 5
    a = schema.bot_actions
    with seeded.engine.connect() as conn:
        rows = list(conn.execute(select(a).order_by(a.c.id)))
        audits = list(
            conn.execute(select(schema.console_audit).order_by(schema.console_audit.c.id))
        )
    assert [(x.kind, x.status, x.operator) for x in rows] == [("send", "done", "console:mia")] * 5
    assert all(x.event_key.startswith("layers.action:") for x in rows)
    mine = [x for x in audits if x.action == "layers.action"]
    assert [x.target for x in mine] == [f"member:{spreader_key}", "layer:bystander"]
    assert all((x.platform, x.group_id) == TG and x.user_name == "mia" for x in mine)
    # a second click on a done suggestion plans nothing
    r = c.post(url + "/act", data={"key": spreader_key, "csrf_token": csrf}, follow_redirects=False)
    assert "msg=none" in r.headers["location"]
    page = c.get(url + "?lang=en").text
    assert page.count('data-testid="outcome-') == 5 and "watching" in page


def test_who_may_see_and_act(
    seeded: Store, clock: Clock, app_client: Callable[..., TestClient]
) -> None:
    url = _ready(seeded, clock)
    add_user(seeded, "vic", "viewer", "A")
    add_user(seeded, "pat", "partner", "A")
    add_user(seeded, "bob", "manager", "B")
    viewer = app_client("vic")
    page = viewer.get(url).text
    assert page.count('data-testid="suggestion"') == 8 and 'data-testid="act"' not in page
    csrf = csrf_of(page)
    r = viewer.post(url + "/act-layer", data={"layer": "bystander", "csrf_token": csrf},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 403
    assert app_client("pat").get(url).status_code == 403  # no member data for partners
    assert app_client("bob").get(url).status_code == 404  # another set's group
    assert app_client().get(url, follow_redirects=False).status_code == 303  # sign in first
    with seeded.engine.connect() as conn:
        assert conn.execute(select(schema.bot_actions)).first() is None
