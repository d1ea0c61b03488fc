"""Rule detectors: links, contact handles, selling, message kinds and mass mentions.

Each detector is a pure function of the normalised message returning
``(category, Reason)`` pairs; ``category`` is what the evidence points to (``ad``,
``spam``). Details quote the *normalised* text (see :mod:`shequn.text.normalize`).
Every pattern is anchored so that it cannot backtrack quadratically on long runs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from shequn.features.moderation.settings import Allowlist
from shequn.features.moderation.verdict import Reason
from shequn.text import Normalized, compact, signature_table

__all__ = ["commerce", "contacts", "links", "mentions", "message_kind"]

Hit = tuple[str, Reason]

SHORTENERS = frozenset(
    [
        "bit.ly",
        "tinyurl.com",
        "t.co",
        "goo.gl",
        "is.gd",
        "v.gd",
        "urlz.fr",
        "cutt.ly",
        "rb.gy",
        "t.cn",
        "url.cn",
        "dwz.cn",
        "suo.im",
        "tb.cn",
        "m.tb.cn",
        "s.click.taobao.com",
        "u.jd.com",
        "3.cn",
        "ow.ly",
        "buff.ly",
        "shorturl.at",
        "tiny.cc",
        "lnkd.in",
        "clck.ru",
        "surl.li",
        "shorturl.ly",
        "s.id",
        "bit.do",
    ]
)
INVITES = frozenset(
    [
        "t.me",
        "telegram.me",
        "telegram.dog",
        "wa.me",
        "chat.whatsapp.com",
        "qm.qq.com",
        "jq.qq.com",
        "discord.gg",
        "discord.com/invite",
    ]
)
_TLDS = (
    "com|cn|net|org|top|xyz|me|ly|cc|io|co|ru|info|biz|vip|club|site|online|shop|store|"
    "link|fr|gl|gd|tk|ml|ga|cf|app|dev|ltd|pro|live|fun|icu|ink|win|bid|work|tv|us|uk|de|"
    "to|gg|so|sh|tw|hk|id|at|in|do|ph|dog|xin|ren|wang|buzz|sbs|cfd|cyou|bond"
)
_URL = re.compile(r"(?<![a-z0-9])(?:https?://|www\.)[^\s<>\"'，。、）)]+")
_HOST = re.compile(
    rf"(?<![a-z0-9.@_-])((?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLDS}))(?![a-z0-9-])(/[^\s<>\"'，。]*)?"
)
# "wqkj777. top" — a spammer's gap before the TLD; only for spam-typical TLDs.
_SPACED_HOST = re.compile(
    r"(?<![a-z0-9.])([a-z0-9][a-z0-9-]{2,}) ?\. ?(top|xyz|vip|icu|cc|ltd|club|site|cn)(?![a-z0-9])"
)
# What every match of _HOST (its last label, dot and TLD) or of _SPACED_HOST implies,
# starting with the dot so that sre jumps from dot to dot.
_HOST_GATE = re.compile(
    rf"\.(?:(?<=[a-z0-9-]\.)(?:{_TLDS})(?![a-z0-9-])"
    r"|(?:(?<=[a-z0-9-]\.)|(?<=[a-z0-9-] \.)) ?(?:top|xyz|vip|icu|cc|ltd|club|site|cn)(?![a-z0-9]))"
)
_IP_URL = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?/")

_WECHAT = re.compile(
    r"(?<![a-z])(?:微信|薇信|威信|徽信|v信|vx|wx|weixin|wechat|(?:加|\+|联系|添加|私)v)"
    r"(?:号|id)?[:= ]{0,3}([a-z0-9][a-z0-9_-]{5,19})(?![a-z0-9_-])"
)
_QQ = re.compile(
    r"(?:(?<![a-z])(?:qq|q群|群号|扣扣|企鹅)|(?:加|联系|找|私)q|群)"
    r"(?:号码|号|群)?[:= ]{0,3}(\d{5,11})(?!\d)"
)
_CONTACT_NUMBER = re.compile(
    r"(?:联系|加我|找我|私聊|私我|咨询|滴滴|进群|加群)[^\d\s]{0,6}?(\d{6,11})(?!\d)"
)
_PHONE = re.compile(r"(?<![\d@])(?:\+?86)?(1[3-9]\d{9})(?!\d)")
_FIVE_DIGITS = re.compile(r"\d{5}")
_LONG_NUMBER = re.compile(r"(?<![\d@])(\d{8,11})(?!\d)")
_TG_HANDLE = re.compile(r"(?<![\w@.])@([a-z][a-z0-9_]{4,31})(?![a-z0-9_])")
_CONTACT_VERB = re.compile(
    r"(?<![a-z])(?:contact|write|dm|pm|message|text|inbox|reach|пиши|напиши|пишите|писать)"
    r"(?![a-z])"
)
_TAOBAO_CODE = re.compile(r"[^\w\s]{1,2}[a-z0-9]{11}[^\w\s]{1,2}/")
_PRICE = re.compile(
    r"(?<![\d.])\d+(?:\.\d+)?(?:r|元|块|rmb|亓|💰|刀|rub|руб|usd|\$|/月|/年)(?![a-z])|[¥$€£]\d"
)
# what _PRICE's two branches imply: a digit right before the first character of a unit
# (r, 元, 块, rmb, 亓, 💰, 刀, rub, руб, usd, $, /月, /年), or a currency sign and a digit
_DIGIT_UNIT = re.compile("\\d[r元块亓💰刀\u0440u$/]")
_CURRENCY_DIGIT = re.compile(r"[¥$€£]\d")


# an ASCII text's price needs a digit then a unit ("r", "rmb", "rub", "usd", "$", "/月")
# or "$" then a digit
_SIG_PRICE = signature_table({"0": "[0-9]", "u": "[ru$/]"})
_SIG_DIGITS = signature_table({"0": r"\d"})  # \d is [0-9] in ASCII
_SELL_LEAD = re.compile(r"^(?:出|收|卖|售|低价|代|招|求购|接)")

KIND_WEIGHTS = {
    "card": ("name card", 0.6),
    "namecard": ("name card", 0.6),
    "contact": ("name card", 0.6),
    "miniprogram": ("mini-program share", 0.55),
    "mini_program": ("mini-program share", 0.55),
    "invite": ("group invitation", 0.55),
    "link": ("link share", 0.3),
    "qrcode": ("QR code", 0.5),
}


@lru_cache(maxsize=256)
def _lowered(items: frozenset[str]) -> frozenset[str]:
    return frozenset(i.strip().lstrip("@").lower().removeprefix("www.") for i in items)


def _domain_allowed(host: str, allow: Allowlist | None) -> bool:
    if allow is None or not allow.domains:
        return False
    host = host.removeprefix("www.")
    return any(host == d or host.endswith("." + d) for d in _lowered(allow.domains))


def _handle_allowed(handle: str, allow: Allowlist | None) -> bool:
    if allow is None or not allow.handles:
        return False
    return handle.lstrip("@").lower() in _lowered(allow.handles)


def links(norm: Normalized, allow: Allowlist | None = None) -> list[Hit]:
    """External links; URL shorteners and chat invites weigh more than plain links."""
    hosts: dict[str, str] = {}
    text = norm.light
    if "." not in text and "://" not in text:  # every link form below has one
        return []
    if "://" in text or "www." in text:  # what _URL starts with
        for m in _URL.finditer(text):
            url = m.group(0)
            rest = url.split("://", 1)[-1]
            host = rest.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
            hosts.setdefault(host, rest)
    if _HOST_GATE.search(text):
        for m in _HOST.finditer(text):
            hosts.setdefault(m.group(1), m.group(0))
        for m in _SPACED_HOST.finditer(text):
            hosts.setdefault(f"{m.group(1)}.{m.group(2)}", m.group(0))
    out: list[Hit] = []
    for host, full in hosts.items():
        host = host.removeprefix("www.")
        if _domain_allowed(host, allow):
            continue
        path = full.split("/", 1)
        if host in SHORTENERS:
            out.append(("ad", Reason("link.shortener", host, 0.7)))
        elif (host in INVITES and len(path) > 1 and path[1]) or (
            len(path) > 1 and f"{host}/{path[1][:6]}" in INVITES
        ):
            out.append(("ad", Reason("link.invite", full[:60], 0.7)))
        else:
            out.append(("ad", Reason("link", host, 0.3)))
        if len(out) >= 10:
            break
    if "/" in text and _IP_URL.search(text):
        out.append(("ad", Reason("link.ip", "numeric address", 0.5)))
    if len(out) >= 3:
        out.append(("ad", Reason("link.many", str(len(out)), 0.4)))
    return out


def contacts(norm: Normalized, allow: Allowlist | None = None) -> list[Hit]:
    """Contact handles: WeChat ids, QQ numbers, phone numbers, Telegram handles."""
    out: list[Hit] = []
    seen: set[str] = set()
    text = norm.compact
    if "http" in norm.light or "www." in norm.light:  # numbers inside URLs are not contacts
        text = compact(_URL.sub(" ", norm.light))

    def add(detector: str, handle: str, weight: float) -> None:
        if handle in seen or _handle_allowed(handle, allow) or len(out) >= 10:
            return
        seen.add(handle)
        out.append(("ad", Reason(detector, handle, weight)))

    if (  # every keyword of _WECHAT is one of these or holds one (添加v holds 加v)
        (
            "信" in text
            and (
                "微信" in text
                or "薇信" in text
                or "威信" in text
                or "徽信" in text
                or "v信" in text
            )
        )
        or ("x" in text and ("vx" in text or "wx" in text or "weixin" in text))
        or "wechat" in text
        or ("v" in text and ("加v" in text or "+v" in text or "系v" in text or "私v" in text))
    ):
        for m in _WECHAT.finditer(text):
            add("contact.wechat", m.group(1), 0.8)
    if (  # every number pattern below needs five digits in a row
        b"00000" in text.encode().translate(_SIG_DIGITS)
        if text.isascii()
        else _FIVE_DIGITS.search(text)
    ):
        if "q" in text or "群" in text or "扣扣" in text or "企鹅" in text:  # _QQ's keywords
            for m in _QQ.finditer(text):
                add("contact.qq", m.group(1), 0.8)
        if (  # _CONTACT_NUMBER's keywords: 联系 加我 找我 私聊 私我 咨询 滴滴 进群 加群
            "联系" in text
            or "加我" in text
            or "找我" in text
            or "私" in text
            or "咨询" in text
            or "滴滴" in text
            or "群" in text
        ):
            for m in _CONTACT_NUMBER.finditer(text):
                add("contact.number", m.group(1), 0.75)
        for m in _PHONE.finditer(text):
            add("contact.phone", m.group(1), 0.7)
        if not out:  # a bare long number is weak evidence, and counts once
            bare = _LONG_NUMBER.search(text)
            if bare:
                add("contact.number", bare.group(1), 0.3)
    light = norm.light
    if "@" not in light:
        return out
    handles = [m.group(1) for m in _TG_HANDLE.finditer(light)]
    if handles:
        verb = _CONTACT_VERB.search(light) is not None
        for h in handles[:10]:
            add("contact.telegram", "@" + h, 0.6 if verb else 0.15)
    return out


def commerce(norm: Normalized) -> list[Hit]:
    """Selling: Taobao share codes, prices, and "出/收 … 40r" second-hand sales."""
    out: list[Hit] = []
    if "/" in norm.light and _TAOBAO_CODE.search(norm.light):
        out.append(("ad", Reason("commerce.taobao", "淘口令", 0.85)))
    head = norm.compact[:5000]
    if head.isascii():  # a digit next to a unit or a "$" (no ¥ € £ in ASCII)
        sig = head.encode().translate(_SIG_PRICE)
        maybe = b"0u" in sig or b"u0" in sig
    else:
        maybe = _DIGIT_UNIT.search(head) is not None or _CURRENCY_DIGIT.search(head) is not None
    prices = _PRICE.findall(head) if maybe else []
    if prices:
        sale = _SELL_LEAD.match(norm.compact) is not None
        weight = 0.6 if sale else (0.35 if len(prices) >= 2 else 0.2)
        detail = ("sale " if sale else "") + ",".join(prices[:3])
        out.append(("ad", Reason("commerce.price", detail, weight)))
    return out


def message_kind(kind: str) -> list[Hit]:
    """Name cards, mini-program shares and invitations are ads more often than not."""
    found = KIND_WEIGHTS.get(kind.lower())
    if found is None:
        return []
    detail, weight = found
    return [("ad", Reason("kind", detail, weight))]


def mentions(count: int, *, at: int = 5) -> list[Hit]:
    """Mass @-mentions: from ``at`` on, more weight the more are mentioned."""
    if count < at:
        return []
    weight = min(0.95, 0.55 + 0.04 * (count - at))
    return [("spam", Reason("mentions", str(count), round(weight, 3)))]
