"""WeCom customer groups, owner tasks and mass sends (migration 0011).

WeCom lets an app read customer groups but not act in them, so actions become tasks
for each group's owner: ``wecom_groups`` remembers the owner and size the last sync
saw (for the 活码's choice of group and for whom to notify), ``wecom_owner_tasks``
follows each app message sent to an owner until it is done or expires, and
``wecom_mass_sends`` holds the ``add_msg_template`` tasks with WeCom's cap of one
mass message per group per day enforced by a unique key.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from shequn.store.schema.base import metadata

__all__ = ["wecom_groups", "wecom_mass_sends", "wecom_owner_tasks"]

wecom_groups = Table(
    "wecom_groups",
    metadata,
    Column("chat_id", String(128), primary_key=True),
    Column("name", String(255), nullable=False, default=""),
    Column("owner", String(128), nullable=False, default=""),  # the owner's userid
    Column("size", Integer, nullable=False, default=0),  # members at the last sync
    Column("status", String(16), nullable=False, default="active"),  # active | dismissed
    Column("synced_at", Float, nullable=False),
)

wecom_owner_tasks = Table(
    "wecom_owner_tasks",
    metadata,
    # One app message to a group owner for one human task: sent, then done or expired.
    Column("id", Integer, primary_key=True),
    Column("human_task_id", Integer, nullable=False),
    Column("chat_id", String(128), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("kind", String(32), nullable=False),  # delete | kick | send | mute | ...
    Column("text", Text, nullable=False),  # the app message as sent
    Column("msgid", String(128), nullable=True),  # message/send's id
    Column("status", String(16), nullable=False),  # notified | failed | done | expired
    Column("error", Text, nullable=True),
    # how it was known to be done (migration 0021): console (a person marked it), sync
    # (the member is gone from the group), archive (the text appeared / the message
    # was recalled in the session archive)
    Column("confirmed_by", String(16), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("done_at", Float, nullable=True),
    UniqueConstraint("human_task_id"),
    Index(None, "status"),
)

wecom_mass_sends = Table(
    "wecom_mass_sends",
    metadata,
    # add_msg_template tasks; WeCom delivers at most one mass message per group a day.
    Column("id", Integer, primary_key=True),
    Column("chat_id", String(128), nullable=False),
    Column("owner", String(128), nullable=False),  # the sender who confirms it
    Column("day", String(10), nullable=False),  # YYYY-MM-DD in the group's time zone
    Column("text", Text, nullable=False),
    # planned | submitted | sent | unsent (WeCom did not deliver) | failed | expired
    Column("status", String(16), nullable=False),
    Column("msgid", String(128), nullable=True),  # add_msg_template's id
    Column("error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("submitted_at", Float, nullable=True),
    Column("sent_at", Float, nullable=True),  # the owner's send, per get_groupmsg_send_result
    UniqueConstraint("chat_id", "day"),
)
