"""The admin as part of the product: axes' records for superusers only, its names in Chinese."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.utils import translation
from django.utils.text import capfirst

pytestmark = pytest.mark.django_db

AXES_PAGES = ["/admin/axes/accessattempt/", "/admin/axes/accessfailurelog/", "/admin/axes/accesslog/"]


def app_labels(response) -> set[str]:
    return {app["app_label"] for app in response.context["app_list"]}


@pytest.fixture
def attempt():
    return AccessAttempt.objects.create(
        username="mallory", ip_address="10.0.0.5", user_agent="curl", path_info="/accounts/login/",
        failures_since_start=3, get_data="", post_data="", http_accept="*/*",
    )  # fmt: skip


@pytest.fixture
def axes_holder(client):
    """Staff, not a superuser, holding every one of axes' permissions (as a generous group would give)."""
    user = User.objects.create_user("warden", password="warden-password-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="axes"))
    assert user.has_perm("axes.view_accessattempt") and user.has_perm("axes.delete_accesslog")
    client.force_login(user)
    return client


def test_staff_without_superuser_never_see_axes_whatever_their_permissions(axes_holder, attempt):
    index = axes_holder.get("/admin/")
    assert index.status_code == 200
    assert "axes" not in app_labels(index) and "/admin/axes/" not in index.content.decode()
    for path in AXES_PAGES:
        assert axes_holder.get(path).status_code == 403, path
    assert axes_holder.get(f"/admin/axes/accessattempt/{attempt.pk}/change/").status_code == 403
    delete = axes_holder.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert axes_holder.get("/admin/axes/").status_code == 404
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_superusers_keep_the_axes_section(admin_client, attempt):
    index = admin_client.get("/admin/")
    assert "axes" in app_labels(index)
    for path in AXES_PAGES:
        assert admin_client.get(path).status_code == 200, path
    assert "mallory" in admin_client.get(AXES_PAGES[0]).content.decode()
    assert admin_client.get("/admin/axes/").status_code == 200


def chat_names() -> list:
    """The chat section's name and every one of its models' names, as the admin's front page lists them."""
    models = [model for model in admin.site._registry if model._meta.app_label == "chat"]
    return [admin.site._registry[models[0]].opts.app_config.verbose_name] + [
        model._meta.verbose_name_plural for model in models
    ]


def test_the_chat_section_and_its_models_are_named_in_chinese(admin_client):
    """Passes once locale/zh_Hans has these names (the lead's translation): each must be translated."""
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = admin_client.get("/admin/").content.decode()
    with translation.override("zh-hans"):
        chinese = [capfirst(str(name)) for name in chat_names()]
    with translation.override("en"):
        english = [capfirst(str(name)) for name in chat_names()]
    untranslated = [name for name, translated in zip(english, chinese, strict=True) if name == translated]
    assert untranslated == [], f"not in the zh-hans catalogue: {untranslated}"
    for name in chinese:
        assert f">{name}<" in page, name


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/chat/budget/add/", "/admin/password_change/", "/admin/password_change/done/"]
)
def test_every_admin_page_has_the_sites_top_bar_and_its_one_theme_switch(admin_client, path):
    page = admin_client.get(path).content.decode()
    assert 'class="back-to-chat" href="/"' in page and 'class="brand-mark"' in page
    assert page.count('id="theme-select"') == 1 and page.count('name="language"') == 1
    assert "theme-toggle" not in page and "admin/js/theme.js" not in page  # Django's own switch: none
    assert page.index("chat/theme.js") < page.index("<body")  # the theme is set before the first paint


def test_the_log_in_page_has_the_switches_too(client):
    page = client.get("/admin/login/?next=/admin/").content.decode()
    assert page.count('id="theme-select"') == 1 and "theme-toggle" not in page
