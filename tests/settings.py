"""The site's settings for tests: production-like (DEBUG off) with fixed test-only secrets."""

import os
import secrets
import tempfile

# Hermetic: never a developer's .env (the one `manage.py quickstart` writes; tokenoff_site/settings.py).
os.environ["TOKENOFF_DOTENV"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
# A fixed, test-only Fernet key (not used anywhere else).
os.environ.setdefault("TOKENOFF_ENCRYPTION_KEYS", "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE=")
os.environ.setdefault("TOKENOFF_BASE_URL", "http://127.0.0.1:9/v1")  # never the real TokenOff
# DEBUG is off, so HTTPS would be on: the suite and its live daphnes serve plain http on purpose.
os.environ.setdefault("DJANGO_HTTPS", "0")
# One prefix per run, so that two runs on one Redis never mix; the run's live daphnes are given it
# (tests/e2e/live.py), so that they share it.
os.environ.setdefault("TOKENOFF_REDIS_PREFIX", f"tokenoff-test-{secrets.token_hex(4)}")

# Attachments go to a folder of this run's own (live daphnes inherit it), never the project's media/.
os.environ.setdefault("TOKENOFF_MEDIA_ROOT", tempfile.mkdtemp(prefix="tokenoff-test-media-"))

from tokenoff_site.settings import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# WebsocketCommunicator sends no Host header (tests/ws.py), so the site's own origin is unknown to the
# origin check (chat/realtime/origin.py): the origin its sockets claim is trusted instead.
CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, "http://localhost"]  # noqa: F405
