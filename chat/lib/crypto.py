"""Encryption of stored API keys with MultiFernet: the first configured key encrypts, every key decrypts."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt", "opened_by", "rotate"]


@cache
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, tuple[Fernet, ...]]:
    each = tuple(Fernet(key.encode()) for key in keys)
    return MultiFernet(list(each)), each


def _configured() -> tuple[MultiFernet, tuple[Fernet, ...]]:
    # Keyed on the configured tuple so that tests overriding the setting get fresh Fernets.
    return _fernets(tuple(settings.TOKENOFF_ENCRYPTION_KEYS))


def encrypt(secret: str) -> str:
    return _configured()[0].encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _configured()[0].decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt under the first configured key (raises InvalidToken when no key opens it)."""
    return _configured()[0].rotate(token.encode()).decode()


def opened_by(token: str) -> int | None:
    """Which configured key opens the token (0 is the current one), or None when none does."""
    for index, fernet in enumerate(_configured()[1]):
        try:
            fernet.decrypt(token.encode())
        except InvalidToken:
            continue
        return index
    return None
