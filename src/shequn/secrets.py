"""Secrets: from the environment or a private secrets file, and kept out of logs.

A secrets file holds ``KEY=value`` lines (the format of systemd ``EnvironmentFile=``
and Docker ``--env-file``): blank lines and ``#`` comments are skipped, a value may be
wrapped in single or double quotes, an optional ``export`` prefix is accepted. It is
named by ``shequn bot --secrets FILE`` or ``SHEQUN_SECRETS_FILE`` and must be private:
a file that its group or other users can read (``mode & 0o077``) is refused, with the
``chmod 600`` that fixes it.

**The environment wins** over the file: a variable already set when the bot starts is
kept, so an operator can override one value for one run without editing the file
(the same precedence as systemd and docker compose give explicit ``environment``).

Every value that came from the file, and every token looked up by name
(:func:`remember`), is a *known secret*: :func:`redact` replaces it in any text, and
:func:`install_log_redaction` does that for every log record (message, arguments,
traceback) before a handler writes it.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path

__all__ = [
    "ENV_VAR",
    "SecretsError",
    "apply",
    "forget_all",
    "install_log_redaction",
    "known",
    "read_file",
    "redact",
    "remember",
]

#: The environment variable that names the secrets file (``--secrets`` wins over it).
ENV_VAR = "SHEQUN_SECRETS_FILE"
#: Values shorter than this are not redacted (they would blank out ordinary words);
#: a real token is far longer.
MIN_LENGTH = 6

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_lock = threading.Lock()
_known: dict[str, str] = {}  # value -> name
_pattern: re.Pattern[str] | None = None


class SecretsError(ValueError):
    """A secrets file that cannot be used; the message says which file and why."""


def read_file(path: Path) -> dict[str, str]:
    """The ``KEY=value`` pairs of a private secrets file (:class:`SecretsError` otherwise)."""
    try:
        st = path.stat()
    except OSError as e:
        raise SecretsError(f"secrets file {path}: {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise SecretsError(f"secrets file {path}: not a regular file")
    if st.st_mode & 0o077:
        raise SecretsError(
            f"secrets file {path} is readable by other users (mode {stat.S_IMODE(st.st_mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SecretsError(f"secrets file {path}: {e}") from None
    values: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        # The line itself is never quoted back: it may hold a secret.
        if not sep or not _KEY.fullmatch(key):
            raise SecretsError(f"secrets file {path}, line {n}: expected KEY=value")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key in values:
            raise SecretsError(f"secrets file {path}, line {n}: {key} is set twice")
        values[key] = value
    return values


def apply(
    path: Path | str | None = None, env: MutableMapping[str, str] | None = None
) -> dict[str, str]:
    """Load the secrets file into ``env`` (default ``os.environ``) where not set already.

    ``path`` defaults to ``$SHEQUN_SECRETS_FILE``; with neither, nothing happens.
    Every value of the file is remembered for redaction, also the ones the
    environment overrode. Returns the file's pairs.
    """
    env = os.environ if env is None else env
    where = path if path is not None else env.get(ENV_VAR)
    if not where:
        return {}
    values = read_file(Path(where))
    for key, value in values.items():
        remember(key, value)
        env.setdefault(key, value)
    return values


def remember(name: str, value: str) -> None:
    """Treat ``value`` (the secret called ``name``) as secret from now on."""
    global _pattern
    if len(value) < MIN_LENGTH:
        return
    with _lock:
        if value in _known:
            return
        _known[value] = name
        # Longest first, so a secret that contains another is replaced whole.
        _pattern = re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True)))


def forget_all() -> None:
    """Forget every remembered secret (a process that reloads its configuration; tests)."""
    global _pattern
    with _lock:
        _known.clear()
        _pattern = None


def known() -> Mapping[str, str]:
    """The remembered secrets' names by value (for tests and diagnostics)."""
    return dict(_known)


def redact(text: str) -> str:
    """``text`` with every known secret replaced by ``<secret NAME>``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(lambda m: f"<secret {_known.get(m.group(0), '?')}>", text)


class _Redact(logging.Filter):
    """Redacts a record in place: message with its arguments, traceback, stack."""

    _fmt = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._fmt.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = _Redact()


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Redact known secrets in everything the handlers of ``logger`` (root) write.

    A filter on the *handlers*: records from every child logger pass through them.
    Call it after the handlers are configured (``logging.basicConfig``).
    """
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
