"""WeCom (企业微信) customer groups through a self-built app.

``callback`` checks, decrypts and serves WeCom's callbacks (wechatpy's WeCom crypto);
``events`` translates them and group details into internal events; ``api`` calls the
server API behind a transport seam; ``tasks`` turns what WeCom does not let an app
do into tasks for group owners, mass-send tasks and 活码 routing; ``adapter`` joins
them into the :class:`WeComAdapter`.
"""

from shequn.platforms.wecom.adapter import ArchiveSource, WeComAdapter
from shequn.platforms.wecom.api import AiohttpTransport, Response, Transport, WeComApi, WeComError
from shequn.platforms.wecom.callback import CallbackCrypto, callback_app, parse_xml
from shequn.platforms.wecom.events import Facts, GroupInfo, group_info, sync_events, translate
from shequn.platforms.wecom.tasks import (
    MassSendPlan,
    TaskEffects,
    check_mass_sends,
    confirm_from_archive,
    confirm_removals,
    effects,
    expire_owner_tasks,
    next_group_with_room,
    notify_human_tasks,
    owner_message,
    plan_mass_send,
    submit_mass_sends,
)

__all__ = [
    "AiohttpTransport",
    "ArchiveSource",
    "CallbackCrypto",
    "Facts",
    "GroupInfo",
    "MassSendPlan",
    "Response",
    "TaskEffects",
    "Transport",
    "WeComAdapter",
    "WeComApi",
    "WeComError",
    "callback_app",
    "check_mass_sends",
    "confirm_from_archive",
    "confirm_removals",
    "effects",
    "expire_owner_tasks",
    "group_info",
    "next_group_with_room",
    "notify_human_tasks",
    "owner_message",
    "parse_xml",
    "plan_mass_send",
    "submit_mass_sends",
    "sync_events",
    "translate",
]
