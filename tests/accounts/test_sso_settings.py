"""Single sign-on's environment, read in a fresh interpreter each time."""

from __future__ import annotations

import json
import subprocess
import sys

SHOW = (
    "import json, django; from django.conf import settings as s; django.setup(); print(json.dumps({"
    "'issuer': s.OIDC_ISSUER, 'map': s.OIDC_GROUPS_MAP, 'only': s.OIDC_SSO_ONLY,"
    "'scopes': s.OIDC_RP_SCOPES, 'username': s.OIDC_USERNAME_CLAIM}))"
)
BASE = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "tokenoff_site.settings", "TOKENOFF_DOTENV": "0"}
PROVIDER = {
    "OIDC_ISSUER": "https://id.example.com/realms/example",
    "OIDC_CLIENT_ID": "chat",
    "OIDC_CLIENT_SECRET": "s",
}


def run(**env: str) -> subprocess.CompletedProcess:
    environment = {**BASE, "DJANGO_DEBUG": "1", **env}
    return subprocess.run([sys.executable, "-c", SHOW], env=environment, capture_output=True, text=True)


def test_single_sign_on_is_off_by_default_and_sso_only_needs_an_issuer():
    shown = json.loads(run(OIDC_SSO_ONLY="on").stdout)
    assert shown == {
        "issuer": "",
        "map": {},
        "only": False,
        "scopes": "openid email profile",
        "username": "preferred_username",
    }


def test_the_groups_map_is_read_into_pairs():
    shown = json.loads(
        run(**PROVIDER, OIDC_GROUPS_MAP="chat-reviewers=Reviewers, 3f1c-77=GPT-5 users").stdout
    )
    assert shown["map"] == {"chat-reviewers": "Reviewers", "3f1c-77": "GPT-5 users"}


def test_a_malformed_groups_map_stops_the_start_with_the_reason():
    result = run(**PROVIDER, OIDC_GROUPS_MAP="Reviewers")
    assert result.returncode != 0 and "OIDC_GROUPS_MAP: 'Reviewers' is not of the form" in result.stderr


def test_an_issuer_without_its_client_stops_the_start_with_the_reason():
    result = run(OIDC_ISSUER="https://id.example.com/realms/example", OIDC_CLIENT_ID="chat")
    assert result.returncode != 0 and "set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too" in result.stderr
