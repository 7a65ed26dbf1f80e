"""The rules that live on the models: who may use which model, parameter profiles, the catalogue, keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from chat.models import ApiKey, ChatModel, Conversation, Message, ModelLimit, Preferences, UnreadableKeys
from tests.conftest import CANARY_KEY

pytestmark = pytest.mark.django_db


def names(queryset) -> list[str]:
    return list(queryset.values_list("name", flat=True))


def group(name: str, *members) -> Group:
    created = Group.objects.create(name=name)
    created.user_set.add(*members)
    return created


def limit(to: Group, *model_names: str) -> ModelLimit:
    created = ModelLimit.objects.create(group=to)
    created.allowed_models.set(ChatModel.objects.filter(name__in=model_names))
    return created


# Access ----------------------------------------------------------------------------------------


def test_everyone_may_use_every_enabled_model_by_default(alice):
    ChatModel.objects.filter(name="gpt-4o").update(enabled=False)
    usable = names(ChatModel.objects.usable_by(alice))
    assert len(usable) == 23 and "gpt-4o" not in usable
    assert usable == names(ChatModel.objects.filter(enabled=True))  # in the catalogue's order


def test_a_model_kept_for_a_group_is_for_its_members_only(alice, bob):
    research = group("Research", alice)
    ChatModel.objects.get(name="o3").groups.add(research)
    assert "o3" in names(ChatModel.objects.usable_by(alice))
    assert "o3" not in names(ChatModel.objects.usable_by(bob))
    assert "gpt-4.1" in names(ChatModel.objects.usable_by(bob))


def test_a_limited_group_may_use_only_its_models(alice, bob):
    limit(group("Interns", alice), "o3")
    assert names(ChatModel.objects.usable_by(alice)) == ["o3"]
    assert len(names(ChatModel.objects.usable_by(bob))) == 24


def test_what_groups_allow_adds_up(alice):
    limit(group("Interns", alice), "o3")
    limit(group("Writers", alice), "gpt-4.1")
    assert sorted(names(ChatModel.objects.usable_by(alice))) == ["gpt-4.1", "o3"]
    group("Everyone", alice)  # a group without a limit lifts the limits
    assert len(names(ChatModel.objects.usable_by(alice))) == 24


def test_a_limit_does_not_open_a_disabled_model_or_one_kept_for_another_group(alice):
    ChatModel.objects.filter(name="o3").update(enabled=False)
    ChatModel.objects.get(name="o4-mini").groups.add(group("Research"))
    limit(group("Interns", alice), "o3", "o4-mini", "gpt-4o")
    assert names(ChatModel.objects.usable_by(alice)) == ["gpt-4o"]


def test_a_send_gets_the_model_asked_for_or_the_users_default(alice):
    assert ChatModel.for_send(alice, None).name == "gpt-4.1"
    Preferences.objects.create(user=alice, default_model=ChatModel.objects.get(name="gpt-4o-mini"))
    assert ChatModel.for_send(alice, None).name == "gpt-4o-mini"
    assert ChatModel.for_send(alice, "o3").name == "o3"
    assert ChatModel.for_send(alice, "no-such-model") is None


def test_a_default_the_user_may_no_longer_use_falls_back_to_the_sites(alice):
    Preferences.objects.create(user=alice, default_model=ChatModel.objects.get(name="o3"))
    limit(group("Interns", alice), "gpt-4.1", "gpt-4o")
    assert ChatModel.for_send(alice, None).name == "gpt-4.1"
    assert ChatModel.for_send(alice, "o3") is None


# Parameter profiles -------------------------------------------------------------------------


def test_a_reasoning_model_refuses_a_temperature_and_a_chat_model_a_reasoning_effort():
    o3 = ChatModel.objects.get(name="o3")
    o3.temperature = 0.5
    with pytest.raises(ValidationError) as refused:
        o3.full_clean()
    assert "temperature" in refused.value.message_dict
    gpt = ChatModel.objects.get(name="gpt-4.1")
    gpt.reasoning_effort = "high"
    with pytest.raises(ValidationError) as refused:
        gpt.full_clean()
    assert "reasoning_effort" in refused.value.message_dict


def test_minimal_effort_only_for_the_first_gpt5_models():
    for name, allowed in [("gpt-5", True), ("gpt-5-mini", True), ("gpt-5.1", False), ("o3", False)]:
        model = ChatModel.objects.get(name=name)
        model.reasoning_effort = "minimal"
        if allowed:
            model.full_clean()
        else:
            with pytest.raises(ValidationError):
                model.full_clean()


def test_choosing_a_new_default_retires_the_old_one():
    o3 = ChatModel.objects.get(name="o3")
    o3.is_default = True
    o3.save()
    assert list(ChatModel.objects.filter(is_default=True)) == [o3]
    assert ChatModel.default() == o3


def test_the_default_model_must_stay_enabled():
    default = ChatModel.objects.get(is_default=True)
    default.enabled = False
    with pytest.raises(ValidationError, match="must be enabled"):
        default.full_clean()


# The catalogue and the upstream ------------------------------------------------------------


def test_sync_adds_new_models_disabled_with_a_guessed_profile_and_flags_the_missing():
    listed = [n for n in names(ChatModel.objects.all()) if n != "o3-pro"] + ["o5-preview", "gpt-6-chat"]
    result = ChatModel.sync(listed)
    assert result.added == ["o5-preview", "gpt-6-chat"] and result.missing == ["o3-pro"]
    new = ChatModel.objects.get(name="o5-preview")
    assert not new.enabled and new.is_reasoning and new.label == "o5-preview"
    assert not ChatModel.objects.get(name="gpt-6-chat").is_reasoning
    assert new.sort_order > ChatModel.objects.get(name="gpt-5.1-codex-mini").sort_order
    assert ChatModel.objects.get(name="o3-pro").missing_upstream
    # Listed again: the flag goes.
    assert ChatModel.sync([*listed, "o3-pro"]).missing == []
    assert not ChatModel.objects.get(name="o3-pro").missing_upstream


# Conversations ------------------------------------------------------------------------------


def test_the_system_prompt_goes_first_in_the_history(alice):
    conversation = Conversation.objects.create(owner=alice, model="gpt-4.1", system_prompt="Be brief.")
    hi = Message.objects.create(conversation=conversation, role="user", content="Hi")
    Message.objects.create(conversation=conversation, parent=hi, role="assistant", content="Hello")
    assert conversation.upstream_messages() == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ]
    conversation.system_prompt = ""
    assert conversation.upstream_messages()[0] == {"role": "user", "content": "Hi"}


# Keys ---------------------------------------------------------------------------------------


def test_a_replaced_key_forgets_the_check_of_the_old_one(team_key):
    ApiKey.objects.filter(pk=team_key.pk).update(check_result="ok", check_detail="fine")
    replaced = ApiKey.store("sk-new-team-key-5678")
    assert replaced.pk == team_key.pk and replaced.check_result == "" and replaced.checked is None
    assert replaced.last4 == "5678" and replaced.reveal() == "sk-new-team-key-5678"


def test_keys_are_told_apart_by_the_encryption_key_that_opens_them(settings, team_key, alice):
    old = settings.TOKENOFF_ENCRYPTION_KEYS[0]
    settings.TOKENOFF_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    mine = ApiKey.store("sk-alice-key-0000", user=alice)
    found = ApiKey.objects.by_encryption()
    assert found == {"current": [mine], "older": [team_key], "unreadable": []}
    settings.TOKENOFF_ENCRYPTION_KEYS = settings.TOKENOFF_ENCRYPTION_KEYS[:1]
    assert ApiKey.objects.by_encryption()["unreadable"] == [team_key]


def test_rotation_is_all_or_nothing(settings, team_key, alice):
    mine = ApiKey.store("sk-alice-key-0000", user=alice)
    settings.TOKENOFF_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    before = dict(ApiKey.objects.values_list("pk", "encrypted"))
    with pytest.raises(UnreadableKeys) as unreadable:
        ApiKey.objects.rotate()
    assert {key.pk for key in unreadable.value.keys} == {team_key.pk, mine.pk}
    assert f"#{team_key.pk} (Team key)" in str(unreadable.value) and CANARY_KEY not in str(unreadable.value)
    assert dict(ApiKey.objects.values_list("pk", "encrypted")) == before
