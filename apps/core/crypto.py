"""Secrets at rest: Fernet encryption of text with the keys in ``settings.ENCRYPTION_KEYS``.

The first key encrypts; every key decrypts (MultiFernet), so a key is rotated by putting a new
one first and re-encrypting with :func:`rotate_text` before dropping the old one.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MASK = "***encrypted***"


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("ENCRYPTION_KEYS must name at least one Fernet key")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from None


def _fernet() -> MultiFernet:
    # Keyed by the tuple so tests that override the setting get the matching keys.
    return _fernet_for(tuple(settings.ENCRYPTION_KEYS))


def encrypt_text(plaintext: str) -> str:
    """Encrypt ``plaintext`` with the first key; the result is ASCII, safe for a text column."""
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    """Decrypt a value made by :func:`encrypt_text`; ``DecryptionError`` if no key fits."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("The stored secret cannot be decrypted with the configured keys") from exc


def rotate_text(token: str) -> str:
    """Re-encrypt ``token`` with the current first key (for key rotation)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("The stored secret cannot be decrypted with the configured keys") from exc
