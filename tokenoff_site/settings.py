"""Settings for TokenOff Chat: the environment is read here, once, and nowhere else."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# The .env that `manage.py quickstart` writes beside manage.py (its keys and DJANGO_DEBUG), so that
# every command sees one configuration. The real environment wins over it. TOKENOFF_DOTENV=0 reads
# none (the tests: tests/settings.py); another value is the path of the file to read instead.
DOTENV_PATH = None
if os.environ.get("TOKENOFF_DOTENV", "").strip() != "0":
    from dotenv import load_dotenv

    DOTENV_PATH = Path(os.environ.get("TOKENOFF_DOTENV", "").strip() or BASE_DIR / ".env")
    load_dotenv(DOTENV_PATH, override=False)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def _database_label(database: dict) -> str:
    """The database's name (a SQLite file's stem): what tells two sites on one Redis apart by default."""
    name = str(database.get("NAME") or "default")
    return Path(name).stem if database["ENGINE"].endswith("sqlite3") else name


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
# Served over HTTPS behind a proxy (deploy/env.example): secure cookies, HSTS, redirects to https.
# On unless DEBUG is: a production site is secure without being told; DJANGO_HTTPS=0 serves plain http
# on purpose (then `check --deploy` says what is missing).
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

TOKENOFF_BASE_URL = env_str("TOKENOFF_BASE_URL", "https://tokenoff.com/api/v1")
# Demo mode (quickstart --demo): the upstream is chat/demo/server.py and no key is needed.
TOKENOFF_DEMO = env_bool("TOKENOFF_DEMO", False)
# Conversation review (/review/, for the Reviewers group): on by default, and while it is on the
# chat page says so. Off: the review pages answer 404 and the notice goes away.
TOKENOFF_REVIEW_ENABLED = env_bool("TOKENOFF_REVIEW", True)
# Retention: purge_conversations removes conversations idle longer than this (flagged ones stay).
# 0 keeps everything.
TOKENOFF_RETENTION_DAYS = env_int("TOKENOFF_RETENTION_DAYS", 0)
if TOKENOFF_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("TOKENOFF_RETENTION_DAYS cannot be negative (0 keeps everything).")

# Attachments (chat/attachments/): the files in Django's default storage, under this folder unless
# STORAGES names another backend (django-storages' S3, say). Never served as static files: only
# through the views that check who asks.
TOKENOFF_MEDIA_ROOT = Path(env_str("TOKENOFF_MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_ROOT = TOKENOFF_MEDIA_ROOT
TOKENOFF_ATTACHMENT_MAX_BYTES = env_int("TOKENOFF_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)  # per file
TOKENOFF_ATTACHMENT_QUOTA_BYTES = env_int("TOKENOFF_ATTACHMENT_QUOTA_BYTES", 1024**3)  # stored per member

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
# Optional: encrypt what crosses Redis (chat text between processes) with these keys; the first encrypts.
REDIS_ENCRYPTION_KEYS = env_list("REDIS_ENCRYPTION_KEYS")

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
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common (Django's docs): the language from the switch's cookie, else the
    # browser's Accept-Language; then the time zone the browser reported in the `tz` cookie.
    "django.middleware.locale.LocaleMiddleware",
    "chat.lib.timezones.TimezoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Refuses password log-ins of everyone but superusers when OIDC_SSO_ONLY is on (chat/accounts/sso.py).
    "chat.accounts.sso.PasswordGate",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on over OpenID Connect; signs no one in while OIDC_ISSUER is unset.
    "chat.accounts.sso.SSOBackend",
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
                "chat.lib.context_processors.site",
                "chat.lib.i18n.catalogue_url",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    _postgres = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if _postgres and env_bool("TOKENOFF_DB_POOL", True):
        # psycopg 3's pool (Django 5.1+): the shared thread, the background one (chat/realtime/lanes.py)
        # and the sync views each borrow a connection for a call and give it back; none is opened per call.
        DATABASES["default"].update(CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=False)
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": env_int("TOKENOFF_DB_POOL_SIZE", 8),
            "timeout": 10,
        }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Also for a sqlite:/// DATABASE_URL. WAL and IMMEDIATE transactions let the reply tasks' writes
    # and page reads overlap without "database is locked" errors; synchronous=NORMAL is safe with WAL
    # and spares an fsync on every commit (a power cut may lose the last commits, never corrupt the file).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Every Redis key the site writes (channel layer, cache) starts with this, so that sites and test runs
# sharing one Redis server never see each other's frames or counters.
TOKENOFF_REDIS_PREFIX = env_str("TOKENOFF_REDIS_PREFIX", "tokenoff-" + _database_label(DATABASES["default"]))

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 times reads out after 5 s by default, exactly as long as channels_redis's
                # blocking pop waits: an idle socket's consumer would crash now and then. Wait longer.
                # redis-py's pool refuses a connection past its limit (100 by default) instead of waiting:
                # room for the sockets' pops and TOKENOFF_GROUP_SENDS frames at once.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "socket_connect_timeout": 5,
                        "max_connections": env_int("TOKENOFF_REDIS_CONNECTIONS", 500),
                    }
                ],
                # Frames are coalesced, so a reply sends tens of messages a second at most.
                "capacity": 500,
                # A frame nobody read within 30 s is useless to a live chat: let Redis drop it, so no
                # chat text lingers there after a reply ends.
                "expiry": 30,
                "group_expiry": 86400,
                "prefix": TOKENOFF_REDIS_PREFIX,
                **({"symmetric_encryption_keys": REDIS_ENCRYPTION_KEYS} if REDIS_ENCRYPTION_KEYS else {}),
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
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Single sign-on over OpenID Connect (chat/accounts/sso.py, docs/deploy.md): off while OIDC_ISSUER is
# unset. The provider's endpoints come from its discovery document, fetched at the first sign-in (never
# here), unless given below. The OIDC_RP_* and OIDC_OP_* names are mozilla-django-oidc's.
OIDC_ISSUER = env_str("OIDC_ISSUER")
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
if OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too.")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile")
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM")  # unset: groups are left alone
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME")  # the button's label; unset: "single sign-on"
OIDC_SSO_ONLY = bool(OIDC_ISSUER) and env_bool("OIDC_SSO_ONLY", False)
# "idp-group=Our group,...": only these local groups follow the claim (created when first needed).
# Unset: every local group follows the claim, by the same name.
OIDC_GROUPS_MAP: dict[str, str] = {}
for _entry in env_list("OIDC_GROUPS_MAP"):
    _theirs, _sep, _ours = (part.strip() for part in _entry.rpartition("="))
    if not (_sep and _theirs and _ours):
        raise ImproperlyConfigured(f"OIDC_GROUPS_MAP: {_entry!r} is not of the form idp-group=Local group.")
    OIDC_GROUPS_MAP[_theirs] = _ours
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_JWKS_URI")
OIDC_RP_SIGN_ALGO = "RS256"  # the ID token's signature, checked against the provider's published keys
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10  # seconds, for each request to the provider
# django-axes throttles password log-ins; single sign-on's callbacks are not password guesses.
AXES_WHITELIST_CALLABLE = "chat.accounts.sso.exempt_from_lockout"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Stored and computed in UTC; shown in the zone the browser reports (chat/lib/timezones.py).
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
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
    },
    "staticfiles": {
        # Whitenoise's CompressedManifestStaticFilesStorage, rewriting the scripts' module imports.
        "BACKEND": "chat.lib.static_storage.ModuleManifestStaticFilesStorage"
        if _COLLECTED and not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not _COLLECTED
WHITENOISE_AUTOREFRESH = DEBUG

if REDIS_URL:
    # Shared by every process: the per-user send rate holds across them.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": TOKENOFF_REDIS_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# No inline script, no eval, nothing fetched from other hosts: a rendered reply cannot load images or
# scripts from arbitrary places even if something slipped past the sanitizer. The admin ships inline
# scripts of its own and shows no chat text, so it is left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # blob: the composer's preview of an image still uploading (an object URL, never the file read in).
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Log-in throttling: five failures for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The address daphne put in the scope: the peer, or behind deploy/'s nginx the X-Real-IP nginx wrote
# (daphne --proxy-headers-host X-Real-IP). Never a header the client wrote, even if ipware turns up.
AXES_CLIENT_IP_CALLABLE = "chat.lib.client_address.client_ip"

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
        "axes": {"level": "WARNING"},
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
# Title requests queue at low priority (chat/realtime/titles.py): so many at once per process, so many
# waiting (more are dropped: the question's first words stay the title), and none while a first token
# is awaited, for so many seconds at most.
TOKENOFF_GROUP_SENDS = 64  # frames sent to other processes at once, per process (the rest wait)
TOKENOFF_TITLE_CONCURRENCY = 4
TOKENOFF_TITLE_QUEUE = 2000
TOKENOFF_TITLE_PATIENCE = 5.0
TOKENOFF_MAX_CONNECTIONS = 1000  # upstream HTTP pool: hundreds of concurrent streams per process
TOKENOFF_MAX_SOCKETS_PER_USER = 20  # open WebSockets of one user on one process
TOKENOFF_SENDS_PER_MINUTE = 20  # messages one user may send in a minute (rate_limited above)
TOKENOFF_REVIEW_PAGE_SIZE = 50  # conversations per review page (keyset pages: any depth costs the same)
TOKENOFF_REVIEW_EXPORT_LIMIT = 500  # conversations in one review export, built in memory
# A review list query slower than this is cancelled (PostgreSQL) and the reviewer asked to narrow it:
# a search for a word in most messages, or only "-word", must not hold a database connection for long.
TOKENOFF_REVIEW_QUERY_SECONDS = 5.0
TOKENOFF_CHECK_TIMEOUT = 15.0  # a key check or a catalogue sync from the admin: an admin is waiting
TOKENOFF_INVITATION_DAYS = 7  # an invitation link's life (password-reset links keep Django's 3 days)
# Frames one socket may send (every type): a page sends one or two on (re)connecting and one per
# click, so a flood of attach or stop frames is the only thing this ever slows (0: no limit).
TOKENOFF_FRAMES_PER_SECOND = 10
TOKENOFF_FRAME_BURST = 30
# A reply's output held of a budget (and its limit) when its model sets no maximum of its own.
TOKENOFF_RESERVE_OUTPUT_TOKENS = 16_384
TOKENOFF_ATTACHMENTS_PER_MESSAGE = 10
TOKENOFF_IMAGE_LONG_EDGE = 2048  # pixels: an image's long edge as sent upstream (never upscaled)
TOKENOFF_ORPHAN_HOURS = 24  # an upload never sent is swept after this long
TOKENOFF_CURRENCY = "USD"  # of the prices and budgets: shown "$1.23" for USD, else "1.23 EUR"
