"""Who may do what in the admin: actions, buttons, invitations and the powers of an account."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core import mail

from chat.models import ChatModel

pytestmark = pytest.mark.django_db

PASSWORD = "staff-password-1"


def permissions(*names: str) -> list[Permission]:
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def staff_member(username: str, *names: str, groups=()) -> User:
    user = User.objects.create_user(
        username, email=f"{username}@example.com", password=PASSWORD, is_staff=True
    )
    user.user_permissions.set(permissions(*names))
    user.groups.set(groups)
    return user


def member(username: str, groups=(), **fields) -> User:
    user = User.objects.create_user(username, email=f"{username}@example.com", password=PASSWORD, **fields)
    user.groups.set(groups)
    return user


def group(name: str, *names: str) -> Group:
    made = Group.objects.create(name=name)
    made.permissions.set(permissions(*names))
    return made


@pytest.fixture
def viewer(client):
    """A staff member who may look at users, models and keys, and change nothing."""
    user = staff_member(
        "viola", "auth.view_user", "auth.view_group", "chat.view_chatmodel", "chat.view_apikey"
    )
    client.force_login(user)
    return client


@pytest.fixture
def manager_user():
    return staff_member("manny", "auth.view_user", "auth.add_user", "auth.change_user", "auth.view_group")


@pytest.fixture
def manager(client, manager_user):
    """A staff member who may add and change users, and nothing more."""
    client.force_login(manager_user)
    return client


@pytest.fixture
def reviewers():
    """The group a migration makes: members read everyone's conversations."""
    made, _ = Group.objects.get_or_create(name="Reviewers")
    made.permissions.set(permissions("chat.review_conversation"))
    return made


def run_action(client, url: str, action: str, *objects):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects]}
    return client.post(url, data, follow=True)


def shown(response) -> str:
    """What the page says: its messages and its body."""
    notes = " ".join(str(message) for message in response.context["messages"]) if response.context else ""
    return notes + response.content.decode()


def user_form(user: User, **changes) -> dict:
    """The user change form as the admin posts it, with some fields changed."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "09:00:00",
        "groups": [g.pk for g in user.groups.all()],
    }
    return data | changes


# A staff member with view permissions only ----------------------------------------------------


def test_view_only_staff_are_offered_no_action_and_no_button(viewer, team_key):
    users = viewer.get("/admin/auth/user/").content.decode()
    models = viewer.get("/admin/chat/chatmodel/").content.decode()
    keys = viewer.get("/admin/chat/apikey/").content.decode()
    key_page = viewer.get(f"/admin/chat/apikey/{team_key.pk}/change/").content.decode()
    for action in ["send_invitations", "deactivate", "activate"]:
        assert f'value="{action}"' not in users
    for action in ["enable_models", "disable_models", "make_default"]:
        assert f'value="{action}"' not in models
    assert 'value="test_keys"' not in keys
    assert "/admin/chat/chatmodel/sync/" not in models
    assert "/admin/chat/apikey/rotate/" not in keys and "/admin/chat/apikey/add/" not in keys
    assert f"/admin/chat/apikey/{team_key.pk}/test/" not in key_page


def test_view_only_staff_cannot_invite_anyone_not_even_the_superuser(viewer, admin_user, alice, settings):
    settings.TOKENOFF_SEND_EMAIL = True
    response = run_action(viewer, "/admin/auth/user/", "send_invitations", admin_user, alice)
    assert "Invitation link" not in shown(response) and "/accounts/invitation/" not in shown(response)
    assert mail.outbox == []


def test_view_only_staff_cannot_deactivate_or_activate(viewer, alice, bob):
    bob.is_active = False
    bob.save()
    run_action(viewer, "/admin/auth/user/", "deactivate", alice)
    run_action(viewer, "/admin/auth/user/", "activate", bob)
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.is_active and not bob.is_active


def test_view_only_staff_cannot_switch_models_or_choose_the_default(viewer):
    off, on = ChatModel.objects.filter(is_default=False)[:2]
    ChatModel.objects.filter(pk=off.pk).update(enabled=False)
    ChatModel.objects.filter(pk=on.pk).update(enabled=True)
    default = ChatModel.default()
    run_action(viewer, "/admin/chat/chatmodel/", "enable_models", off)
    run_action(viewer, "/admin/chat/chatmodel/", "disable_models", on)
    run_action(viewer, "/admin/chat/chatmodel/", "make_default", on)
    off.refresh_from_db()
    on.refresh_from_db()
    assert not off.enabled and on.enabled and not on.is_default
    assert ChatModel.default() == default


def test_view_only_staff_cannot_test_a_key(viewer, team_key, fake):
    run_action(viewer, "/admin/chat/apikey/", "test_keys", team_key)
    assert viewer.post(f"/admin/chat/apikey/{team_key.pk}/test/").status_code == 403
    team_key.refresh_from_db()
    assert team_key.checked is None and fake.requests == []


def test_sync_and_rotation_need_change_permission(client, team_key, fake):
    adder = staff_member(
        "ada", "chat.view_chatmodel", "chat.add_chatmodel", "chat.view_apikey", "chat.add_apikey"
    )
    client.force_login(adder)
    assert client.post("/admin/chat/chatmodel/sync/").status_code == 403
    assert client.post("/admin/chat/apikey/rotate/").status_code == 403
    assert fake.requests == []


def test_staff_who_may_change_keys_test_them(client, team_key, fake):
    client.force_login(staff_member("kim", "chat.view_apikey", "chat.change_apikey"))
    response = client.post(f"/admin/chat/apikey/{team_key.pk}/test/", follow=True)
    assert response.status_code == 200
    team_key.refresh_from_db()
    assert team_key.checked is not None


# A staff member who may change users ----------------------------------------------------------


def test_a_user_manager_cannot_invite_a_superuser_or_staff(manager, admin_user, alice, settings):
    settings.TOKENOFF_SEND_EMAIL = True
    alice.email = "alice@example.com"
    alice.save()
    admin_user.email = "admin@example.com"
    admin_user.save()
    colleague = staff_member("cole", "auth.view_user")
    response = run_action(manager, "/admin/auth/user/", "send_invitations", admin_user, colleague, alice)
    page = shown(response)
    assert "Invitation link for alice" in page
    assert "Invitation link for admin" not in page and "Invitation link for cole" not in page
    assert "No invitation for admin, cole" in page or "No invitation for cole, admin" in page
    assert [sent.to for sent in mail.outbox] == [["alice@example.com"]]


def test_a_superuser_invites_staff_and_superusers(admin_client, settings):
    other = User.objects.create_superuser("root2", "root2@example.com", PASSWORD)
    colleague = staff_member("cole", "auth.view_user")
    page = shown(run_action(admin_client, "/admin/auth/user/", "send_invitations", other, colleague))
    assert "Invitation link for root2" in page and "Invitation link for cole" in page


def test_a_user_manager_cannot_touch_a_superuser(manager, admin_user):
    admin_user.refresh_from_db()
    before = admin_user.password
    assert manager.get(f"/admin/auth/user/{admin_user.pk}/password/").status_code == 403
    changed = {
        "password1": "Taken-0ver-passw0rd",
        "password2": "Taken-0ver-passw0rd",
        "usable_password": "true",
    }
    assert manager.post(f"/admin/auth/user/{admin_user.pk}/password/", changed).status_code == 403
    form = user_form(admin_user, email="attacker@example.com", is_superuser="on", is_staff="on")
    assert manager.post(f"/admin/auth/user/{admin_user.pk}/change/", form).status_code == 403
    run_action(manager, "/admin/auth/user/", "deactivate", admin_user)
    admin_user.refresh_from_db()
    assert admin_user.password == before and admin_user.email != "attacker@example.com"
    assert admin_user.is_active


def test_a_user_manager_cannot_delete_a_superuser(client, admin_user):
    client.force_login(staff_member("dee", "auth.view_user", "auth.change_user", "auth.delete_user"))
    assert client.get(f"/admin/auth/user/{admin_user.pk}/delete/").status_code == 403
    client.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [admin_user.pk], "post": "yes"}
    )
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_a_user_manager_makes_nobody_staff_or_superuser(manager, manager_user, alice):
    everything = [p.pk for p in Permission.objects.all()]
    grab = {"is_superuser": "on", "is_staff": "on", "user_permissions": everything}
    assert manager.post(f"/admin/auth/user/{alice.pk}/change/", user_form(alice, **grab)).status_code == 302
    assert (
        manager.post(
            f"/admin/auth/user/{manager_user.pk}/change/", user_form(manager_user, **grab)
        ).status_code
        == 302
    )
    alice, manager_user = User.objects.get(pk=alice.pk), User.objects.get(pk=manager_user.pk)
    assert not (alice.is_superuser or alice.is_staff or alice.user_permissions.exists())
    assert not manager_user.is_superuser
    held = {"auth.view_user", "auth.add_user", "auth.change_user", "auth.view_group"}
    assert manager_user.get_all_permissions() == held


def test_a_user_manager_gives_only_groups_whose_permissions_they_hold(
    manager, manager_user, alice, reviewers
):
    research = group("Research")
    page = manager.get(f"/admin/auth/user/{alice.pk}/change/").content.decode()
    assert "Research" in page and "Reviewers" not in page
    response = manager.post(f"/admin/auth/user/{alice.pk}/change/", user_form(alice, groups=[reviewers.pk]))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = manager.post(
        f"/admin/auth/user/{manager_user.pk}/change/", user_form(manager_user, groups=[reviewers.pk])
    )
    assert response.status_code == 200
    assert not alice.groups.exists() and not manager_user.groups.exists()
    assert (
        manager.post(
            f"/admin/auth/user/{alice.pk}/change/", user_form(alice, groups=[research.pk])
        ).status_code
        == 302
    )
    assert list(alice.groups.all()) == [research]


def test_a_user_manager_adds_a_member_but_not_a_reviewer(manager, reviewers):
    research = group("Research")
    data = {"username": "carol", "email": "", "usable_password": "false", "groups": [reviewers.pk]}
    response = manager.post("/admin/auth/user/add/", data, follow=True)
    assert not User.objects.filter(username="carol").exists()
    assert "Invitation link" not in shown(response)
    response = manager.post("/admin/auth/user/add/", data | {"groups": [research.pk]}, follow=True)
    carol = User.objects.get(username="carol")
    assert list(carol.groups.all()) == [research] and not carol.is_staff
    assert "Invitation link for carol" in shown(response)


def test_a_user_manager_cannot_take_over_a_member_with_more_permissions(manager, reviewers):
    dave = member("dave", groups=[reviewers])
    page = shown(run_action(manager, "/admin/auth/user/", "send_invitations", dave))
    assert "Invitation link for dave" not in page and "No invitation for dave" in page
    assert manager.get(f"/admin/auth/user/{dave.pk}/password/").status_code == 403
    # Deactivated, the account holds its powers still: activating it is a superuser's call too.
    dave.is_active = False
    dave.save()
    run_action(manager, "/admin/auth/user/", "activate", dave)
    dave.refresh_from_db()
    assert not dave.is_active


def test_a_user_manager_still_manages_members(manager, alice, bob):
    page = shown(run_action(manager, "/admin/auth/user/", "send_invitations", alice))
    assert "Invitation link for alice" in page
    run_action(manager, "/admin/auth/user/", "deactivate", alice, bob)
    assert not User.objects.filter(pk__in=[alice.pk, bob.pk], is_active=True).exists()
    run_action(manager, "/admin/auth/user/", "activate", alice)
    assert User.objects.get(pk=alice.pk).is_active


# Groups ---------------------------------------------------------------------------------------


def group_form(name: str, *perms: Permission) -> dict:
    return {
        "name": name,
        "permissions": [p.pk for p in perms],
        "model_limit-TOTAL_FORMS": "0",
        "model_limit-INITIAL_FORMS": "0",
    }


def test_a_group_editor_grants_no_permission_they_lack(client, reviewers):
    editors = group("Editors", "auth.view_group", "auth.change_group")
    client.force_login(staff_member("gina", groups=[editors]))
    raise_to = [*editors.permissions.all(), *permissions("auth.change_user", "chat.review_conversation")]
    response = client.post(f"/admin/auth/group/{editors.pk}/change/", group_form("Editors", *raise_to))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert set(editors.permissions.values_list("codename", flat=True)) == {"view_group", "change_group"}
    # A group holding more than its editor is out of reach altogether.
    kept = group_form("Reviewers", *reviewers.permissions.all(), *permissions("auth.change_user"))
    assert client.post(f"/admin/auth/group/{reviewers.pk}/change/", kept).status_code == 403
    assert list(reviewers.permissions.values_list("codename", flat=True)) == ["review_conversation"]
