"""The settings page: the member's own API key, default model and system prompt; a conversation's settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from chat.accounts import api_tokens
from chat.accounts.forms import ApiKeyForm, ConversationSettingsForm, PreferencesForm
from chat.conversations import parameters
from chat.models import ApiKey, ApiToken, ChatModel, Conversation, Preferences, SiteSettings
from chat.upstream import services

CHECK_LEVELS = {"ok": messages.SUCCESS, "rejected": messages.ERROR}


def _page(
    request: HttpRequest,
    key_form: ApiKeyForm | None = None,
    prefs_form=None,
    status: int = 200,
    token_form=None,
    **shown,
) -> HttpResponse:
    """The settings page; `shown` adds what one answer shows once (a new API token)."""
    user = request.user
    own_key = ApiKey.objects.filter(user=user).first()
    context = {
        "own_key": own_key,
        "team_key": None if own_key else ApiKey.objects.filter(is_team=True).first(),
        "self_service": SiteSettings.current().self_service_keys,
        "key_form": key_form or ApiKeyForm(),
        "prefs_form": prefs_form or PreferencesForm(instance=Preferences.of(user), user=user),
        **api_tokens.context_of(user, token_form),
        **shown,
    }
    return render(request, "chat/settings.html", context, status=status)


def _own_keys_allowed() -> None:
    if not SiteSettings.current().self_service_keys:
        # The page says so; a request that gets here anyway is refused like a missing page.
        raise Http404(_("Members do not manage their own keys on this site."))


@login_required
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
@sensitive_post_parameters("secret")
@sensitive_variables()
def set_key(request: HttpRequest) -> HttpResponse:
    _own_keys_allowed()
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, key_form=form, status=400)
    key = form.save(request.user)
    messages.success(
        request,
        _("Your API key %(key)s is saved. Test it to see if TokenOff takes it.") % {"key": key.masked},
    )
    return redirect("chat:settings")


@login_required
@require_POST
def test_key(request: HttpRequest) -> HttpResponse:
    _own_keys_allowed()
    key = get_object_or_404(ApiKey, user=request.user)
    outcome = services.check_key(key)
    level = CHECK_LEVELS.get(outcome.result, messages.WARNING)
    # The outcome only: the page shows the check's detail under the key, once.
    messages.add_message(
        request,
        level,
        _("Tested %(key)s: %(result)s.") % {"key": key.masked, "result": key.get_check_result_display()},
    )
    return redirect("chat:settings")


@login_required
@require_POST
def delete_key(request: HttpRequest) -> HttpResponse:
    _own_keys_allowed()
    deleted = ApiKey.objects.filter(user=request.user).delete()[0]
    if deleted:
        messages.success(request, _("Your API key is deleted. Your chats now use the team key, if any."))
    return redirect("chat:settings")


@login_required
@require_POST
def save_preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST, instance=Preferences.of(request.user), user=request.user)
    if not form.is_valid():
        return _page(request, prefs_form=form, status=400)
    form.save()
    messages.success(request, _("Your defaults are saved. They apply to new chats."))
    return redirect("chat:settings")


@login_required
@require_POST
def conversation_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """A conversation's model, system prompt and parameters (temperature, reasoning_effort, max_tokens: an
    empty one back to the model's default): JSON for the chat page's script, a redirect without it."""
    conversation = get_object_or_404(Conversation.objects.owned_by(request.user), pk=pk)
    form = ConversationSettingsForm(request.POST, instance=conversation, user=request.user)
    wants_json = "application/json" in request.headers.get("Accept", "")
    valid = form.is_valid()
    chosen = _chosen_parameters(request, conversation, form.cleaned_data.get("model") if valid else None)
    refused = chosen if isinstance(chosen, parameters.Invalid) else None
    if not valid or refused:
        errors = form.errors.get_json_data()
        if refused:
            errors[refused.field] = [{"message": refused.message, "code": "invalid"}]
        if wants_json:
            return JsonResponse({"errors": errors}, status=400)
        messages.error(request, " ".join(e["message"] for field in errors.values() for e in field))
    else:
        conversation = form.save()
        if chosen is not None:
            conversation.parameters = chosen
            conversation.save(update_fields=["parameters"])
    if wants_json:
        saved = {"model": conversation.model, "system_prompt": conversation.system_prompt}
        if chosen is not None:  # the answer to a change of parameters says them
            saved["parameters"] = conversation.parameters
        return JsonResponse(saved)
    return redirect("chat:conversation", pk=conversation.pk)


def _chosen_parameters(request: HttpRequest, conversation: Conversation, model_name: str | None):
    """The conversation's parameters after the request's (None: it gave none), checked against the model
    the conversation will have; a value that model does not take is an Invalid."""
    given = {key: request.POST[key] for key in parameters.KEYS if key in request.POST}
    if not given:
        return None
    model = ChatModel.objects.filter(name=model_name or conversation.model).first()
    if model is None:
        return parameters.Invalid("model", _("This conversation's model is no longer available."))
    try:
        return parameters.parse(model, given, conversation.parameters)
    except parameters.Invalid as invalid:
        return invalid


# API tokens (chat/accounts/api_tokens.py) ------------------------------------------------------


@never_cache
@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    """A new token, shown on the page this once (never kept in a session or a message)."""
    if not ApiToken.may_create(request.user):
        raise PermissionDenied(_("You may not create API tokens. Ask an admin."))
    form = api_tokens.ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, token_form=form, status=400)
    row, token = ApiToken.issue(request.user, form.cleaned_data["name"], form.cleaned_data["expires"])
    return _page(request, new_token=token, new_token_row=row)


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, owner=request.user)
    if token.revoke():
        messages.success(
            request, _("The token %(name)s is revoked: it stops working now.") % {"name": token.name}
        )
    return redirect("chat:settings")


@login_required
@require_POST
def save_api_preferences(request: HttpRequest) -> HttpResponse:
    hide = request.POST.get("hide_api_conversations") == "on"
    Preferences.objects.update_or_create(user=request.user, defaults={"hide_api_conversations": hide})
    messages.success(
        request,
        _("Saved: API conversations are hidden from your sidebar.")
        if hide
        else _("Saved: API conversations are shown in your sidebar."),
    )
    return redirect("chat:settings")
