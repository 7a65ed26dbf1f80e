"""System checks: every stored API key must open with the configured encryption keys."""

from __future__ import annotations

from django.core.checks import Error, Warning, register
from django.db import DatabaseError, connection


@register()
def check_stored_keys_decrypt(app_configs=None, **kwargs) -> list:
    """Fails, naming the rows, when an encryption key still in use has been dropped from the settings."""
    from chat.models import ApiKey

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
