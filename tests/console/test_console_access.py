"""The permission table, checked cell by cell: role × action × group in / out of reach."""

from __future__ import annotations

import pytest

from shequn.console.access import (
    GLOBAL_ACTIONS,
    Action,
    Role,
    User,
    can,
    can_somewhere,
    sees_group,
    visible_groups,
)

A1, A2, B1 = ("telegram", "a1"), ("wechat", "a2"), ("qq", "b1")
SET_A = frozenset({A1, A2})

# Written out by hand (not derived from PERMISSIONS) so that a change to the table in
# access.py must be made here too, deliberately. O=owner M=manager R=recruiter
# P=partner V=viewer; a letter means the role may take the action in its own groups.
EXPECTED: dict[Action, str] = {
    Action.VIEW_GROUP: "OMRPV",
    Action.VIEW_MEMBERS: "OMR V",
    Action.VIEW_MODERATION: "OM  V",
    Action.VIEW_ARCHIVE: "OM   ",
    Action.EXPORT_MEMBERS: "OM   ",
    Action.EDIT_MEMBERS: "OMR  ",
    Action.RECORD_ORDERS: "OM   ",
    Action.EDIT_RULES: "OM   ",
    Action.SEND_MASS: "OM   ",
    Action.MANAGE_INVITES: "OMR  ",
    Action.UNDO_MODERATION: "OM   ",
    Action.RESOLVE_ALERTS: "OM   ",
    Action.VIEW_AUDIT: "OM   ",
    Action.MANAGE_BLOCKLIST: "OM   ",
    Action.MANAGE_USERS: "O    ",
}
LETTER = {Role.OWNER: "O", Role.MANAGER: "M", Role.RECRUITER: "R", Role.PARTNER: "P",
          Role.VIEWER: "V"}  # fmt: skip


def test_the_table_covers_every_action() -> None:
    assert set(EXPECTED) == set(Action)


def _user(role: Role, **kw: object) -> User:
    return User(id=1, name="u", role=role, groups=SET_A, **kw)  # type: ignore[arg-type]


CASES = [(role, action, group) for role in Role for action in Action for group in (A1, B1, None)]


@pytest.mark.parametrize(("role", "action", "group"), CASES)
def test_permission_cell(role: Role, action: Action, group: tuple[str, str] | None) -> None:
    user = _user(role)
    allowed_by_role = LETTER[role] in EXPECTED[action]
    if group is None:
        expected = allowed_by_role and action in GLOBAL_ACTIONS  # group actions need one
    elif group == B1:
        expected = allowed_by_role and role is Role.OWNER  # B is outside set A
    else:
        expected = allowed_by_role
    assert can(user, action, group) is expected


@pytest.mark.parametrize("role", list(Role))
def test_a_partner_of_set_a_sees_nothing_of_b(role: Role) -> None:
    user = _user(role)
    assert sees_group(user, A1) and sees_group(user, A2)
    assert sees_group(user, B1) is (role is Role.OWNER)
    assert visible_groups(user, [B1, A1, A2]) == ([B1, A1, A2] if role is Role.OWNER else [A1, A2])
    if role is not Role.OWNER:
        assert not any(can(user, action, B1) for action in Action)


@pytest.mark.parametrize("role", list(Role))
def test_a_disabled_user_may_do_nothing(role: Role) -> None:
    user = _user(role, disabled=True)
    assert not any(can(user, a, g) for a in Action for g in (A1, B1, None))
    assert not sees_group(user, A1)


def test_no_group_set_means_no_groups() -> None:
    lonely = User(id=2, name="m", role=Role.MANAGER)
    assert visible_groups(lonely, [A1, B1]) == []
    assert can(lonely, Action.VIEW_AUDIT)  # the log page opens, empty (see the audit tests)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_can_somewhere_is_can_on_some_group_in_reach(role: Role, action: Action) -> None:
    user = _user(role)
    expected = can(user, action) if action in GLOBAL_ACTIONS else any(
        can(user, action, g) for g in (A1, A2, B1)
    )  # fmt: skip
    assert can_somewhere(user, action) is expected
    assert can_somewhere(User(id=2, name="x", role=role), action) is (
        can(User(id=2, name="x", role=role), action)
        if action in GLOBAL_ACTIONS
        else role is Role.OWNER and LETTER[role] in EXPECTED[action]
    )
