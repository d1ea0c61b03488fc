"""The webhook's ed25519 signatures, keyed by the bot's secret.

QQ derives an ed25519 key pair from the app secret: the secret is repeated until it
is at least 32 bytes long and cut to 32, and those bytes are the private key's seed.
QQ signs every callback with it (``X-Signature-Ed25519`` over ``timestamp + body``);
the bot proves it holds the secret by signing ``event_ts + plain_token`` when the
callback address is validated (op 13).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["Signer", "seed_of"]

SEED_SIZE = 32


def seed_of(secret: str) -> bytes:
    """The 32-byte ed25519 seed QQ derives from the app secret."""
    if not secret:
        raise ValueError("the QQ bot secret is empty")
    seed = secret
    while len(seed) < SEED_SIZE:
        seed *= 2
    return seed[:SEED_SIZE].encode()


class Signer:
    """Signs and verifies with the key pair of one bot secret."""

    def __init__(self, secret: str) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed_of(secret))
        self._public = self._key.public_key()

    def sign(self, message: bytes) -> str:
        """The hex signature of ``message``."""
        return self._key.sign(message).hex()

    def verify(self, timestamp: str, body: bytes, signature_hex: str) -> bool:
        """Whether ``signature_hex`` signs ``timestamp + body`` with this bot's key."""
        try:
            signature = bytes.fromhex(signature_hex)
        except ValueError:
            return False
        if len(signature) != 64 or not timestamp:
            return False
        try:
            self._public.verify(signature, timestamp.encode() + body)
        except InvalidSignature:
            return False
        return True

    def validation_answer(self, plain_token: str, event_ts: str) -> dict[str, str]:
        """The body that answers op 13 (callback address validation)."""
        return {
            "plain_token": plain_token,
            "signature": self.sign(event_ts.encode() + plain_token.encode()),
        }
