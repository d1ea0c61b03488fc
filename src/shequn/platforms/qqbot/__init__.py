"""The QQ official bot API (QQ群 and QQ频道 bots), on a thin aiohttp client.

``translate`` turns dispatches into internal events and says what a group is
(``group:<openid>`` or ``channel:<id>``); ``replies`` keeps the passive-reply
window; ``signing`` holds the webhook's ed25519 scheme; ``connection`` receives
(webhook or gateway); ``rest`` makes the OpenAPI calls behind a transport seam;
``adapter`` joins them into the :class:`QQBotAdapter`.
"""

from shequn.platforms.qqbot.adapter import CHANNEL_CAPABILITIES, GROUP_CAPABILITIES, QQBotAdapter
from shequn.platforms.qqbot.connection import INTENTS, GatewaySession, run_websocket, webhook_app
from shequn.platforms.qqbot.replies import MAX_REPLIES, PASSIVE_SECONDS, WINDOW, ReplyWindow
from shequn.platforms.qqbot.rest import AiohttpTransport, Forbidden, Response, RestClient, Transport
from shequn.platforms.qqbot.signing import Signer, seed_of
from shequn.platforms.qqbot.translate import PLATFORM, Routes, split_group, translate

__all__ = [
    "CHANNEL_CAPABILITIES",
    "GROUP_CAPABILITIES",
    "INTENTS",
    "MAX_REPLIES",
    "PASSIVE_SECONDS",
    "PLATFORM",
    "WINDOW",
    "AiohttpTransport",
    "Forbidden",
    "GatewaySession",
    "QQBotAdapter",
    "ReplyWindow",
    "Response",
    "RestClient",
    "Routes",
    "Signer",
    "Transport",
    "run_websocket",
    "seed_of",
    "split_group",
    "translate",
    "webhook_app",
]
