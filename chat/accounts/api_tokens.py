"""The settings page's API tokens: the form of a new one, and what the page shows of them."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat.models import ApiToken, Preferences

LONGEST_LIFE = dt.timedelta(days=3650)


class ApiTokenForm(forms.Form):
    """A new token's name and optional expiry date."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. the script or editor plugin that uses it."),
    )
    expires = forms.DateField(
        label=gettext_lazy("Expires"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Optional: the token stops working on this day. Empty: never."),
    )

    def clean_expires(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires")
        if day is None:
            return None
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        if moment <= timezone.now():
            raise forms.ValidationError(_("Choose a day after today."))
        if moment - timezone.now() > LONGEST_LIFE:
            raise forms.ValidationError(_("Choose a day within ten years."))
        return moment


def context_of(user, form: ApiTokenForm | None = None) -> dict:
    """What the settings page shows of the member's tokens."""
    return {
        "api_tokens": list(ApiToken.objects.of(user)),
        "may_create_tokens": ApiToken.may_create(user),
        "token_form": form or ApiTokenForm(),
        "hide_api_conversations": Preferences.of(user).hide_api_conversations,
    }
