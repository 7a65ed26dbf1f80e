"""The test identity provider in a process of its own: runserver on a free port, its own SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.live import ROOT, LiveSite, free_port


def rsa_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class IdentityProvider:
    """django-oauth-toolkit with OpenID Connect on, its users and applications set by management commands."""

    def __init__(self, tmp: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.issuer = f"{self.url}/o"
        self.private_key = rsa_private_key_pem()  # the tests may sign with it too (an expired token, say)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TOKENOFF_", "OIDC_"))},
            "DJANGO_SETTINGS_MODULE": "tests.idp.settings",
            "IDP_DATABASE": str(tmp / "idp.sqlite3"),
            "IDP_ISSUER": self.issuer,
            "IDP_RSA_PRIVATE_KEY": self.private_key,
        }
        self.manage("migrate", "--verbosity", "0")
        self.log = tmp / "idp.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "django",
                    "runserver",
                    "--noreload",
                    "--skip-checks",
                    f"127.0.0.1:{port}",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        """Poll the discovery document: ready once it answers, however long the start took."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if requests.get(self.discovery_url, timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the identity provider did not start: " + self.log.read_text())

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "django", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def app(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.manage("idp_app", client_id, client_secret, redirect_uri)

    def user(
        self, name: str, password: str = "", groups: list[str] | None = None, active: bool = True
    ) -> None:
        args = ["idp_user", name]
        if password:
            args += ["--password", password]
        if groups is not None:
            args += ["--groups", ",".join(groups)]
        if not active:
            args.append("--inactive")
        self.manage(*args)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


CLIENT_ID = "tokenoff-chat"
CLIENT_SECRET = "tokenoff-chat-client-secret-0123456789"


def sso_site(idp: IdentityProvider, tmp: Path, **extra_env: str) -> LiveSite:
    """A live daphne signing in through this provider (registered there as CLIENT_ID), started."""
    site = LiveSite(
        tmp,
        "http://127.0.0.1:9/v1",  # no upstream: single sign-on's tests send no message
        OIDC_ISSUER=idp.issuer,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_SCOPES="openid email profile groups",
        OIDC_GROUPS_CLAIM="groups",
        OIDC_PROVIDER_NAME="Example ID",
        **extra_env,
    )
    site.base_url = site.start()
    idp.app(CLIENT_ID, CLIENT_SECRET, f"{site.base_url}/oidc/callback/")
    return site
