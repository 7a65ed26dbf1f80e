"""The environment switches of PROTOCOL.md, read in a fresh interpreter each time."""

from __future__ import annotations

import json
import subprocess
import sys

SHOW = (
    "import json, django; from django.conf import settings as s; django.setup(); print(json.dumps({"
    "'db': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'],"
    "'hosts': s.ALLOWED_HOSTS, 'csrf': s.CSRF_TRUSTED_ORIGINS, 'debug': s.DEBUG,"
    "'base': s.TOKENOFF_BASE_URL, 'db_options': s.DATABASES['default'].get('OPTIONS', {}),"
    "'https': s.HTTPS, 'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
    "'hsts': s.SECURE_HSTS_SECONDS, 'redirect': s.SECURE_SSL_REDIRECT,"
    "'proxy_ssl': s.SECURE_PROXY_SSL_HEADER,"
    "'prefix': s.TOKENOFF_REDIS_PREFIX, 'layer_config': s.CHANNEL_LAYERS['default'].get('CONFIG', {}),"
    "'cache': s.CACHES['default']}, default=str))"
)
PRODUCTION = {
    "DJANGO_SECRET_KEY": "k" * 50,
    "TOKENOFF_ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE=",
}


def settings_with(module: str = "tokenoff_site.settings", **env: str) -> dict:
    # TOKENOFF_DOTENV=0: never the checkout's .env (the one quickstart writes).
    environment = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": module, "TOKENOFF_DOTENV": "0", **env}
    result = subprocess.run([sys.executable, "-c", SHOW], env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_embedded_default_is_sqlite_and_the_in_memory_layer():
    shown = settings_with(DJANGO_DEBUG="1")
    assert shown["db"] == "django.db.backends.sqlite3"
    assert shown["layer"] == "channels.layers.InMemoryChannelLayer"
    assert shown["hosts"] == ["localhost", "127.0.0.1"] and shown["csrf"] == []
    assert shown["base"] == "https://tokenoff.com/api/v1" and shown["debug"] is True


def test_database_url_and_redis_url_switch_the_backends():
    shown = settings_with(
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://root@127.0.0.1:5432/tokenoff",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DJANGO_ALLOWED_HOSTS="chat.example.com, localhost",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://chat.example.com",
        TOKENOFF_BASE_URL="http://127.0.0.1:9999/v1",
    )
    assert shown["db"] == "django.db.backends.postgresql"
    assert shown["layer"] == "channels_redis.core.RedisChannelLayer"
    assert shown["hosts"] == ["chat.example.com", "localhost"]
    assert shown["csrf"] == ["https://chat.example.com"]
    assert shown["base"] == "http://127.0.0.1:9999/v1"


def test_a_sqlite_database_url_keeps_the_sqlite_tuning():
    default = settings_with(DJANGO_DEBUG="1")["db_options"]
    shown = settings_with(DJANGO_DEBUG="1", DATABASE_URL="sqlite:////tmp/tokenoff-elsewhere.sqlite3")
    assert shown["db"] == "django.db.backends.sqlite3"
    assert shown["db_options"] == default
    assert "synchronous=NORMAL" in default["init_command"] and default["transaction_mode"] == "IMMEDIATE"


def test_debug_is_off_unless_asked_for():
    shown = settings_with(
        DJANGO_SECRET_KEY="k" * 50, TOKENOFF_ENCRYPTION_KEYS="dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE="
    )
    assert shown["debug"] is False


def test_redis_reads_wait_longer_than_the_channel_layers_blocking_pop():
    # redis-py 8 gives up on a read after 5 s by default, as long as channels_redis's blocking pop:
    # an idle socket's consumer would then crash now and then with "Timeout reading from Redis".
    code = (
        "import django; from django.conf import settings as s; django.setup();"
        "from channels_redis.core import RedisChannelLayer;"
        "host = s.CHANNEL_LAYERS['default']['CONFIG']['hosts'][0];"
        "print(host['socket_timeout'] > RedisChannelLayer.brpop_timeout)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "tokenoff_site.settings",
        "TOKENOFF_DOTENV": "0",
        "DJANGO_DEBUG": "1",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr


def is_secure(shown: dict) -> bool:
    return (
        shown["https"]
        and shown["session_secure"]
        and shown["csrf_secure"]
        and shown["redirect"]
        and shown["hsts"] >= 31_536_000
        and shown["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    )


def test_with_debug_off_the_https_settings_are_on_without_being_asked_for():
    assert is_secure(settings_with(**PRODUCTION))
    assert is_secure(settings_with(**PRODUCTION, DJANGO_HTTPS="on"))


def test_django_https_0_serves_plain_http_on_purpose():
    for off in ("0", "off", "false"):
        shown = settings_with(**PRODUCTION, DJANGO_HTTPS=off)
        assert not shown["https"] and not shown["session_secure"] and not shown["redirect"]
        assert shown["hsts"] == 0 and shown["proxy_ssl"] is None


def test_debug_on_as_the_quickstart_runs_serves_plain_http():
    shown = settings_with(DJANGO_DEBUG="1")
    assert not shown["https"] and not shown["session_secure"] and not shown["redirect"]


def test_the_test_settings_serve_plain_http():
    assert not settings_with("tests.settings")["https"]
