"""System checks: no published secret in production, and every stored API key opens."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Warning, register
from django.db import DatabaseError, connection

# deploy/env.example's placeholders: a copied file left unedited must not become a site.
PLACEHOLDER_SECRET_KEY = "change-me-to-a-long-random-string"  # noqa: S105
PLACEHOLDER_ENCRYPTION_KEY = "generate-with-Fernet.generate_key"
NEW_FERNET_KEY = (
    "Generate one with: python -c "
    '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


def is_fernet_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except ValueError:
        return False
    return True


@register()
def check_no_published_secrets(app_configs=None, **kwargs) -> list:
    """With DEBUG off, the development secrets (published in settings.py) and the placeholders are refused."""
    problems = []
    if not settings.DEBUG and settings.SECRET_KEY in (settings.DEV_SECRET_KEY, PLACEHOLDER_SECRET_KEY):
        problems.append(
            Error(
                "DJANGO_SECRET_KEY is a published value (the development key or deploy/env.example's "
                "placeholder): anyone could sign sessions for this site.",
                hint="Set it to a long random string: "
                'python -c "import secrets; print(secrets.token_urlsafe(50))"',
                id="chat.E002",
            )
        )
    keys = settings.TOKENOFF_ENCRYPTION_KEYS
    known = (settings.DEV_ENCRYPTION_KEY, PLACEHOLDER_ENCRYPTION_KEY)
    published = [] if settings.DEBUG else [key for key in keys if key in known]
    if published:
        problems.append(
            Error(
                "TOKENOFF_ENCRYPTION_KEYS holds a published key (the development key or deploy/env.example's "
                "placeholder): anyone could open the stored API keys.",
                hint=NEW_FERNET_KEY,
                id="chat.E003",
            )
        )
    if any(key not in published and not is_fernet_key(key) for key in keys):
        problems.append(
            Error(
                "TOKENOFF_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes).",
                hint=NEW_FERNET_KEY,
                id="chat.E004",
            )
        )
    return problems


@register()
def check_stored_keys_decrypt(app_configs=None, **kwargs) -> list:
    """Fails, naming the rows, when an encryption key still in use has been dropped from the settings."""
    from chat.models import ApiKey

    if not all(is_fernet_key(key) for key in settings.TOKENOFF_ENCRYPTION_KEYS):
        return []  # nothing can be opened with them: check_no_published_secrets says why
    try:
        if ApiKey._meta.db_table not in connection.introspection.table_names():
            return []  # not migrated yet: nothing stored
        found = ApiKey.objects.by_encryption()
    except DatabaseError:
        return []  # no database to look at (a build step): nothing to say about its rows
    problems = []
    if found["unreadable"]:
        problems.append(
            Error(
                "No key in TOKENOFF_ENCRYPTION_KEYS opens the stored API keys "
                + ", ".join(key.describe() for key in found["unreadable"])
                + ".",
                hint="Put the encryption key they were stored under back into TOKENOFF_ENCRYPTION_KEYS "
                "(after the new one) and run `python manage.py rotate_encryption_keys`; or, if that key "
                "is lost, set those API keys again (admin or `set_api_key`).",
                id="chat.E001",
            )
        )
    if found["older"]:
        problems.append(
            Warning(
                "The stored API keys "
                + ", ".join(key.describe() for key in found["older"])
                + " are encrypted under an older key of TOKENOFF_ENCRYPTION_KEYS.",
                hint="Run `python manage.py rotate_encryption_keys` before removing that key.",
                id="chat.W001",
            )
        )
    return problems
