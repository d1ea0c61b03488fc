"""Per-group settings edited in the console, layered over ``shequn.toml``, and templates.

:mod:`.layers` keeps each group's console overrides (and the file's table as the bot
last published it) in the database and gives the bot a ``settings_for_group`` that
sees a console edit within seconds (:class:`LiveSettings`). :mod:`.templates` saves a
well-run group's settings, FAQ bank and content plans under a name and applies them
to other groups (复制). Values are validated by :mod:`shequn.botconfig`, so a bad one
gets the same error, naming the key, in the console as in the file.
"""

from shequn.groupsettings.layers import (
    DEFAULTS_KEY,
    Layers,
    LiveSettings,
    effective,
    layers_of,
    live_settings,
    publish_toml,
    save_doc,
    version,
)
from shequn.groupsettings.templates import (
    TemplateError,
    apply_template,
    delete_template,
    list_templates,
    save_template,
)

__all__ = [
    "DEFAULTS_KEY",
    "Layers",
    "LiveSettings",
    "TemplateError",
    "apply_template",
    "delete_template",
    "effective",
    "layers_of",
    "list_templates",
    "live_settings",
    "publish_toml",
    "save_doc",
    "save_template",
    "version",
]
