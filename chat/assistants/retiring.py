"""Retiring models in one admin step: the models are disabled and their assistants move to a replacement.

So that members keep the assistants shared with them when a model goes (the failure of LibreChat #28181:
non-admins lost the model behind a shared preset), each moved assistant records a new version.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat.models import Assistant, ChatModel


class ReplacementForm(forms.Form):
    replacement = forms.ModelChoiceField(
        label=gettext_lazy("Move their assistants to"), queryset=ChatModel.objects.none()
    )

    def __init__(self, *args, retiring, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["replacement"].queryset = ChatModel.objects.filter(enabled=True).exclude(
            pk__in=[model.pk for model in retiring]
        )


def retire_and_move(modeladmin: admin.ModelAdmin, request, queryset):
    """The admin action: the form choosing the replacement, then the move; None goes back to the list."""
    retiring = list(queryset.order_by("name"))
    if any(model.is_default for model in retiring):
        modeladmin.message_user(
            request,
            _("The default model cannot be retired: make another model the default first."),
            messages.ERROR,
        )
        return None
    form = ReplacementForm(request.POST if "apply" in request.POST else None, retiring=retiring)
    if form.is_valid():
        replacement = form.cleaned_data["replacement"]
        with transaction.atomic():
            moved = sum(
                Assistant.move_model(model.name, replacement.name, request.user) for model in retiring
            )
            queryset.model.objects.filter(pk__in=[model.pk for model in retiring]).update(enabled=False)
        words = _("Retired %(models)s; %(count)s assistants now use %(replacement)s.")
        names = ", ".join(model.name for model in retiring)
        modeladmin.message_user(
            request,
            words % {"models": names, "count": moved, "replacement": replacement.name},
            messages.SUCCESS,
        )
        return None
    counts = {model.name: Assistant.objects.filter(model=model.name).count() for model in retiring}
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Retire models and move their assistants"),
        "opts": modeladmin.model._meta,
        "retiring": [(model, counts[model.name]) for model in retiring],
        "form": form,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/chat/chatmodel/retire.html", context)
