"""A throwaway Synapse homeserver on 127.0.0.1 for end-to-end tests and the benchmark.

It runs from the installed ``matrix-synapse`` package in a child process, with SQLite,
no TLS, no federation and rate limits raised so tests are never throttled. Users are
registered through the admin API with the shared secret, which hands back an access
token directly (no login round trip).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml
from signedjson.key import generate_signing_key, write_signing_keys

SERVER_NAME = "localhost"
_LIMIT = {"per_second": 10_000, "burst_count": 100_000}


@dataclass(frozen=True)
class MatrixUser:
    user_id: str
    access_token: str
    device_id: str
    password: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(root: Path, port: int, secret: str) -> dict[str, object]:
    return {
        "server_name": SERVER_NAME,
        "pid_file": str(root / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(root / "homeserver.db")}},
        "log_config": str(root / "log.yaml"),
        "media_store_path": str(root / "media_store"),
        "signing_key_path": str(root / "signing.key"),
        "registration_shared_secret": secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "enable_metrics": False,
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "rc_message": _LIMIT,
        "rc_registration": _LIMIT,
        "rc_login": {"address": _LIMIT, "account": _LIMIT, "failed_attempts": _LIMIT},
        "rc_joins": {"local": _LIMIT, "remote": _LIMIT},
        "rc_joins_per_room": _LIMIT,
        "rc_invites": {"per_room": _LIMIT, "per_user": _LIMIT, "per_issuer": _LIMIT},
        "rc_admin_redaction": _LIMIT,
        "rc_3pid_validation": _LIMIT,
    }


_LOG_CONFIG = {
    "version": 1,
    "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
    "handlers": {
        "file": {
            "class": "logging.FileHandler",
            "formatter": "plain",
            "filename": "PLACEHOLDER",
            "encoding": "utf8",
        }
    },
    "root": {"level": "WARNING", "handlers": ["file"]},
    "disable_existing_loggers": False,
}


class Synapse:
    """One homeserver process; :meth:`start`, :meth:`register`, :meth:`stop`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._secret = secrets.token_hex(16)
        self._proc: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0

    def start(self, timeout: float = 60.0) -> None:
        root = self.root
        root.mkdir(parents=True, exist_ok=True)
        with open(root / "signing.key", "w") as f:
            write_signing_keys(f, [generate_signing_key("a_test")])
        (root / "log.yaml").write_text(
            yaml.safe_dump(_LOG_CONFIG).replace("PLACEHOLDER", str(root / "homeserver.log"))
        )
        (root / "homeserver.yaml").write_text(
            yaml.safe_dump(_config(root, self.port, self._secret))
        )
        t0 = time.perf_counter()
        out = open(root / "stdout.log", "wb")  # noqa: SIM115 - lives as long as the child
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(root / "homeserver.yaml")],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Synapse exited with {self._proc.returncode}:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    self.start_seconds = time.perf_counter() - t0
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Synapse did not answer within {timeout} s:\n{self.logs()}")

    def logs(self) -> str:
        parts = []
        for name in ("stdout.log", "homeserver.log"):
            p = self.root / name
            if p.exists():
                parts.append(p.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def _request(self, method: str, path: str, body: dict[str, object] | None = None) -> dict:
        req = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return dict(json.loads(resp.read()))

    def register(self, localpart: str, *, admin: bool = False) -> MatrixUser:
        """A new user via the shared-secret admin API, with an access token."""
        password = secrets.token_hex(8)
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self._secret.encode(), digestmod=hashlib.sha1)
        role = "admin" if admin else "notadmin"
        mac.update("\x00".join([nonce, localpart, password, role]).encode())
        body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin}
        reply = self._request(
            "POST", "/_synapse/admin/v1/register", {**body, "mac": mac.hexdigest()}
        )
        return MatrixUser(reply["user_id"], reply["access_token"], reply["device_id"], password)
