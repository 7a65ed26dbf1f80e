"""Settings for TokenOff Chat: the environment is read here, once, and nowhere else."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

# Development-only secrets: published here on purpose, so they are refused whenever DEBUG is off.
DEV_SECRET_KEY = "django-insecure-tokenoff-development-only"  # noqa: S105
DEV_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGk="

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string, or turn DJANGO_DEBUG on "
            "for local development (python manage.py quickstart does that for you)."
        )
    SECRET_KEY = DEV_SECRET_KEY

TOKENOFF_ENCRYPTION_KEYS = env_list("TOKENOFF_ENCRYPTION_KEYS")
if not TOKENOFF_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "TOKENOFF_ENCRYPTION_KEYS is not set. Generate one with: python -c "
            '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    TOKENOFF_ENCRYPTION_KEYS = [DEV_ENCRYPTION_KEY]

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

TOKENOFF_BASE_URL = env_str("TOKENOFF_BASE_URL", "https://tokenoff.com/api/v1")
# Demo mode (quickstart --demo): the upstream is chat/fake_upstream.py and no key is needed.
TOKENOFF_DEMO = env_bool("TOKENOFF_DEMO", False)

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")

# Mail, for invitation links. Without a host nothing is mailed: the admin is shown the link to pass on.
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST")
EMAIL_PORT = int(env_str("DJANGO_EMAIL_PORT", "587"))
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "TokenOff Chat <chat@localhost>")
TOKENOFF_SEND_EMAIL = bool(EMAIL_HOST)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "chat.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "tokenoff_site.urls"
ASGI_APPLICATION = "tokenoff_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chat.context_processors.site",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # WAL and IMMEDIATE transactions let the reply tasks' writes and page reads overlap
            # without "database is locked" errors.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                # Frames are coalesced, so a reply sends tens of messages a second at most.
                "capacity": 500,
                "expiry": 30,
                "group_expiry": 3600,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# How long an invitation link (a password-reset token of its own kind) stays valid: a week.
PASSWORD_RESET_TIMEOUT = 7 * 24 * 3600
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Hashed, compressed files once collectstatic has run; straight from static/ before that, so the
# site never breaks for want of a collectstatic.
_COLLECTED = (STATIC_ROOT / "staticfiles.json").exists()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _COLLECTED and not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not _COLLECTED
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # The SDK and its HTTP client log request details at DEBUG; keep them quiet so that nothing
        # near a key is ever written.
        "openai": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}

# The chat itself: not environment, just tunables with their reasons.
TOKENOFF_MAX_CONTENT = 32_000  # characters in one message (too_large above)
TOKENOFF_COALESCE_SECONDS = 0.03  # at most one delta frame per reply per window
TOKENOFF_CHECKPOINT_SECONDS = 2.0  # how often a streaming reply's text is saved
TOKENOFF_HEARTBEAT_SECONDS = 5.0  # how often a process says its replies are alive
TOKENOFF_STALE_SECONDS = 20.0  # a streaming reply unheard of this long belonged to a dead process
TOKENOFF_ATTACH_TIMEOUT = 2.0  # how long an attach waits for the process that owns the reply
TOKENOFF_CONNECT_TIMEOUT = 10.0
TOKENOFF_READ_TIMEOUT = 120.0  # between two chunks; reasoning models may think a long while
TOKENOFF_REPLY_TIMEOUT = 900.0  # the whole reply
TOKENOFF_MAX_RETRIES = 1  # the SDK retries a refused or 429/5xx request once before streaming
TOKENOFF_TITLE_MODEL = "gpt-4.1-nano"  # names new conversations after their first reply
TOKENOFF_MAX_CONNECTIONS = 1000  # upstream HTTP pool: hundreds of concurrent streams per process
TOKENOFF_CHECK_TIMEOUT = 15.0  # a key check or a catalogue sync from the admin: an admin is waiting
