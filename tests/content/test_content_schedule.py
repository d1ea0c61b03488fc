"""Schedule computation: weekday windows across DST, jitter, one-offs, N days after join."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shequn.features.content import Schedule, occurrences, preview
from shequn.features.content.schedule import jitter_minutes, zone

BERLIN, SHANGHAI = zone("Europe/Berlin"), zone("Asia/Shanghai")


def ts(*a: int) -> float:
    return datetime(*a, tzinfo=UTC).timestamp()


def test_weekday_window_keeps_local_time_across_the_dst_change() -> None:
    s = Schedule.parse("weekly", weekdays="0,1,2,3,4", window_start="09:00", jitter=False)
    # Berlin springs forward on 2026-03-29 (a Sunday): 09:00 is 08:00 UTC before, 07:00 after
    got = occurrences(s, BERLIN, ts(2026, 3, 26), ts(2026, 4, 1), "p")
    assert [k for k, _ in got] == ["2026-03-26", "2026-03-27", "2026-03-30", "2026-03-31"]
    utc = [datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:%M") for _, t in got]
    assert utc == ["03-26 08:00", "03-27 08:00", "03-30 07:00", "03-31 07:00"]
    # and back on 2026-10-25
    autumn = occurrences(s, BERLIN, ts(2026, 10, 23), ts(2026, 10, 28), "p")
    assert [datetime.fromtimestamp(t, BERLIN).hour for _, t in autumn] == [9, 9, 9]
    assert [datetime.fromtimestamp(t, UTC).hour for _, t in autumn] == [7, 8, 8]


def test_shanghai_has_no_dst_and_windows_stay_inside() -> None:
    s = Schedule.parse("weekly", weekdays="0,1,2,3,4", window_start="09:00", window_end="10:00")
    got = preview(s, SHANGHAI, ts(2026, 3, 1), 20, "plan1:wechat:g1")
    assert len(got) == 20
    assert all(d.weekday() < 5 and d.hour == 9 for d in got)
    assert len({d.minute for d in got}) > 5  # jitter spreads the minutes


def test_jitter_is_stable_and_differs_between_groups() -> None:
    s = Schedule.parse("weekly", weekdays="0", window_start="13:00", window_end="14:00")
    a = preview(s, BERLIN, ts(2026, 1, 1), 5, "7:telegram:g1")
    again = preview(s, BERLIN, ts(2026, 1, 1), 5, "7:telegram:g1")  # "after a restart"
    other = preview(s, BERLIN, ts(2026, 1, 1), 5, "7:telegram:g2")
    assert a == again
    assert a != other
    assert jitter_minutes("x", 60) == jitter_minutes("x", 60)
    assert jitter_minutes("x", 0) == 0


def test_a_time_inside_the_spring_gap_moves_forward() -> None:
    s = Schedule.parse("once", at_local="2026-03-29 02:30")
    [(key, due)] = occurrences(s, BERLIN, 0, ts(2027, 1, 1), "p")
    assert key == "once"
    assert datetime.fromtimestamp(due, BERLIN).strftime("%H:%M") == "03:30"


def test_n_days_after_join_in_the_group_zone() -> None:
    s = Schedule.parse("after_join", days=3, window_start="20:00", window_end="21:00")
    joined = ts(2026, 5, 1, 17, 30)  # 01:30 on May 2 in Shanghai
    [(key, due)] = occurrences(s, SHANGHAI, joined, ts(2027, 1, 1), "p:m1", anchor=joined)
    local = datetime.fromtimestamp(due, SHANGHAI)
    assert key == "day3" and local.date().isoformat() == "2026-05-05" and local.hour == 20
    assert occurrences(s, SHANGHAI, 0, ts(2027, 1, 1), "p", anchor=None) == []


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "weekly"}, "weekday"),
        ({"kind": "once", "at_local": "tomorrow"}, "YYYY-MM-DD"),
        ({"kind": "weekly", "weekdays": "7"}, "weekdays"),
        (
            {"kind": "weekly", "weekdays": "1", "window_start": "10:00", "window_end": "09:00"},
            "window",
        ),
        ({"kind": "monthly"}, "unknown"),
    ],
)
def test_bad_schedules_are_refused(kw: dict[str, str], message: str) -> None:
    kind = kw.pop("kind")
    with pytest.raises(ValueError, match=message):
        Schedule.parse(kind, **kw)  # type: ignore[arg-type]
