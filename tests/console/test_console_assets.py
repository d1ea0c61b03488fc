"""Templates and static files: every message in both languages, nothing from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

from shequn import i18n
from shequn.console.access import Role
from shequn.console.portfolio import size_band

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "shequn" / "console" / "templates"


def _keys() -> set[str]:
    found: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        found |= set(
            re.findall(r"""t\(\s*["'](console\.[a-z0-9_.]+)["']\s*[,)]""", path.read_text())
        )
    # keys built from data in the templates: "console.role." ~ role and the like
    found |= {f"console.role.{r.value}" for r in Role}
    for stage in ("new", "growing", "active", "flooded", "declining", "dead"):
        found.add(f"console.stage.{stage}")
    for status in ("planned", "done", "failed", "human_task", "undone", "lifted"):
        found.add(f"console.status.{status}")
    for n in (0, 30, 80, 501):
        found |= {f"console.band.{size_band(n)}", f"console.band.{size_band(n)}.tip"}
    found |= {"console.queue.alert", "console.queue.task", "console.login.bad",
              "console.login.limited", "console.users.last_owner"}  # fmt: skip
    return found


def test_template_messages_exist_in_both_languages() -> None:
    keys = _keys()
    assert len(keys) > 60, "the scan found too few message ids"
    for lang in ("zh", "en"):
        missing = sorted(k for k in keys if k not in i18n.catalogue(lang))
        assert not missing, (lang, missing)


def test_the_two_languages_differ_where_they_should() -> None:
    zh, en = i18n.catalogue("zh"), i18n.catalogue("en")
    assert zh["console.groups.title"] != en["console.groups.title"]


def test_pages_load_nothing_from_elsewhere() -> None:
    static = TEMPLATES.parent / "static"
    htmx = (static / "htmx.min.js").read_text("utf-8")
    assert 'version:"2.' in htmx.replace(" ", "")  # htmx 2.x, vendored
    for path in [*TEMPLATES.glob("*.html"), static / "console.css"]:
        text = path.read_text("utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path.name
        assert "url(http" not in text and "@import" not in text, path.name
