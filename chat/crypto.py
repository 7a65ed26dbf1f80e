"""Encryption of stored API keys with MultiFernet: the first configured key encrypts, every key decrypts."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt", "rotate"]


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    # Keyed on the configured tuple so that tests overriding the setting get a fresh MultiFernet.
    return _fernet(tuple(settings.TOKENOFF_ENCRYPTION_KEYS))


def encrypt(secret: str) -> str:
    return _current().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _current().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt under the first configured key (raises InvalidToken when no key opens it)."""
    return _current().rotate(token.encode()).decode()
