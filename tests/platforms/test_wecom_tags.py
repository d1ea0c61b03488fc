"""WeCom corporate customer tags → the CRM's ``member_tags``, over real callbacks.

The server API answers are WeCom's documented response examples (客户联系 →
客户标签管理 → 获取企业标签库 ``get_corp_tag_list``; 客户管理 → 获取配置了客户联系功能的
成员列表 ``get_follow_user_list``, 批量获取客户详情 ``batch/get_by_user``, 获取客户详情
``externalcontact/get``), the callbacks are the documented 编辑企业客户标签事件
(``change_external_tag``) and 编辑企业客户事件 (tests/fixtures/wecom/callbacks.json
``contact_edit``), encrypted with the official crypto vectors' keys and POSTed to the
adapter's endpoint. Changes from the documentation, as in the fixtures' README: ids
agree across examples (the tag dictionary holds the tag ids the customer examples
use, and the customer of ``externalcontact/get`` is the callback's), and the last
page of each paged answer has an empty ``next_cursor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select
from test_wecom_adapter import CALLBACKS, CHAT, FakeWeCom, detail, make_adapter, sealed

from shequn.events import Event
from shequn.features.crm.tags import add_tag
from shequn.platforms.port import Platform
from shequn.platforms.wecom import WeComAdapter
from shequn.store import Store, schema

# 获取企业标签库: the documented answer, with the customer examples' tag ids
CORP_TAGS: dict[str, Any] = {
    "errcode": 0, "errmsg": "ok",
    "tag_group": [
        {"group_id": "TAG_GROUPID1", "group_name": "客户等级", "create_time": 1557838797,
         "order": 1, "deleted": False,
         "tag": [{"id": "etAJ2GCAAAXtWyujaWJHDDGi0mACHAAA", "name": "重点客户",
                  "create_time": 1557838797, "order": 1, "deleted": False},
                 {"id": "stJ2GCAAAXtWyujaWJHDDGi0mACHAAA", "name": "流失客户",
                  "create_time": 1557838797, "order": 2, "deleted": True}]},
        {"group_id": "TAG_GROUPID2", "group_name": "兴趣", "create_time": 1557838797,
         "order": 2, "deleted": False,
         "tag": [{"id": "etAJ2GCAAAXtWyujaWJHDDGi0mBBBBBB", "name": "摄影",
                  "create_time": 1557838797, "order": 1, "deleted": False}]},
    ],
}  # fmt: skip
FOLLOW_USERS = {"errcode": 0, "errmsg": "ok", "follow_user": ["zhangsan", "lissi"]}
LI_SI, WANG_WU = "woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA", "wmAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"
# 批量获取客户详情: the documented two customers, over two pages
BATCH_PAGES: list[dict[str, Any]] = [
    {"errcode": 0, "errmsg": "ok",
     "external_contact_list": [
         {"external_contact": {"external_userid": LI_SI, "name": "李四", "position": "Manager",
                               "corp_name": "腾讯", "type": 2, "gender": 1,
                               "unionid": "ozynqsulJFCZ2z1aYeS8h-nuasdAAA"},
          "follow_info": {"userid": "rocky", "remark": "李部长", "description": "对接采购事务",
                          "createtime": 1525779812,
                          "tag_id": ["etAJ2GCAAAXtWyujaWJHDDGi0mACHAAA"],
                          "remark_corp_name": "腾讯科技", "oper_userid": "rocky",
                          "add_way": 1}}],
     "next_cursor": "r9FqSqsI8fgNbHLHE5QoCP50UIg2cFQbfma3l2QsmwI"},
    {"errcode": 0, "errmsg": "ok",
     "external_contact_list": [
         {"external_contact": {"external_userid": WANG_WU, "name": "王五", "position": "Engineer",
                               "corp_name": "腾讯", "type": 1, "gender": 1},
          "follow_info": {"userid": "rocky", "remark": "王助理", "description": "采购问题咨询",
                          "createtime": 1525881637,
                          "tag_id": ["etAJ2GCAAAXtWyujaWJHDDGi0mACHAAA",
                                     "stJ2GCAAAXtWyujaWJHDDGi0mACHAAA"],
                          "oper_userid": "woAJ2GCAAAd1NPGHKSD4wKmE8Aabj9AAA", "add_way": 3}},
         {"external_contact": {"external_userid": WANG_WU, "name": "王五", "type": 1},
          "follow_info": {"userid": "lissi", "remark": "王工", "createtime": 1525881640,
                          "tag_id": ["etAJ2GCAAAXtWyujaWJHDDGi0mBBBBBB"], "add_way": 1}}],
     "next_cursor": ""},
]  # fmt: skip
CUSTOMER = "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA"  # the contact_edit callback's ExternalUserID
# 获取客户详情: the documented answer for the callback's customer
CONTACT: dict[str, Any] = {
    "errcode": 0, "errmsg": "ok",
    "external_contact": {"external_userid": CUSTOMER, "name": "李四", "position": "Manager",
                         "corp_name": "腾讯", "type": 2, "gender": 1},
    "follow_user": [
        {"userid": "rocky", "remark": "李部长", "description": "对接采购事务",
         "createtime": 1525779812,
         "tags": [{"group_name": "标签分组名称", "tag_name": "标签名称",
                   "tag_id": "etAJ2GCAAAXtWyujaWJHDDGi0mACHAAA", "type": 1},
                  {"group_name": "标签分组名称", "tag_name": "标签名称", "type": 2},
                  {"group_name": "标签分组名称", "tag_name": "标签名称",
                   "tag_id": "stAJ2GCAAAXtWyujaWJHDDGi0mACHAAA", "type": 3}],
         "remark_corp_name": "腾讯科技", "oper_userid": "rocky", "add_way": 1,
         "state": "外联二维码1"},
        {"userid": "tommy", "remark": "李总", "description": "采购问题咨询",
         "createtime": 1525881637, "state": "外联二维码2",
         "oper_userid": "woAJ2GCAAAd1asdasdjO4wKmE8Aabj9AAA", "add_way": 3},
    ],
    "next_cursor": "",
}  # fmt: skip


def tag_event(change: str, tag_id: str, tag_type: str = "tag") -> str:
    """编辑企业客户标签事件, as documented (客户联系 → 回调通知)."""
    return ("<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]>"
            "</FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]>"
            "</MsgType><Event><![CDATA[change_external_tag]]></Event>"
            f"<Id><![CDATA[{tag_id}]]></Id><TagType><![CDATA[{tag_type}]]></TagType>"
            f"<ChangeType><![CDATA[{change}]]></ChangeType></xml>")  # fmt: skip


class FakeTags(FakeWeCom):
    """FakeWeCom with the tag calls: paged ``batch/get_by_user``, a mutable dictionary."""

    def __init__(self) -> None:
        super().__init__()
        self.corp_tags = copy.deepcopy(CORP_TAGS)
        self.batch = copy.deepcopy(BATCH_PAGES)
        self.answers["/externalcontact/get_follow_user_list"] = FOLLOW_USERS
        self.answers["/externalcontact/get"] = CONTACT

    async def endpoint(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/cgi-bin")
        if path == "/externalcontact/get_corp_tag_list":
            self.answers[path] = self.corp_tags
        if path == "/externalcontact/batch/get_by_user":
            body = await request.json()
            self.answers[path] = self.batch[1 if body.get("cursor") else 0]
        return await super().endpoint(request)

    def paths(self) -> list[str]:
        return [c[1] for c in self.take()]


@contextlib.asynccontextmanager
async def started(store: Store) -> AsyncIterator[tuple[FakeTags, WeComAdapter]]:
    fake = FakeTags()
    fake.groups[CHAT] = detail()
    app = web.Application()
    app.router.add_route("*", "/cgi-bin/{tail:.*}", fake.endpoint)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    adapter = make_adapter(f"http://127.0.0.1:{server.port}/cgi-bin", store=store)

    async def handle(event: Event, platform: Platform) -> None:
        return None

    synced = asyncio.Event()
    sync_tags = adapter.sync_tags

    async def sync_and_tell() -> int:
        try:
            return await sync_tags()
        finally:
            synced.set()

    adapter.sync_tags = sync_and_tell  # type: ignore[method-assign]
    task = asyncio.create_task(adapter.start(handle))
    try:
        await asyncio.wait_for(synced.wait(), 5)
        assert adapter.bound_port is not None
        yield fake, adapter
    finally:
        await adapter.stop()
        await asyncio.wait_for(task, 5)
        await server.close()


async def post(adapter: WeComAdapter, xml: str) -> tuple[int, str]:
    url = f"http://127.0.0.1:{adapter.bound_port}/wecom/callback"
    query, body = sealed(xml)
    async with aiohttp.ClientSession() as s, s.post(url, params=query, data=body) as r:
        return r.status, await r.text()


def tags(store: Store) -> list[tuple[str, str, str, str, str | None]]:
    t = schema.member_tags
    q = select(t.c.member_id, t.c.category, t.c.tag, t.c.source, t.c.source_id).order_by(
        t.c.member_id, t.c.category, t.c.tag
    )
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def seed(store: Store) -> None:
    """An operator's own tags, and a synced tag of a customer nobody follows any more."""
    t = schema.member_tags
    with store.engine.begin() as conn:
        add_tag(conn, ("wecom", WANG_WU), "interest", "咖啡", by="owner", now=1.0)
        conn.execute(t.insert().values(platform="wecom", member_id=WANG_WU, category="兴趣",
                                       tag="摄影", source="console", created_at=1.0))  # fmt: skip
        conn.execute(t.insert().values(platform="wecom", member_id="wmGONE", category="客户等级",
                                       tag="重点客户", source="wecom", source_id="etX",
                                       created_at=1.0))  # fmt: skip


ET, PHOTO = "etAJ2GCAAAXtWyujaWJHDDGi0mACHAAA", "etAJ2GCAAAXtWyujaWJHDDGi0mBBBBBB"


async def test_start_syncs_every_customers_corporate_tags(store: Store) -> None:
    seed(store)
    async with started(store) as (fake, _adapter):
        paths = fake.paths()
    assert paths == [
        "/gettoken", "/externalcontact/groupchat/list", "/externalcontact/groupchat/get",
        "/externalcontact/get_corp_tag_list", "/externalcontact/get_follow_user_list",
        "/externalcontact/batch/get_by_user", "/externalcontact/batch/get_by_user",
    ]  # fmt: skip
    assert tags(store) == [
        # the union over rocky's and lissi's tags; the deleted tag is not synced, and
        # the operator's own 兴趣/摄影 stays theirs
        (WANG_WU, "interest", "咖啡", "console", None),
        (WANG_WU, "兴趣", "摄影", "console", None),
        (WANG_WU, "客户等级", "重点客户", "wecom", ET),
        (LI_SI, "客户等级", "重点客户", "wecom", ET),
    ]  # wmGONE is followed by nobody now: its synced tag is gone


async def test_an_edited_customer_gets_exactly_its_corporate_tags(store: Store) -> None:
    async with started(store) as (fake, adapter):
        fake.take()
        with store.engine.begin() as conn:
            add_tag(conn, ("wecom", CUSTOMER), "city", "深圳", by="owner", now=1.0)
            conn.execute(schema.member_tags.insert().values(
                platform="wecom", member_id=CUSTOMER, category="兴趣", tag="摄影",
                source="wecom", source_id=PHOTO, created_at=1.0))  # fmt: skip
        assert await post(adapter, CALLBACKS["contact_edit"]) == (200, "success")
        calls = fake.take()
    assert [(c[1], c[2].get("external_userid")) for c in calls] == [
        ("/externalcontact/get", CUSTOMER)
    ]
    mine = [r for r in tags(store) if r[0] == CUSTOMER]
    # the personal (type 2) and rule-group (type 3) tags are not corporate tags
    assert mine == [
        (CUSTOMER, "city", "深圳", "console", None),
        (CUSTOMER, "标签分组名称", "标签名称", "wecom", ET),
    ]


async def test_tag_callbacks_rename_and_delete_the_synced_rows(store: Store) -> None:
    async with started(store) as (fake, adapter):
        fake.take()
        before = tags(store)
        # a new tag nobody has, and a new order: the dictionary is fetched, nothing written
        assert await post(adapter, tag_event("create", "etNEW")) == (200, "success")
        assert await post(adapter, tag_event("shuffle", "TAG_GROUPID1", "tag_group")) == (
            200, "success")  # fmt: skip
        assert fake.paths() == ["/externalcontact/get_corp_tag_list"] * 2
        assert tags(store) == before

        fake.corp_tags["tag_group"][0]["tag"][0]["name"] = "VIP客户"
        assert await post(adapter, tag_event("update", ET)) == (200, "success")
        assert sorted(r[2] for r in tags(store) if r[3] == "wecom") == [
            "VIP客户",
            "VIP客户",
            "摄影",
        ]

        fake.corp_tags["tag_group"][0]["group_name"] = "客户分级"
        assert await post(adapter, tag_event("update", "TAG_GROUPID1", "tag_group")) == (
            200, "success")  # fmt: skip
        assert {r[1] for r in tags(store) if r[4] == ET} == {"客户分级"}

        del fake.corp_tags["tag_group"][0]
        assert await post(adapter, tag_event("delete", "TAG_GROUPID1", "tag_group")) == (
            200, "success")  # fmt: skip
    assert tags(store) == [(WANG_WU, "兴趣", "摄影", "wecom", PHOTO)]


async def test_a_malformed_tag_callback_is_skipped_with_a_reason(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(store) as (fake, adapter):
        fake.take()
        before = tags(store)
        assert await post(adapter, tag_event("explode", ET)) == (200, "success")
        no_customer = CALLBACKS["contact_edit"].replace(
            f"<ExternalUserID><![CDATA[{CUSTOMER}]]></ExternalUserID>", ""
        )
        assert await post(adapter, no_customer) == (200, "success")
        assert fake.take() == []
    assert tags(store) == before
    assert caplog.text.count("wecom: skipped a malformed tag callback") == 2


async def test_a_refused_call_leaves_the_tags_for_the_next_sync(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(store) as (fake, adapter):
        before = tags(store)
        fake.errors["/externalcontact/get"] = [{"errcode": 84061, "errmsg": "not external contact"}]
        assert await post(adapter, CALLBACKS["contact_edit"]) == (200, "success")
    assert tags(store) == before
    assert "tags after a callback not synced" in caplog.text and "84061" in caplog.text
