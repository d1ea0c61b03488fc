"""WeCom corporate customer tags (企业客户标签) → the CRM's ``member_tags``.

A customer's tags in WeCom are set by the staff who follow them (each follow user
tags the customer separately); shequn keeps their union per customer. Rows are
written with ``source = "wecom"``: ``category`` is the tag group's name, ``tag`` the
tag's name, ``source_id`` WeCom's tag id. A sync only ever replaces ``wecom`` rows
(:func:`~shequn.features.crm.tags.replace_source_tags`), so an operator's own tags
survive every sync; a tag the customer already has from the operator is left as the
operator's row (one row per tag).

Only corporate tags (``type`` 1 in ``externalcontact/get``; the ids
``get_corp_tag_list`` lists) are synced: a staff member's personal tags (type 2) have
no id and no group, and rule-group tags (type 3) are another API.

Where the data comes from:

* :func:`sync_all` (on start and with each scheduled group sync): the tag
  dictionary (``get_corp_tag_list``), the staff with the customer-contact licence
  (``get_follow_user_list``) and their customers with tag ids
  (``batch/get_by_user``, 100 staff and 100 customers a page); customers no staff
  member follows any more lose their ``wecom`` rows;
* a ``change_external_contact`` callback (``add_external_contact`` /
  ``edit_external_contact``): that customer, from ``externalcontact/get``;
* a ``change_external_tag`` callback (create / update / delete / shuffle): the
  dictionary again, and every ``wecom`` row whose tag was renamed, moved or deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select

from shequn.features.crm.tags import replace_source_tags
from shequn.platforms.wecom.events import PLATFORM
from shequn.store import schema

__all__ = [
    "SOURCE",
    "CorpTag",
    "TagBook",
    "apply_book",
    "contact_tags",
    "follow_info_tags",
    "save_contact",
    "save_contacts",
]

log = logging.getLogger(__name__)

SOURCE = "wecom"
#: ``externalcontact/get`` ``follow_user[].tags[].type``: 1 a corporate tag
CORP_TAG = 1

#: (category, tag) -> WeCom tag id
Tags = dict[tuple[str, str], str]


@dataclass(frozen=True)
class CorpTag:
    id: str
    name: str
    group_id: str
    group_name: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.group_name, self.name)


@dataclass(frozen=True)
class TagBook:
    """The corporate tag dictionary: tag id -> :class:`CorpTag` (deleted ones left out)."""

    tags: Mapping[str, CorpTag]

    @classmethod
    def parse(cls, answer: Mapping[str, Any]) -> TagBook:
        """From ``get_corp_tag_list``'s answer (``tag_group[].tag[]``)."""
        tags: dict[str, CorpTag] = {}
        for group in answer.get("tag_group") or []:
            if group.get("deleted"):
                continue
            gid, gname = str(group["group_id"]), str(group.get("group_name") or "")
            for tag in group.get("tag") or []:
                if tag.get("deleted"):
                    continue
                tid = str(tag["id"])
                tags[tid] = CorpTag(tid, str(tag["name"]), gid, gname)
        return cls(tags)

    def resolve(self, tag_ids: Iterable[Any]) -> Tags:
        """The known tags among ``tag_ids`` (unknown ids: another kind of tag, skipped)."""
        out: Tags = {}
        for tid in tag_ids:
            tag = self.tags.get(str(tid))
            if tag is not None:
                out[tag.key] = tag.id
        return out


def contact_tags(follow_users: Iterable[Mapping[str, Any]]) -> Tags:
    """A customer's corporate tags from ``externalcontact/get``'s ``follow_user[].tags``."""
    out: Tags = {}
    for follow in follow_users:
        for tag in follow.get("tags") or []:
            if int(tag.get("type") or 0) != CORP_TAG or not tag.get("tag_id"):
                continue
            key = (str(tag.get("group_name") or ""), str(tag["tag_name"]))
            out[key] = str(tag["tag_id"])
    return out


def follow_info_tags(items: Iterable[Mapping[str, Any]], book: TagBook) -> dict[str, Tags]:
    """external userid -> corporate tags, from ``batch/get_by_user`` items.

    Each item is one (customer, staff member) pair; a customer's tags are the union
    over the staff who follow them.
    """
    out: dict[str, Tags] = {}
    for item in items:
        uid = str(item["external_contact"]["external_userid"])
        ids = (item.get("follow_info") or {}).get("tag_id") or []
        out.setdefault(uid, {}).update(book.resolve(ids))
    return out


def save_contact(conn: Connection, external_userid: str, tags: Tags, *, now: float) -> None:
    """Make the customer's ``wecom`` tags exactly ``tags``; other sources untouched."""
    replace_source_tags(
        conn, SOURCE, (PLATFORM, external_userid), tags.keys(), now=now, source_ids=tags
    )


def save_contacts(conn: Connection, contacts: Mapping[str, Tags], *, now: float) -> int:
    """A complete sync: every listed customer's tags; the unlisted lose their ``wecom`` rows.

    Returns how many customers were written.
    """
    t = schema.member_tags
    for uid, tags in contacts.items():
        save_contact(conn, uid, tags, now=now)
    held = conn.execute(
        select(t.c.member_id).where(t.c.platform == PLATFORM, t.c.source == SOURCE).distinct()
    ).scalars()
    gone = sorted(set(held) - set(contacts))
    for i in range(0, len(gone), 500):
        conn.execute(
            delete(t).where(
                t.c.platform == PLATFORM, t.c.source == SOURCE, t.c.member_id.in_(gone[i : i + 500])
            )
        )
    return len(contacts)


def apply_book(conn: Connection, book: TagBook, *, now: float) -> int:
    """Bring ``wecom`` rows in line with the dictionary after a tag change callback.

    A row whose tag id is gone is deleted; a row whose tag (or its group) was renamed
    takes the new names. Returns how many customers changed.
    """
    t = schema.member_tags
    rows = conn.execute(
        select(t.c.member_id, t.c.category, t.c.tag, t.c.source_id).where(
            t.c.platform == PLATFORM, t.c.source == SOURCE
        )
    ).all()
    held: dict[str, list[Any]] = {}
    for r in rows:
        held.setdefault(r.member_id, []).append(r)
    changed = 0
    for uid, mine in held.items():
        now_tags = book.resolve(r.source_id for r in mine)
        if {(r.category, r.tag) for r in mine} != set(now_tags):
            save_contact(conn, uid, now_tags, now=now)
            changed += 1
    return changed
