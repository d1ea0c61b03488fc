"""The WeCom API client and what replaces actions: exact HTTP calls on a loopback WeCom.

Token handling and error shapes; owner notices (``message/send``), mass-send tasks
(``add_msg_template``) under the one-a-day cap kept in ``wecom_mass_sends``, and the
group QR code (``add_join_way``) fed by the pure choice of groups with room.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from test_wecom_adapter import (
    ACCESS_TOKEN,
    AGENT,
    API,
    CHAT,
    CORP,
    SECRET,
    FakeWeCom,
    detail,
    fake_wecom,
    make_adapter,
)

from shequn.platforms.port import PlatformError
from shequn.platforms.wecom import (
    AiohttpTransport,
    WeComApi,
    WeComError,
    group_info,
    next_group_with_room,
    plan_mass_send,
    submit_mass_sends,
)
from shequn.platforms.wecom.tasks import expire_owner_tasks, group_sizes, save_groups
from shequn.store import Store, schema


@pytest.fixture
async def wecom() -> AsyncIterator[tuple[FakeWeCom, str]]:
    async with fake_wecom() as served:
        yield served


Q = {"access_token": ACCESS_TOKEN}
TOKEN_CALL = ("GET", "/gettoken", {"corpid": CORP, "corpsecret": SECRET}, None)
# 2026-11-21 23:30 in Shanghai is 15:30 UTC; midnight there is 16:00 UTC
LATE_EVENING = dt.datetime(2026, 11, 21, 15, 30, tzinfo=dt.UTC).timestamp()
OTHER = "wrOgQhDgAAcwMTB7YmDkbeBsAAAA"


def client(base: str) -> WeComApi:
    return WeComApi(CORP, SECRET, AiohttpTransport(base))


async def test_the_calls_and_their_exact_bodies(wecom: tuple[FakeWeCom, str]) -> None:
    fake, base = wecom
    api = client(base)
    assert await api.send_text(AGENT, "ZhuShengBen", "请撤回消息") == "xxxx"
    assert (
        await api.add_msg_template("ZhuShengBen", [CHAT], "周五直播")
        == API["add_msg_template"]["msgid"]
    )
    config = await api.add_join_way(
        [CHAT, OTHER], remark="新人群活码", state="qr_202611", room_base_name="销售客服群"
    )
    assert config == API["add_join_way"]["config_id"]
    await api.update_join_way(config, [OTHER], remark="新人群活码", state="qr_202611",
                              room_base_name="销售客服群")  # fmt: skip
    await api.transport.aclose()
    assert fake.take() == [
        TOKEN_CALL,  # once: the token is kept for its 7200 s
        ("POST", "/message/send", Q,
         {"touser": "ZhuShengBen", "msgtype": "text", "agentid": AGENT,
          "text": {"content": "请撤回消息"}}),
        ("POST", "/externalcontact/add_msg_template", Q,
         {"chat_type": "group", "sender": "ZhuShengBen", "chat_id_list": [CHAT],
          "text": {"content": "周五直播"}}),
        ("POST", "/externalcontact/groupchat/add_join_way", Q,
         {"scene": 2, "remark": "新人群活码", "auto_create_room": 1,
          "room_base_name": "销售客服群", "room_base_id": 1,
          "chat_id_list": [CHAT, OTHER], "state": "qr_202611"}),
        ("POST", "/externalcontact/groupchat/update_join_way", Q,
         {"config_id": config, "scene": 2, "remark": "新人群活码", "auto_create_room": 1,
          "room_base_name": "销售客服群", "room_base_id": 1, "chat_id_list": [OTHER],
          "state": "qr_202611"}),
    ]  # fmt: skip


async def test_group_list_follows_the_cursor(wecom: tuple[FakeWeCom, str]) -> None:
    fake, base = wecom
    page1 = dict(API["groupchat_list"], next_cursor="tJzlB9tdqfh-g7i_J-ehOz_TWcd7dSKa39_AqCIeMFw")
    page2 = {"errcode": 0, "errmsg": "ok", "group_chat_list": [{"chat_id": "wr3", "status": 1}],
             "next_cursor": ""}  # fmt: skip
    fake.pages = [page1, page2]
    api = client(base)
    assert await api.group_chats() == [CHAT, OTHER, "wr3"]
    await api.transport.aclose()
    assert [c[3] for c in fake.take()[1:]] == [
        {"status_filter": 0, "limit": 1000},
        {"status_filter": 0, "limit": 1000, "cursor": page1["next_cursor"]},
    ]


async def test_an_expired_token_is_renewed_once(wecom: tuple[FakeWeCom, str]) -> None:
    fake, base = wecom
    fake.groups[CHAT] = detail()
    api = client(base)
    await api.group_chat(CHAT)
    fake.errors["/externalcontact/groupchat/get"] = [API["token_expired"]]
    assert (await api.group_chat(CHAT))["owner"] == "ZhuShengBen"
    fake.errors["/externalcontact/groupchat/get"] = [API["token_expired"]] * 2
    with pytest.raises(WeComError) as err:  # not a loop: a second refusal is final
        await api.group_chat(CHAT)
    assert err.value.errcode == 42001
    await api.transport.aclose()
    paths = [c[1] for c in fake.take()]
    assert paths == ["/gettoken", "/externalcontact/groupchat/get",
                     "/externalcontact/groupchat/get", "/gettoken",
                     "/externalcontact/groupchat/get",
                     "/externalcontact/groupchat/get", "/gettoken",
                     "/externalcontact/groupchat/get"]  # fmt: skip


async def test_rate_limits_and_refusals_are_platform_errors(
    wecom: tuple[FakeWeCom, str],
) -> None:
    fake, base = wecom
    api = client(base)
    fake.errors["/message/send"] = [API["freq_limit"]]
    with pytest.raises(PlatformError, match="45009 api freq out of limit") as err:
        await api.send_text(AGENT, "ZhuShengBen", "x")
    assert err.value.retry_after == 60.0
    fake.answers["/message/send"] = dict(API["message_send"], invaliduser="ZhuShengBen")
    with pytest.raises(PlatformError, match="cannot receive app messages"):
        await api.send_text(AGENT, "ZhuShengBen", "x")
    fake.answers["/externalcontact/add_msg_template"] = dict(
        API["add_msg_template"], fail_list=[CHAT]
    )
    with pytest.raises(PlatformError, match="not sent to"):
        await api.add_msg_template("ZhuShengBen", [CHAT], "x")
    await api.transport.aclose()


async def test_errors_never_carry_the_access_token() -> None:
    api = WeComApi(CORP, SECRET, AiohttpTransport("http://[::1"))  # an invalid URL
    with pytest.raises(PlatformError) as err:
        await api.group_chat(CHAT)
    assert SECRET not in str(err.value) and ACCESS_TOKEN not in str(err.value)
    await api.transport.aclose()


# -- mass sends: one a day per group ----------------------------------------------------


def _groups(store: Store, now: float) -> None:
    other = detail(chat_id=OTHER, name="技术支持群", owner="sam")
    with store.engine.begin() as conn:
        save_groups(conn, {CHAT: group_info(detail()), OTHER: group_info(other)}, now)


async def test_mass_sends_respect_one_a_day_per_group(
    store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    now = LATE_EVENING
    _groups(store, now)
    with store.engine.begin() as conn:
        first = plan_mass_send(conn, [CHAT, OTHER, "wrUnknown"], "周五晚八点直播", now=now)
    assert sorted(first.planned) == [CHAT, OTHER]
    assert first.capped == [] and first.no_owner == ["wrUnknown"]
    with store.engine.begin() as conn:  # the same Shanghai day, 20 minutes later
        again = plan_mass_send(conn, [CHAT], "再提醒一次", now=now + 1200)
    assert again.planned == {} and again.capped == [CHAT]

    api = client(base)
    assert await submit_mass_sends(store, api.add_msg_template, now=now) == 2
    await api.transport.aclose()
    # one task per owner: each confirms their own group's message in the client
    assert [(c[1], c[3]) for c in fake.take()[1:]] == [
        ("/externalcontact/add_msg_template",
         {"chat_type": "group", "sender": "ZhuShengBen", "chat_id_list": [CHAT],
          "text": {"content": "周五晚八点直播"}}),
        ("/externalcontact/add_msg_template",
         {"chat_type": "group", "sender": "sam", "chat_id_list": [OTHER],
          "text": {"content": "周五晚八点直播"}}),
    ]  # fmt: skip
    with store.engine.begin() as conn:  # past midnight in Shanghai: a new day
        tomorrow = plan_mass_send(conn, [CHAT], "明天的", now=now + 3600)
    assert list(tomorrow.planned) == [CHAT]
    ms = schema.wecom_mass_sends
    with store.engine.connect() as conn:
        rows = conn.execute(select(ms.c.chat_id, ms.c.day, ms.c.status).order_by(ms.c.id)).all()
    assert [tuple(r) for r in rows] == [
        (CHAT, "2026-11-21", "submitted"),
        (OTHER, "2026-11-21", "submitted"),
        (CHAT, "2026-11-22", "planned"),
    ]


async def test_a_refused_mass_send_frees_the_day(
    store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    _groups(store, LATE_EVENING)
    with store.engine.begin() as conn:
        plan_mass_send(conn, [CHAT], "周五直播", now=LATE_EVENING)
    fake.errors["/externalcontact/add_msg_template"] = [API["freq_limit"]]
    api = client(base)
    assert await submit_mass_sends(store, api.add_msg_template, now=LATE_EVENING) == 0
    with store.engine.begin() as conn:
        retry = plan_mass_send(conn, [CHAT], "周五直播", now=LATE_EVENING + 60)
    assert list(retry.planned) == [CHAT]
    assert await submit_mass_sends(store, api.add_msg_template, now=LATE_EVENING + 60) == 1
    await api.transport.aclose()


# -- 活码: the next group with room --------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ({"a": 120, "b": 480, "c": 30}, ["b", "a", "c"]),  # fullest first
        ({"a": 120, "b": 491, "c": 500}, ["a"]),  # b keeps its reserve, c is full
        ({"a": 495, "b": 500}, []),  # all full: WeCom's auto_create_room opens one
        ({f"g{i}": i for i in range(8)}, ["g7", "g6", "g5", "g4", "g3"]),  # five at most
        ({"b": 100, "a": 100}, ["a", "b"]),  # ties by id: the same choice every time
    ],
)
def test_next_group_with_room(sizes: dict[str, int], expected: list[str]) -> None:
    assert next_group_with_room(sizes) == expected


async def test_the_join_way_points_at_the_groups_with_room(
    store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    full = detail(chat_id=OTHER, member_list=[{"userid": f"wm{i}", "type": 2}
                                              for i in range(495)])  # fmt: skip
    with store.engine.begin() as conn:
        save_groups(conn, {CHAT: group_info(detail()), OTHER: group_info(full)}, LATE_EVENING)
        sizes = group_sizes(conn)
    assert sizes == {CHAT: 2, OTHER: 495}
    api = client(base)
    await api.add_join_way(next_group_with_room(sizes), remark="活码", state="s",
                           room_base_name="销售客服群")  # fmt: skip
    await api.transport.aclose()
    assert fake.take()[-1][3]["chat_id_list"] == [CHAT]


def test_unanswered_owner_tasks_expire(store: Store) -> None:
    h, o = schema.human_tasks, schema.wecom_owner_tasks
    with store.engine.begin() as conn:
        ids = [
            conn.execute(h.insert().values(platform="wecom", group_id=CHAT, kind=k, text="t",
                                           status="open", created_at=0.0)).inserted_primary_key[0]
            for k in ("delete", "kick")
        ]  # fmt: skip
        for i in ids:
            conn.execute(o.insert().values(human_task_id=i, chat_id=CHAT, owner="ZhuShengBen",
                                           kind="delete", text="t", status="notified",
                                           created_at=0.0, expires_at=100.0))  # fmt: skip
        conn.execute(h.update().where(h.c.id == ids[1]).values(status="done", done_at=50.0))
    with store.engine.begin() as conn:
        assert expire_owner_tasks(conn, now=99.0) == 0
        assert expire_owner_tasks(conn, now=100.0) == 1
    with store.engine.connect() as conn:
        tasks: list[Any] = conn.execute(select(h.c.status).order_by(h.c.id)).scalars().all()
        notices = conn.execute(select(o.c.status).order_by(o.c.id)).scalars().all()
    assert tasks == ["expired", "done"]
    assert notices == ["expired", "done"]


async def test_the_adapter_routes_its_qr_code_and_submits_mass_sends(
    store: Store, wecom: tuple[FakeWeCom, str]
) -> None:
    fake, base = wecom
    adapter = make_adapter(base)
    _groups(store, LATE_EVENING)
    chosen = await adapter.route_join_way(
        store, "9ad7fa5cdaa6511298498f979c472aaa", remark="活码", state="s",
        room_base_name="销售客服群",
    )  # fmt: skip
    assert chosen == [CHAT, OTHER]  # both have two members: ties by id
    with store.engine.begin() as conn:
        plan_mass_send(conn, [OTHER], "周五直播", now=LATE_EVENING)
    assert await adapter.submit_mass_sends(store, LATE_EVENING) == 1
    await adapter.aclose()
    assert [(c[1], c[3]) for c in fake.take()[1:]] == [
        ("/externalcontact/groupchat/update_join_way",
         {"config_id": "9ad7fa5cdaa6511298498f979c472aaa", "scene": 2, "remark": "活码",
          "auto_create_room": 1, "room_base_name": "销售客服群", "room_base_id": 1,
          "chat_id_list": [CHAT, OTHER], "state": "s"}),
        ("/externalcontact/add_msg_template",
         {"chat_type": "group", "sender": "sam", "chat_id_list": [OTHER],
          "text": {"content": "周五直播"}}),
    ]  # fmt: skip


def test_a_console_mass_message_to_wecom_groups_becomes_owner_confirmed_tasks(
    store: Store,
) -> None:
    """群发 from the content feature: on WeCom each group gets an ``add_msg_template``
    task for its owner (one a day per group), never an outbox send the API cannot do."""
    from shequn.botconfig import GroupSettings
    from shequn.features.content import create_mass, report
    from shequn.features.content.mass import release_mass

    now = LATE_EVENING
    _groups(store, now)
    adapter = make_adapter("http://127.0.0.1:9", store=store)  # no call is made
    with store.engine.begin() as conn:
        mass = create_mass(
            conn, text="周五晚八点直播", by="mia", now=now,
            groups=[("wecom", CHAT), ("wecom", OTHER)],
        )  # fmt: skip
        second = create_mass(conn, text="再说一次", by="mia", now=now, groups=[("wecom", CHAT)])
        release_mass(conn, {"wecom": adapter}, lambda p, g: GroupSettings(), now)
    ms, ba = schema.wecom_mass_sends, schema.bot_actions
    with store.engine.connect() as conn:
        tasks = conn.execute(select(ms.c.chat_id, ms.c.owner, ms.c.status, ms.c.text)).all()
        assert {tuple(r) for r in tasks} == {
            (CHAT, "ZhuShengBen", "planned", "周五晚八点直播"),
            (OTHER, "sam", "planned", "周五晚八点直播"),
        }
        assert conn.execute(select(ba.c.id)).first() is None  # nothing for the outbox
        assert {d.state for d in report(conn, "mass", mass)} == {"platform_task"}
        # the same group's second mass message waits for tomorrow (WeCom's cap)
        assert [d.state for d in report(conn, "mass", second)] == ["queued"]
