"""The OpenID Connect round trip over real HTTP as a browser makes it: the site, the provider's form, back."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import requests


def _log_in_at_provider(
    session: requests.Session,
    login_page: requests.Response,
    username: str,
    password: str,
    follow: bool = True,
) -> requests.Response:
    """Post the provider's log-in form with its CSRF token."""
    token = session.cookies.get("idp_csrftoken")
    assert token, login_page.text
    return session.post(
        login_page.url,
        data={
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": password,
            "next": parse_qs(urlsplit(login_page.url).query)["next"][0],
        },
        allow_redirects=follow,
    )


def _without_scope(url: str, scope: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["scope"] = " ".join(s for s in query["scope"].split() if s != scope)
    return urlunsplit(parts._replace(query=urlencode(query)))


def sign_in(
    site_url: str, username: str, password: str, *, drop_scope: str = "", next_path: str = ""
) -> requests.Session:
    """Sign in to the site through the provider; the session, with .landed set to where it ended up.

    drop_scope takes a scope out of the site's authorization request, as a provider that ignores it
    would (the test provider then leaves that scope's claims out of the tokens).
    """
    session = requests.Session()
    start = session.get(
        f"{site_url}/oidc/authenticate/",
        params={"next": next_path} if next_path else None,
        allow_redirects=False,
    )
    assert start.status_code == 302, start.text
    authorize = start.headers["Location"]
    if drop_scope:
        authorize = _without_scope(authorize, drop_scope)
    login_page = session.get(authorize)  # the provider sends an unknown visitor to its log-in form
    assert "/login/" in login_page.url, login_page.url
    session.landed = _log_in_at_provider(session, login_page, username, password)
    return session


def signed_in_as(session: requests.Session, site_url: str) -> bool:
    """Whether the site's chat page opens for this session (else it sends to the log-in page)."""
    response = session.get(f"{site_url}/", allow_redirects=False)
    return response.status_code == 200


def provider_tokens(
    provider_url: str,
    issuer: str,
    client_id: str,
    secret: str,
    redirect_uri: str,
    username: str,
    password: str,
) -> tuple[dict, str]:
    """Tokens the provider issues to an application (not necessarily ours), and the nonce asked for."""
    session = requests.Session()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    nonce = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid email profile groups",
            "state": "s",
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    login_page = session.get(f"{issuer}/authorize/?{query}")
    back = _log_in_at_provider(session, login_page, username, password, follow=False)
    # Back to the provider's authorize endpoint, which redirects to the application with a code.
    coded = session.get(urljoin(provider_url, back.headers["Location"]), allow_redirects=False)
    assert coded.headers["Location"].startswith(redirect_uri), coded.headers
    code = parse_qs(urlsplit(coded.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        f"{issuer}/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": secret,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert tokens.ok, tokens.text
    return tokens.json(), nonce
