"""The callback endpoint: WeCom's URL check (GET) and encrypted events (POST).

Signatures and AES are wechatpy's (``wechatpy.enterprise.crypto.WeChatCrypto``, the
WeCom crypto in wechatpy 1.8; 2.x moved it to ``wechatpy.work.crypto``). A request
whose ``msg_signature`` does not match, or whose ciphertext is not for this corp id,
gets 403 and is never parsed.

An event is answered only after ``deliver`` returned for it (the engine persisted
it): on an error WeCom gets 500 and sends the callback again (it retries three
times), and the engine's dedupe by event id keeps one copy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import xmltodict
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

__all__ = ["CallbackCrypto", "callback_app", "parse_xml"]

log = logging.getLogger(__name__)

#: A WeCom callback body is a few hundred bytes; refuse anything far larger unread.
MAX_BODY = 64 * 1024


def parse_xml(xml: str) -> dict[str, Any]:
    """The fields of a callback's ``<xml>`` element (no entities, no DTDs)."""
    doc = xmltodict.parse(xml, disable_entities=True)
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise ValueError("not a WeCom callback: no <xml> root")
    return dict(root)


class CallbackCrypto:
    """Check and decrypt (and, for tests and replies, encrypt) callback bodies."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str) -> None:
        self._crypto = WeChatCrypto(token, encoding_aes_key, corp_id)

    def verify_url(self, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The plain ``echostr`` to answer the URL check with; raises on a bad signature."""
        return str(self._crypto.check_signature(signature, timestamp, nonce, echostr))

    def decrypt(self, body: str, signature: str, timestamp: str, nonce: str) -> dict[str, Any]:
        """The decrypted callback's fields; raises on a bad signature or foreign corp id."""
        return parse_xml(str(self._crypto.decrypt_message(body, signature, timestamp, nonce)))

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """``xml`` as WeCom would send it: the encrypted, signed envelope."""
        return str(self._crypto.encrypt_message(xml, nonce, timestamp))


#: A forged or foreign body fails anywhere in wechatpy (signature, base64, padding,
#: corp id, the envelope's XML), each with its own exception type: all are a refusal.
_REJECT = Exception


def callback_app(
    crypto: CallbackCrypto,
    deliver: Callable[[dict[str, Any]], Awaitable[None]],
    path: str = "/wecom/callback",
) -> web.Application:
    """An aiohttp app serving the callback URL at ``path``."""

    async def verify(request: web.Request) -> web.Response:
        q = request.query
        try:
            echo = crypto.verify_url(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
        except KeyError as exc:
            log.warning("WeCom URL check refused: no %s in the query", exc)
            return web.Response(status=400, text="missing query parameters")
        except _REJECT as exc:
            log.warning("WeCom URL check refused: %s", type(exc).__name__)
            return web.Response(status=403, text="bad signature")
        return web.Response(text=echo)

    async def receive(request: web.Request) -> web.Response:
        q = request.query
        try:
            if request.content_length is not None and request.content_length > MAX_BODY:
                raise web.HTTPRequestEntityTooLarge(MAX_BODY, request.content_length)
            body = (await request.read()).decode("utf-8")  # aiohttp stops at MAX_BODY
        except web.HTTPRequestEntityTooLarge:
            log.warning("WeCom callback refused: body larger than %d bytes", MAX_BODY)
            return web.Response(status=413)
        except UnicodeDecodeError:
            log.warning("WeCom callback refused: body is not UTF-8")
            return web.Response(status=400, text="not UTF-8")
        try:
            signature, timestamp, nonce = q["msg_signature"], q["timestamp"], q["nonce"]
        except KeyError as exc:
            log.warning("WeCom callback refused: no %s in the query", exc)
            return web.Response(status=400, text="missing query parameters")
        try:
            msg = crypto.decrypt(body, signature, timestamp, nonce)
        except _REJECT as exc:
            log.warning("WeCom callback refused: %s", type(exc).__name__)
            return web.Response(status=403, text="bad signature")
        await deliver(msg)  # an exception here is a 500: WeCom will send it again
        return web.Response(text="success")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get(path, verify)
    app.router.add_post(path, receive)
    return app
