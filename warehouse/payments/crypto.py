"""Encrypt provider secrets at rest: AES-256-GCM, keys derived from configuration, rotatable.

A sealed value is ``v1.<key id>.<base64url(nonce | ciphertext)>``. The associated data names
the tenant and the field, so a ciphertext copied into another tenant's row, or from the webhook
secret column into the API key column, fails to open instead of being used.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
NONCE_BYTES = 12
_INFO = b"shoplake payments secrets v1"


class SecretUnreadable(Exception):
    """A sealed secret does not open with any configured key (rotated away or tampered)."""


def _derive(material: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode()
    )


def _key_id(key: bytes) -> str:
    # Names the key without revealing it, so opening needs no trial decryption.
    return hashlib.sha256(b"key-id" + key).hexdigest()[:8]


class SecretBox:
    """Seal and open short secrets; the first key seals, every key opens (for rotation)."""

    def __init__(self, keys: Sequence[str]) -> None:
        materials = [k.strip() for k in keys if k.strip()]
        if not materials:
            raise ValueError("at least one encryption key is needed")
        derived = [_derive(material) for material in materials]
        self._sealing = derived[0]
        self._keys = {_key_id(key): AESGCM(key) for key in derived}

    @classmethod
    def from_setting(cls, value: str) -> SecretBox:
        """Build a box from the comma-separated ``payments_encryption_key`` setting."""
        return cls(value.split(","))

    def seal(self, plaintext: str, context: str) -> str:
        """Encrypt ``plaintext`` bound to ``context`` (e.g. ``tenant:7:stripe.secret_key``)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._sealing).encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{_key_id(self._sealing)}.{body}"

    def open(self, token: str, context: str) -> str:
        """Decrypt a sealed value for the same ``context`` it was sealed for."""
        try:
            version, key_id, body = token.split(".", 2)
            aead = self._keys[key_id] if version == VERSION else None
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, KeyError):
            raise SecretUnreadable("sealed with an unknown key or format") from None
        if aead is None or len(raw) <= NONCE_BYTES:
            raise SecretUnreadable("sealed with an unknown key or format")
        try:
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except InvalidTag:
            raise SecretUnreadable("sealed value was altered or belongs elsewhere") from None
