"""apps.core.crypto: Fernet at rest, with key rotation."""

import pytest
from cryptography.fernet import Fernet

from apps.core.crypto import DecryptionError, decrypt_text, encrypt_text, rotate_text


def test_round_trip_and_ciphertext_differs():
    token = encrypt_text("päss-wörd")
    assert "päss" not in token
    assert token != encrypt_text("päss-wörd")  # a fresh IV each time
    assert decrypt_text(token) == "päss-wörd"


def test_the_default_key_is_a_valid_fernet_key():
    from django.conf import settings

    Fernet(settings.ENCRYPTION_KEYS[0].encode())


def test_rotation_keeps_old_values_readable(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old_key]
    token = encrypt_text("value")
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    assert decrypt_text(token) == "value"
    rotated = rotate_text(token)
    settings.ENCRYPTION_KEYS = [new_key]
    assert decrypt_text(rotated) == "value"
    with pytest.raises(DecryptionError):
        decrypt_text(token)


def test_garbage_is_a_decryption_error():
    with pytest.raises(DecryptionError):
        decrypt_text("not a token")
