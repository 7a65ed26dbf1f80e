"""The system checks that stop a deployment with a published secret or a dropped encryption key."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from chat.lib.checks import check_no_published_secrets, check_stored_keys_decrypt
from chat.models import ApiKey
from tests.conftest import CANARY_KEY

pytestmark = pytest.mark.django_db


def test_all_keys_under_the_current_encryption_key_pass(team_key):
    assert check_stored_keys_decrypt() == []


def test_keys_under_an_older_encryption_key_are_a_warning_naming_them(settings, team_key, alice):
    mine = ApiKey.store("sk-alice-key-0000", user=alice)
    settings.TOKENOFF_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.TOKENOFF_ENCRYPTION_KEYS]
    (warning,) = check_stored_keys_decrypt()
    assert warning.id == "chat.W001" and not warning.is_serious()
    assert f"#{team_key.pk} (Team key)" in warning.msg and f"#{mine.pk} (alice)" in warning.msg
    assert "rotate_encryption_keys" in warning.hint


def test_a_key_no_configured_key_opens_fails_the_check_naming_the_rows(settings, team_key, alice):
    mine = ApiKey.store("sk-alice-key-0000", user=alice)
    settings.TOKENOFF_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    (error,) = check_stored_keys_decrypt()
    assert error.id == "chat.E001" and error.is_serious()
    assert f"#{team_key.pk} (Team key)" in error.msg and f"#{mine.pk} (alice)" in error.msg
    assert CANARY_KEY not in error.msg
    with pytest.raises(SystemCheckError, match=r"chat\.E001"):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_rotation_then_removal_of_the_old_key_passes_the_check(settings, team_key):
    old, new = settings.TOKENOFF_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    settings.TOKENOFF_ENCRYPTION_KEYS = [new, old]
    assert [problem.id for problem in check_stored_keys_decrypt()] == ["chat.W001"]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.TOKENOFF_ENCRYPTION_KEYS = [new]
    assert check_stored_keys_decrypt() == []
    call_command("check", stdout=io.StringIO())
    team_key.refresh_from_db()
    assert team_key.reveal() == CANARY_KEY


def test_manage_py_refuses_a_dropped_key_and_set_api_key_repairs_it(tmp_path):
    """The deployment's own path: a fresh database, real processes, the environment changing."""
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SECRET_KEY": "s" * 50,
        "DATABASE_URL": f"sqlite:///{tmp_path}/site.db",
        "TOKENOFF_ENCRYPTION_KEYS": first,
    }

    def manage(*args: str, stdin: str = "", keys: str = first) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            env={**env, "TOKENOFF_ENCRYPTION_KEYS": keys},
            input=stdin,
            capture_output=True,
            text=True,
        )

    assert manage("migrate", "-v0").returncode == 0
    assert manage("set_api_key", "--team", stdin=CANARY_KEY + "\n").returncode == 0
    dropped = manage("check", keys=second)
    assert dropped.returncode != 0 and "chat.E001" in dropped.stderr and "#1 (Team key)" in dropped.stderr
    assert CANARY_KEY not in dropped.stderr + dropped.stdout
    refused = manage("rotate_encryption_keys", keys=second)
    assert refused.returncode != 0 and "nothing was changed" in refused.stderr
    assert (
        manage("set_api_key", "--team", stdin="sk-replacement-team-key-0001\n", keys=second).returncode == 0
    )
    assert manage("check", keys=second).returncode == 0


# Published secrets ---------------------------------------------------------------------------

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "env.example"


def env_example() -> dict[str, str]:
    lines = [line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line]
    return {name: value for name, value in lines if not name.startswith("#")}


def ids(problems: list) -> list[str]:
    return [problem.id for problem in problems]


def test_the_test_secrets_pass():
    assert check_no_published_secrets() == []


def test_with_debug_off_the_development_secrets_are_errors(settings):
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    settings.TOKENOFF_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), settings.DEV_ENCRYPTION_KEY]
    problems = check_no_published_secrets()
    assert ids(problems) == ["chat.E002", "chat.E003"] and all(p.is_serious() for p in problems)
    assert settings.DEV_ENCRYPTION_KEY not in repr(problems)


def test_with_debug_on_the_development_secrets_are_fine(settings):
    settings.DEBUG = True
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    settings.TOKENOFF_ENCRYPTION_KEYS = [settings.DEV_ENCRYPTION_KEY]
    assert check_no_published_secrets() == []


def test_the_placeholders_of_env_example_are_errors(settings):
    example = env_example()
    settings.SECRET_KEY = example["DJANGO_SECRET_KEY"]
    settings.TOKENOFF_ENCRYPTION_KEYS = example["TOKENOFF_ENCRYPTION_KEYS"].split(",")
    assert ids(check_no_published_secrets()) == ["chat.E002", "chat.E003"]


def test_a_value_that_is_no_fernet_key_is_an_error_even_with_debug_on(settings):
    settings.DEBUG = True
    settings.TOKENOFF_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    assert ids(check_no_published_secrets()) == ["chat.E004"]


@pytest.mark.parametrize("published", ["development", "env.example"])
def test_manage_py_refuses_the_published_secrets_with_debug_off(tmp_path, published):
    from tokenoff_site import settings as site

    example = env_example()
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "off",
        "DATABASE_URL": f"sqlite:///{tmp_path}/site.db",
        "DJANGO_SECRET_KEY": site.DEV_SECRET_KEY
        if published == "development"
        else example["DJANGO_SECRET_KEY"],
        "TOKENOFF_ENCRYPTION_KEYS": site.DEV_ENCRYPTION_KEY
        if published == "development"
        else example["TOKENOFF_ENCRYPTION_KEYS"],
    }
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "chat.E002" in result.stderr and "chat.E003" in result.stderr
