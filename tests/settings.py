"""The site's settings for tests: production-like (DEBUG off) with fixed test-only secrets."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
# A fixed, test-only Fernet key (not used anywhere else).
os.environ.setdefault("TOKENOFF_ENCRYPTION_KEYS", "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE=")
os.environ.setdefault("TOKENOFF_BASE_URL", "http://127.0.0.1:9/v1")  # never the real TokenOff

from tokenoff_site.settings import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
