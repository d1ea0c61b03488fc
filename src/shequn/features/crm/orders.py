"""Orders: manual entry, CSV import and the shop webhook, all through :func:`record_order`.

An order names its member by account, or only by a per-member coupon code (the
coupon says whose it is). A coupon code also ties the order to its campaign, which
the campaign funnel counts. ``shop`` + ``external_id`` (the shop's own order id)
make a replayed webhook call or a re-imported file find the order it recorded.

Amounts are kept in cents: ``"12.5"`` is 1250; a float never touches money.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from shequn.store import schema

__all__ = [
    "CSV_COLUMNS",
    "OrderError",
    "OrderInput",
    "check_token",
    "create_shop",
    "find_order",
    "import_csv",
    "parse_amount",
    "parse_time",
    "read_csv",
    "record_order",
]

#: The CSV header an import reads (``platform``/``member_id`` or ``coupon`` are needed).
CSV_COLUMNS = (
    "order_id", "platform", "member_id", "amount", "currency", "item", "ordered_at",
    "coupon", "shop",
)  # fmt: skip
_SOURCES = ("manual", "csv", "webhook")


class OrderError(ValueError):
    """A bad order (or a bad line of a file: the message names the file and the line)."""


@dataclass(frozen=True, slots=True)
class OrderInput:
    platform: str
    member_id: str
    amount_cents: int
    ordered_at: float
    currency: str = "CNY"
    item: str = ""
    coupon_code: str = ""
    shop: str = ""
    external_id: str = ""


def parse_amount(raw: object) -> int:
    """``"12.50"`` → 1250 cents; raises OrderError on anything that is not an amount."""
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise OrderError(f"not an amount: {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise OrderError(f"not an amount: {raw!r}")
    cents = value * 100
    if cents != cents.to_integral_value():
        raise OrderError(f"more than two decimals: {raw!r}")
    return int(cents)


def parse_time(raw: object, *, now: float, tz: str = "Asia/Shanghai") -> float:
    """Epoch seconds or ISO 8601 (a time without an offset is in ``tz``); "" is ``now``."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return now
    try:
        return float(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise OrderError(f"not a time: {text!r} (use 2025-03-01 14:30 or ISO 8601)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.timestamp()


def _coupon(conn: Connection, code: str) -> tuple[int | None, tuple[str, str] | None]:
    """The campaign of ``code`` and, for a per-member code, its member."""
    c, k = schema.crm_coupons, schema.crm_campaigns
    rows = conn.execute(
        select(c.c.campaign_id, c.c.platform, c.c.member_id).where(c.c.code == code)
    ).all()
    if len(rows) == 1:
        return int(rows[0].campaign_id), (rows[0].platform, rows[0].member_id)
    shared = conn.execute(
        select(k.c.id).where(k.c.code == code).order_by(k.c.id.desc())
    ).scalar()  # a shared code: the newest campaign that used it
    return (int(shared) if shared is not None else None), None


def find_order(conn: Connection, shop: str, external_id: str) -> int | None:
    """The id of the shop's order ``external_id``, if it was recorded."""
    return _find(conn, shop, external_id)


def _find(conn: Connection, shop: str, external_id: str) -> int | None:
    o = schema.crm_orders
    found = conn.execute(
        select(o.c.id).where(o.c.shop == shop, o.c.external_id == external_id)
    ).scalar()
    return None if found is None else int(found)


def record_order(
    conn: Connection, order: OrderInput, *, source: str, by: str, now: float
) -> tuple[int, bool]:
    """Record ``order``; ``(id, created)`` — created is False for a replay of a known order."""
    if source not in _SOURCES:
        raise OrderError(f"unknown order source: {source!r}")
    if order.external_id:
        known = _find(conn, order.shop, order.external_id)
        if known is not None:
            return known, False
    platform, member = order.platform.strip(), order.member_id.strip()
    campaign_id: int | None = None
    code = order.coupon_code.strip()
    if code:
        campaign_id, owner = _coupon(conn, code)
        if campaign_id is None:
            raise OrderError(f"unknown coupon code: {code!r}")
        if owner is not None and not member:
            platform, member = owner
    if not platform or not member:
        raise OrderError("an order needs a member (platform and member id) or a member's coupon")
    if len(order.currency) > 8 or not order.currency.isalpha():
        raise OrderError(f"not a currency code: {order.currency!r}")
    values: dict[str, Any] = {
        "shop": order.shop[:64], "external_id": order.external_id[:128] or None,
        "platform": platform[:32], "member_id": member[:255],
        "amount_cents": order.amount_cents, "currency": order.currency.upper(),
        "item": order.item[:1000], "coupon_code": code or None, "campaign_id": campaign_id,
        "ordered_at": order.ordered_at, "source": source, "created_at": now, "created_by": by,
    }  # fmt: skip
    # Two deliveries of one order at the same moment: the second insert breaks the
    # unique key and its transaction rolls back (the caller retries or answers with
    # :func:`find_order`). No savepoint here: pysqlite's RELEASE would commit.
    result = conn.execute(schema.crm_orders.insert().values(**values))
    return int(result.inserted_primary_key[0]), True  # type: ignore[index]


def read_csv(
    text: str, name: str, *, now: float, tz: str = "Asia/Shanghai"
) -> list[tuple[int, OrderInput]]:
    """Parse an orders CSV into ``(line, order)``; raises OrderError naming ``name`` and the
    line of the first bad row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    if "amount" not in header or not (
        {"platform", "member_id"} <= set(header) or "coupon" in header
    ):
        raise OrderError(
            f"{name}:1: the header needs amount and platform, member_id (or coupon); "
            f"columns: {', '.join(CSV_COLUMNS)}"
        )
    out: list[tuple[int, OrderInput]] = []
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        get = {k: (v or "").strip() for k, v in row.items() if k is not None}
        try:
            if None in row:
                raise OrderError("more fields than the header has")
            order = OrderInput(
                platform=get.get("platform", ""), member_id=get.get("member_id", ""),
                amount_cents=parse_amount(get.get("amount", "")),
                ordered_at=parse_time(get.get("ordered_at", ""), now=now, tz=tz),
                currency=get.get("currency") or "CNY", item=get.get("item", ""),
                coupon_code=get.get("coupon", ""), shop=get.get("shop", ""),
                external_id=get.get("order_id", ""),
            )  # fmt: skip
            if not (order.platform and order.member_id) and not order.coupon_code:
                raise OrderError("no member: give platform and member_id, or a coupon")
            if order.external_id:
                key = (order.shop, order.external_id)
                if key in seen:
                    raise OrderError(f"order id {order.external_id!r} is on line {seen[key]} too")
                seen[key] = line
        except OrderError as e:
            raise OrderError(f"{name}:{line}: {e}") from None
        out.append((line, order))
    return out


def import_csv(
    conn: Connection, path: Path | str, text: str | None = None, *, by: str, now: float,
    tz: str = "Asia/Shanghai",
) -> dict[str, int]:  # fmt: skip
    """Import an orders CSV in the caller's transaction: every row, or (on an error) none.

    ``{"created": n, "known": n}``; raises OrderError naming the file and line.
    """
    name = Path(path).name if text is not None else str(path)
    if text is None:
        try:
            text = Path(path).read_text("utf-8")
        except UnicodeDecodeError:
            raise OrderError(f"{name}: not UTF-8 text (save the sheet as CSV UTF-8)") from None
    orders = read_csv(text, name, now=now, tz=tz)
    counts = {"created": 0, "known": 0}
    for line, order in orders:
        try:
            _, created = record_order(conn, order, source="csv", by=by, now=now)
        except OrderError as e:
            raise OrderError(f"{name}:{line}: {e}") from None
        counts["created" if created else "known"] += 1
    return counts


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_shop(conn: Connection, name: str, *, now: float) -> str:
    """Register a shop for the webhook; its secret token (shown once, only its hash is kept)."""
    name = name.strip()
    if not name or len(name) > 64 or ":" in name:
        raise OrderError("a shop needs a name of at most 64 characters, without ':'")
    s = schema.crm_shops
    if conn.execute(select(s.c.id).where(s.c.name == name)).first() is not None:
        raise OrderError(f"a shop named {name!r} exists already")
    token = f"{name}:{secrets.token_urlsafe(32)}"
    conn.execute(s.insert().values(name=name, token_hash=_hash(token), created_at=now))
    return token


def check_token(conn: Connection, token: str | None) -> str | None:
    """The shop a webhook token belongs to, or None (compared in constant time)."""
    if not token or ":" not in token:
        return None
    name = token.split(":", 1)[0]
    s = schema.crm_shops
    stored = conn.execute(select(s.c.token_hash).where(s.c.name == name)).scalar()
    # Compare even for an unknown shop, so the answer takes the same time either way.
    expected = str(stored) if stored is not None else "0" * 64
    same = hmac.compare_digest(_hash(token), expected)
    return name if same and stored is not None else None
