"""The management commands of the contract."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from chat.models import ApiKey, ChatModel
from tests.conftest import CANARY_KEY

pytestmark = pytest.mark.django_db


def run(name: str, *args, stdin: str = "") -> str:
    out = io.StringIO()
    original = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(name, *args, stdout=out, stderr=out)
    finally:
        sys.stdin = original
    return out.getvalue()


def test_set_api_key_reads_standard_input_and_stores_it_encrypted(alice):
    output = run("set_api_key", "--user", "alice", stdin=CANARY_KEY + "\n")
    assert CANARY_KEY not in output and "sk-…NARY" in output
    key = ApiKey.objects.get(user=alice)
    assert CANARY_KEY not in key.encrypted and key.last4 == "NARY"
    assert key.reveal() == CANARY_KEY
    assert ApiKey.objects.for_user(alice) == key


def test_set_api_key_for_the_team_replaces_the_old_one(alice):
    run("set_api_key", "--team", stdin="sk-first-team-key-1111\n")
    run("set_api_key", "--team", stdin="sk-second-team-key-2222\n")
    team = ApiKey.objects.get(is_team=True)
    assert team.reveal() == "sk-second-team-key-2222"
    assert ApiKey.objects.for_user(alice) == team


def test_set_api_key_refuses_an_unknown_user_and_an_empty_key(alice):
    with pytest.raises(CommandError, match="No user"):
        run("set_api_key", "--user", "nobody", stdin="sk-x\n")
    with pytest.raises(CommandError, match="No key"):
        run("set_api_key", "--team", stdin="\n")
    assert not ApiKey.objects.exists()


def test_no_key_is_stored_in_clear_anywhere_in_the_database(alice, team_key, django_db_blocker):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted, last4 FROM chat_apikey")
        rows = cursor.fetchall()
    assert rows and all(CANARY_KEY not in " ".join(row) for row in rows)


@pytest.mark.postgres  # both passes: all or nothing, under a lock on every key row
def test_rotation_re_encrypts_under_the_first_key_so_the_old_key_can_go(settings, team_key):
    old = settings.TOKENOFF_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.TOKENOFF_ENCRYPTION_KEYS = [new, old]
    assert "Re-encrypted 1" in run("rotate_encryption_keys")
    settings.TOKENOFF_ENCRYPTION_KEYS = [new]
    team_key.refresh_from_db()
    assert team_key.reveal() == CANARY_KEY


@pytest.mark.postgres  # both passes: as above
def test_rotation_changes_nothing_when_a_key_cannot_be_opened(settings, team_key, alice):
    ApiKey.store("sk-alice-0000", user=alice)
    before = {k.pk: k.encrypted for k in ApiKey.objects.all()}
    settings.TOKENOFF_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="nothing was changed"):
        run("rotate_encryption_keys")
    assert {k.pk: k.encrypted for k in ApiKey.objects.all()} == before


def test_sync_models_adds_what_the_upstream_lists_disabled(fake, team_key):
    fake.models.append("gpt-9-preview")
    try:
        ChatModel.objects.filter(name="o3-pro").delete()
        output = run("sync_models")
    finally:
        fake.models.remove("gpt-9-preview")
    assert "added (disabled): gpt-9-preview" in output
    added = ChatModel.objects.get(name="gpt-9-preview")
    assert not added.enabled
    assert not ChatModel.objects.get(name="o3-pro").enabled  # came back, for an admin to review
    assert fake.requests[-1].authorization == f"Bearer {CANARY_KEY}"


def test_sync_models_takes_the_limits_the_upstream_states_and_keeps_an_admins(fake, team_key):
    """The fake's /models states each known model's window and maximum output, as OpenAI-compatible
    upstreams that say anything do: a new row takes them, a row without them gets them, an admin's
    value stays."""
    fake.models.append("gpt-4o-2099-01-01")
    try:
        ChatModel.objects.filter(name="o3-pro").delete()
        ChatModel.objects.filter(name="o3").update(context_window=None, max_output_limit=None)
        ChatModel.objects.filter(name="gpt-4.1").update(context_window=900_000)
        run("sync_models")
    finally:
        fake.models.remove("gpt-4o-2099-01-01")
    dated = ChatModel.objects.get(name="gpt-4o-2099-01-01")
    assert (dated.context_window, dated.max_output_limit, dated.enabled) == (128_000, 16_384, False)
    assert ChatModel.objects.get(name="o3-pro").context_window == 200_000
    o3 = ChatModel.objects.get(name="o3")
    assert (o3.context_window, o3.max_output_limit) == (200_000, 100_000)
    assert ChatModel.objects.get(name="gpt-4.1").context_window == 900_000


def test_what_an_upstream_states_of_a_model_is_read_only_where_it_is_stated():
    from chat.models.catalogue import upstream_facts

    assert upstream_facts({"id": "gpt-4.1", "object": "model", "owned_by": "openai"}) == {}
    assert upstream_facts(
        {
            "id": "x",
            "context_length": 32_768,
            "top_provider": {"max_completion_tokens": 4096},
            "architecture": {"input_modalities": ["text", "image"]},
        }
    ) == {"context_window": 32_768, "max_output_limit": 4096, "vision": True}
    assert upstream_facts(
        {"id": "y", "context_window": "lots", "max_output_tokens": -1, "input_modalities": ["text"]}
    ) == {"vision": False}
    assert upstream_facts({"id": "z", "context_window": True, "max_completion_tokens": 2**40}) == {}


def test_sync_models_says_when_the_upstream_refuses(fake, settings):
    ApiKey.store("sk-bad-key-0000")
    with pytest.raises(CommandError, match="refused the API key"):
        run("sync_models")


def test_the_catalogue_is_seeded_with_the_documented_models():
    names = list(ChatModel.objects.values_list("name", flat=True))
    assert len(names) == 24 and ChatModel.default().name == "gpt-4.1"
    assert ChatModel.objects.get(name="gpt-4.1-mini").label == "GPT-4.1 mini"
    assert (
        ChatModel.objects.get(name="o3").is_reasoning and ChatModel.objects.get(name="gpt-5.4").is_reasoning
    )
    assert not ChatModel.objects.get(name="gpt-4o").is_reasoning
    assert ChatModel.objects.filter(enabled=True).count() == 24


def test_quickstart_sets_up_and_prints_the_admin_password_once():
    first = run("quickstart", "--no-serve")
    assert "| user: admin   password: " in first  # in a box (tests/management/test_quickstart.py)
    assert "password" not in run("quickstart", "--no-serve")


def test_manage_py_runs_with_debug_off_only_when_the_secrets_are_set(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "0", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    env["TOKENOFF_DOTENV"] = "0"  # never the checkout's .env (the one quickstart writes)
    refused = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "DJANGO_SECRET_KEY is not set" in refused.stderr
    env["DJANGO_SECRET_KEY"] = "s" * 50
    refused = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "TOKENOFF_ENCRYPTION_KEYS is not set" in refused.stderr
    env["TOKENOFF_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    ok = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
