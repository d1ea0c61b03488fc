"""A real Synapse homeserver for the whole session, on a free 127.0.0.1 port, SQLite.

``synapse`` starts it once (about 2 s) and stops it at the end; ``matrix_user``
registers a fresh user (unique localpart per call) and hands back its access token.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

pytest.importorskip("synapse")

from synapse_server import MatrixUser, Synapse


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    print(f"\nSynapse answered after {server.start_seconds:.2f} s on {server.url}")
    yield server
    server.stop()


_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def matrix_user(synapse: Synapse) -> Callable[..., MatrixUser]:
    """``matrix_user("alice")`` registers ``@alice<n>:localhost`` and returns its token."""

    def register(prefix: str, *, admin: bool = False) -> MatrixUser:
        return synapse.register(f"{prefix}{next(_numbers)}", admin=admin)

    return register
