"""Who may do what to which group: every permission check of the console, in one place.

Two questions, each answered by one function with one condition per line:

* :func:`can` — may this user take ``action`` at all (on this group, when given)?
* :func:`sees_group` — is the group inside the user's reach?

The owner reaches every group. Everyone else reaches only the groups of their group
sets (a partner of set A sees nothing of set B), and within them only what their role
allows (:data:`PERMISSIONS`). Pages and forms call these, never their own ``if``s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "GLOBAL_ACTIONS",
    "PERMISSIONS",
    "ROLES",
    "Action",
    "Role",
    "User",
    "can",
    "can_somewhere",
    "sees_group",
    "visible_groups",
]


class Role(StrEnum):
    OWNER = "owner"  # creator (创建者): everything, including the team
    MANAGER = "manager"  # daily manager (日常管理): runs the groups of their sets
    RECRUITER = "recruiter"  # recruiter (拉新): members and invitations
    PARTNER = "partner"  # partner (合作伙伴): the groups' figures, no member data
    VIEWER = "viewer"  # read-only colleague


class Action(StrEnum):
    VIEW_GROUP = "view_group"  # portfolio row and group figures
    VIEW_MEMBERS = "view_members"  # member list: names, last speak, strikes
    VIEW_MODERATION = "view_moderation"  # moderation log and escalation queue
    VIEW_ARCHIVE = "view_archive"  # message texts (会话存档)
    EXPORT_MEMBERS = "export_members"  # member data leaving the console
    EDIT_MEMBERS = "edit_members"  # tags, notes, merging identities (CRM)
    RECORD_ORDERS = "record_orders"  # orders, coupons and promotions (conversion)
    EDIT_RULES = "edit_rules"  # group rules, gate, moderation template
    SEND_MASS = "send_mass"  # mass messages (群发)
    MANAGE_INVITES = "manage_invites"  # invite links and codes (拉新)
    UNDO_MODERATION = "undo_moderation"
    RESOLVE_ALERTS = "resolve_alerts"  # close alerts and human tasks
    VIEW_AUDIT = "view_audit"  # the console audit log
    MANAGE_BLOCKLIST = "manage_blocklist"  # the shared blocklist (全局黑名单): list, lift
    MANAGE_USERS = "manage_users"  # accounts, roles, group sets


ROLES = tuple(Role)

_ALL = frozenset(Action)

#: What each role may do inside its reach. The test prints this table in full.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.OWNER: _ALL,
    Role.MANAGER: _ALL - {Action.MANAGE_USERS},
    Role.RECRUITER: frozenset(
        {Action.VIEW_GROUP, Action.VIEW_MEMBERS, Action.EDIT_MEMBERS, Action.MANAGE_INVITES}
    ),
    Role.PARTNER: frozenset({Action.VIEW_GROUP}),
    Role.VIEWER: frozenset({Action.VIEW_GROUP, Action.VIEW_MEMBERS, Action.VIEW_MODERATION}),
}

#: Actions that are not about one group; a manager's audit view is still filtered
#: to the groups they reach (see :func:`shequn.console.audit.visible_rows`), and the
#: blocklist page shows a listing's evidence only to those who reach its group.
GLOBAL_ACTIONS = frozenset({Action.VIEW_AUDIT, Action.MANAGE_USERS, Action.MANAGE_BLOCKLIST})

GroupKey = tuple[str, str]  # (platform, the platform's group id)


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in console user as the checks see them."""

    id: int
    name: str
    role: Role
    groups: frozenset[GroupKey] = field(default_factory=frozenset)  # via group sets
    disabled: bool = False
    lang: str | None = None


def sees_group(user: User, group: GroupKey) -> bool:
    """Is ``group`` within the user's reach?"""
    if user.disabled:
        return False
    if user.role is Role.OWNER:
        return True
    return group in user.groups


def can(user: User, action: Action, group: GroupKey | None = None) -> bool:
    """May ``user`` take ``action`` (on ``group``)?

    Group actions need a group; global ones (the audit log, the team) are asked
    without one, or with one to ask about that group's part of them.
    """
    if user.disabled:
        return False
    if action not in PERMISSIONS[user.role]:
        return False
    if group is None:
        return action in GLOBAL_ACTIONS
    return sees_group(user, group)


def can_somewhere(user: User, action: Action) -> bool:
    """May ``user`` take ``action`` on at least one group (or at all, for global ones)?

    For menus: a manager sees the archive search link when some group of theirs allows it.
    """
    if action in GLOBAL_ACTIONS:
        return can(user, action)
    if user.disabled or action not in PERMISSIONS[user.role]:
        return False
    return user.role is Role.OWNER or any(sees_group(user, g) for g in user.groups)


def visible_groups(user: User, groups: Iterable[GroupKey]) -> list[GroupKey]:
    """The groups of ``groups`` the user may see in the portfolio, in order."""
    return [g for g in groups if can(user, Action.VIEW_GROUP, g)]
