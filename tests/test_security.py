"""Where the peers fell: headers, CSP, log-in throttling, CSRF, socket limits, keys in logs and frames."""

from __future__ import annotations

import logging
import re
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async
from cryptography.fernet import Fernet
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from chat.models import ChatModel, Conversation, Message
from tests.conftest import CANARY_KEY
from tests.ws import connected, frames_until, open_socket, send_frame

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script><svg onload=alert(3)>'


def policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: values for name, *values in directives}


def test_check_deploy_passes_with_the_documented_production_environment(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "off",
        "DJANGO_HTTPS": "on",
        "DJANGO_SECRET_KEY": Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "chat.example.com",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://chat.example.com",
        "TOKENOFF_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path}/deploy.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_https_check_deploy_says_what_is_missing(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_HTTPS": "0",  # plain http on purpose: HTTPS is on by default with DEBUG off
        "DJANGO_SECRET_KEY": Fernet.generate_key().decode() * 2,
        "TOKENOFF_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path}/deploy.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "SESSION_COOKIE_SECURE" in result.stderr + result.stdout


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy_and_no_inline_script(client, alice):
    client.force_login(alice)
    Conversation.objects.create(owner=alice, title="t", model="gpt-4.1")
    for url in ("/", "/accounts/login/"):
        response = client.get(url)
        rules = policy(response)
        assert rules["script-src"] == ["'self'"] and rules["style-src"] == ["'self'"]
        # blob: only for the composer's previews of images being uploaded (object URLs the page makes).
        assert rules["img-src"] == ["'self'", "data:", "blob:"] and rules["frame-ancestors"] == ["'none'"]
        assert rules["object-src"] == ["'none'"] and rules["base-uri"] == ["'none'"]
        html = response.content.decode()
        inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
        assert inline == [], "inline scripts would need 'unsafe-inline'"
        assert not re.search(r"\son[a-z]+=", html), "inline event handlers"
        assert not re.search(r"\sstyle=", html), "inline styles"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_hostile_text_in_titles_labels_and_messages_is_escaped_on_the_page(client, alice):
    ChatModel.objects.filter(name="gpt-4.1").update(label=HOSTILE)
    conversation = Conversation.objects.create(owner=alice, title=HOSTILE, model="gpt-4.1")
    Message.objects.create(conversation=conversation, role="user", content=HOSTILE)
    Message.objects.create(conversation=conversation, role="assistant", content=HOSTILE)
    client.force_login(alice)
    html = client.get(f"/c/{conversation.pk}/").content.decode()
    assert "<img src=x" not in html and "<script>alert" not in html and "<svg onload" not in html
    assert "&lt;img src=x onerror=" in html


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_for_a_while(alice):
    client = Client()
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert response.status_code in (200, 429)
    locked = client.post("/accounts/login/", {"username": "alice", "password": "alice-password-1"})
    assert locked.status_code == 429 and "Too many failed log-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_right_password_after_a_few_mistakes_still_works(alice):
    client = Client()
    for _ in range(2):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": "alice-password-1"}).status_code
        == 302
    )


def test_weak_passwords_are_refused():
    for weak in ("password", "12345678", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "data"), [("/accounts/login/", {"username": "alice", "password": "x"}), ("/accounts/logout/", {})]
)
def test_every_form_needs_its_csrf_token(alice, url, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(url, data).status_code == 403


pytestmark_async = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.redis  # both passes: with Redis the count is in its cache, shared by every process
@pytestmark_async
async def test_sends_over_the_per_minute_rate_are_rate_limited_with_a_retry_time(
    alice, team_key, fake, settings
):
    settings.TOKENOFF_SENDS_PER_MINUTE = 2
    socket = await connected(alice)
    for number in range(2):
        await socket.send_json_to(send_frame("[fake:chunks=1]", client_id=f"ok{number}"))
        await frames_until(socket, "done")
    await socket.send_json_to(send_frame("one too many", client_id="late"))
    error = (await frames_until(socket, "error"))[-1]
    assert (error["code"], error["id"]) == ("rate_limited", "late")
    assert 1 <= error["retry_after"] <= 61
    assert await sync_to_async(Message.objects.filter(content="one too many").count)() == 0
    await socket.disconnect()


@pytestmark_async
async def test_each_user_has_a_cap_on_open_sockets(alice, bob, fake, settings):
    settings.TOKENOFF_MAX_SOCKETS_PER_USER = 2
    mine = [await connected(alice) for _ in range(2)]
    third = await open_socket(alice)
    assert not (await third.connect())[0]
    others = await connected(bob)  # someone else is not affected
    await mine[0].disconnect()
    again = await connected(alice)  # a closed socket frees its place
    for socket in (mine[1], others, again):
        await socket.disconnect()


@pytestmark_async
async def test_the_key_appears_in_no_frame_and_no_log_line(alice, team_key, fake, caplog):
    caplog.set_level(logging.DEBUG)
    socket = await connected(alice)
    seen = []
    for directive in (
        "[fake:chunks=3]",
        "[fake:status=401]",
        "[fake:status=500]",
        "[fake:garbage]",
        "[fake:cut=1]",
    ):
        await socket.send_json_to(send_frame(f"{directive} hi", client_id="k"))
        seen += await frames_until(socket, "done")
    await socket.disconnect()
    assert CANARY_KEY not in repr(seen)
    assert CANARY_KEY not in caplog.text and CANARY_KEY[-12:] not in caplog.text
