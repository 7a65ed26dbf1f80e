"""Bad values in every URL and parameter get a 4xx (or are ignored), never a 500: a table of them all."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote, urlencode

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from chat.models import SiteSettings
from chat.models.flags import Flag
from tests.review import data as review_data

# Both passes: PostgreSQL refuses what SQLite stores (NUL bytes are a DataError, integers overflow its
# columns), and that must still be a 4xx there.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


class Route(NamedTuple):
    method: str
    path: str  # {conversation}, {reply}, {flag}, {uid}, {object}: real ids, then bad ones
    params: tuple[str, ...] = ()
    data: dict = {}  # good values for the parameters not under test
    allowed: frozenset = frozenset()  # statuses this route may answer besides ALLOWED
    values: tuple[str, ...] | None = None  # the values thrown at its parameters; None: BAD_VALUES
    ids: tuple[str, ...] | None = None  # the values put in its path; None: BAD_IDS


# Every URL of tokenoff_site/urls.py, chat/urls.py and chat/review_urls.py, with every parameter it
# reads (the admin's are added below, per registered model).
ROUTES = [
    Route("get", "/"),
    Route("get", "/healthz"),
    Route("get", "/jsi18n/", ("l", "v")),
    Route("post", "/i18n/setlang/", ("language", "next"), {"language": "en", "next": "/"}),
    Route("get", "/accounts/login/", ("next",)),
    # Failed log-ins lock the name out after a few (django-axes): 429.
    Route("post", "/accounts/login/", ("username", "password"), {"username": "nobody"}, frozenset({429})),
    Route("get", "/accounts/signup/"),
    Route("post", "/accounts/signup/", ("username", "email", "password1", "password2")),
    Route("get", "/accounts/invitation/{uid}/set-password/"),
    Route("post", "/accounts/password_reset/", ("email",), {"email": "nobody@example.com"}),
    Route("get", "/accounts/reset/{uid}/set-password/"),
    Route("post", "/accounts/password_change/", ("old_password", "new_password1", "new_password2")),
    Route("get", "/usage/", ("month",)),
    Route("get", "/usage/team/", ("month",)),
    Route("get", "/usage/team.csv", ("month",)),
    Route("get", "/c/{conversation}/"),
    Route("get", "/c/list.json", ("after", "archived")),
    Route("get", "/c/search.json", ("q",), {"q": "plan"}),
    Route("post", "/c/{conversation}/update/", ("title", "pinned", "archived"), {"title": "Renamed"}),
    Route("get", "/c/{conversation}/thread.json"),
    Route("post", "/c/{conversation}/branch/", ("message",), {"message": "{reply}"}),
    Route("post", "/m/{reply}/feedback/", ("rating", "comment"), {"rating": "1", "comment": "ok"}),
    Route("post", "/m/{reply}/feedback/", ("comment",), {"rating": "0"}),
    Route("get", "/c/{conversation}/export.json"),
    Route("get", "/c/{conversation}/export.md"),
    Route("post", "/c/{conversation}/settings/", ("model", "system_prompt"), {"model": "gpt-4.1"}),
    Route("get", "/settings/"),
    Route("post", "/settings/key/", ("secret",)),
    Route("post", "/settings/key/test/"),
    Route("post", "/settings/preferences/", ("default_model", "system_prompt")),
    Route("get", "/review/", ("q", "user", "model", "since", "until", "outcome", "feedback", "flagged")),
    Route("get", "/review/", ("after", "before"), {"q": "plan"}),
    Route("get", "/review/{conversation}/", ("back",)),
    Route("post", "/review/{conversation}/flag/", ("note", "next"), {"note": "Look"}),
    Route("get", "/review/flags/", ("state", "page")),
    Route("post", "/review/flags/{flag}/resolve/", ("next",)),
    Route("post", "/review/export/", ("ids", "format", "next"), {"ids": "{conversation}", "format": "json"}),
    Route("post", "/c/{conversation}/delete/"),  # near the end: it deletes the conversation
    Route("post", "/accounts/logout/"),
]

# Ids in paths: not ASCII digits, zero, negative, past 2^63, NUL.
BAD_IDS = ["²", "٣", "0", "-1", "99999999999999999999", str(2**63), "1.0", "\x00"]
# Any parameter: the ids above, NUL in text, dates and months at the ends of the calendar, cursors.
BAD_VALUES = [
    *BAD_IDS,
    "a\x00b",
    "9999-12",
    "0001-01",
    "9999-12-31",
    "0001-01-01",
    "²-1",
    "1-99999999999999999999",
    "99999999999999999999999-1",
    "",
    "x" * 300,
]
# Django's admin is Django's: fewer values, enough to show that our models' pages take them.
ADMIN_VALUES = ["²", "٣", "99999999999999999999", "-1", "a\x00b", "9999-12-31"]
ALLOWED = {200, 302, 400, 403, 404}


def admin_routes() -> list[Route]:
    routes = [Route("get", "/admin/")]
    few = tuple(ADMIN_VALUES)
    for model in admin.site._registry:
        if model._meta.app_label not in ("chat", "auth"):
            continue  # django-axes' pages are its own
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        routes += [
            Route("get", base, ("q", "p", "o"), values=few),
            Route("get", base + "{object}/change/", ids=few),
            Route("get", base + "{object}/history/", ids=few),
            Route("get", base + "{object}/delete/", ids=few),
        ]
    return routes


@pytest.fixture
def ids(alice, reviewer) -> dict[str, str]:
    talk = review_data.conversation(alice, "plan for the week", answer="A plan.")
    flag = Flag.raise_on(talk, reviewer, "Check it")
    reply = talk.messages.get(role="assistant")
    return {
        "conversation": str(talk.pk),
        "reply": str(reply.pk),
        "flag": str(flag.pk),
        "uid": "MQ",
        "object": "1",
    }


@pytest.fixture
def open_site(db):
    # Sign-up and own keys open, so that their forms are reached and not only refused.
    site = SiteSettings.current()
    site.open_signup = site.self_service_keys = True
    site.save()


def fill(template: str, ids: dict[str, str]) -> str:
    return template.format(**ids)


def ask(client: Client, method: str, path: str, data: dict) -> int:
    """The status; a view's exception is re-raised by the test client, and reported with the request."""
    try:
        if method == "get":
            response = client.get(path, data)
        else:
            response = client.post(path, data)
        if response.streaming:
            b"".join(response.streaming_content)  # a CSV's rows are made while it is sent
    except Exception as error:  # any exception is the failure this test looks for
        pytest.fail(f"{method.upper()} {path} {data!r} raised {error!r}")
    return response.status_code


def throw_everything(client: Client, route: Route, ids: dict[str, str]) -> list[str]:
    """Every bad value at every id of the path and every parameter; what came back outside ALLOWED."""
    assert client.raise_request_exception  # a 500 raises here rather than passing as a status
    wrong = []
    data = {name: fill(value, ids) for name, value in route.data.items()}
    for placeholder in ("conversation", "reply", "flag", "uid", "object"):
        if "{" + placeholder + "}" not in route.path:
            continue
        # A bad id names no page (or one not for this user). Django's own pages read theirs their way:
        # an invitation link says it is invalid, the admin reads "٣" as 3 or sends to its index.
        expected = ALLOWED if placeholder in ("uid", "object") else {302, 403, 404}
        for bad in route.ids or BAD_IDS:
            path = quote(fill(route.path, {**ids, placeholder: bad}), safe="/")
            status = ask(client, route.method, path, data)
            if status not in expected | route.allowed:
                wrong.append(f"{path}: {status}")
    path = fill(route.path, ids)
    for name in route.params:
        for bad in route.values or BAD_VALUES:
            status = ask(client, route.method, path, {**data, name: bad})
            if status not in ALLOWED | route.allowed:
                wrong.append(f"{path}?{urlencode({name: bad})}: {status}")
    return wrong


@pytest.mark.parametrize("who", ["alice", "reviewer", "staff", "admin_user"])
def test_no_bad_value_anywhere_is_a_server_error(request, open_site, ids, who):
    user = request.getfixturevalue(who)
    client = Client()
    wrong = []
    for route in [*ROUTES, *admin_routes()]:
        client.force_login(user)  # a route may have signed the user out (the log-in page)
        wrong += throw_everything(client, route, ids)
    assert not wrong


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/c/{conversation}/update/", {"title": "a\x00b"}),
        ("/m/{reply}/feedback/", {"rating": "1", "comment": "a\x00b"}),
        ("/c/search.json", {"q": "a\x00b"}),
    ],
)
def test_nul_in_text_is_refused_with_a_400(client, alice, ids, path, data):
    client.force_login(alice)
    method = client.get if path.endswith(".json") else client.post
    assert method(fill(path, ids), data).status_code == 400


@pytest.mark.parametrize("value", ["²", "٣", "99999999999999999999", "\x00"])
def test_a_bad_message_id_for_a_branch_is_a_404(client, alice, ids, value):
    client.force_login(alice)
    assert client.post(fill("/c/{conversation}/branch/", ids), {"message": value}).status_code == 404


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1969-12", "9001-01"])
def test_a_month_off_the_calendar_shows_this_month(client, admin_user, month):
    client.force_login(admin_user)
    this_month = client.get("/usage/team/").context["month"]
    for url in ("/usage/", "/usage/team/"):
        response = client.get(url, {"month": month})
        assert response.status_code == 200 and response.context["month"] == this_month


@pytest.mark.parametrize(
    ("field", "value"), [("until", "9999-12-31"), ("since", "0001-01-01"), ("user", "\x00")]
)
def test_review_filters_off_the_calendar_are_reported_like_any_bad_filter(client, reviewer, field, value):
    client.force_login(reviewer)
    response = client.get(reverse("review:list"), {field: value})
    assert response.status_code == 200 and response.context["form"].errors[field]


@pytest.mark.parametrize("value", ["²", "٣", "99999999999999999999"])
def test_an_export_of_bad_ids_says_what_is_wrong(client, reviewer, ids, value):
    client.force_login(reviewer)
    response = client.post("/review/export/", {"ids": [ids["conversation"], value], "format": "json"})
    assert response.status_code == 302 and response["Location"] == "/review/"
