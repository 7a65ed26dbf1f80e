"""The forms of the member's pages: their key, their preferences, a conversation's settings, sign-up."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from chat.models import ApiKey, ChatModel, Conversation, Preferences


class SecretField(forms.CharField):
    """A key typed in once: never rendered back, stripped, and refused when it cannot be one."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("API key"))
        kwargs.setdefault("max_length", 500)
        # render_value=False: a form shown again after an error never holds the key.
        super().__init__(
            widget=forms.PasswordInput(
                render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
            ),
            strip=True,
            **kwargs,
        )

    @sensitive_variables()
    def clean(self, value):
        value = super().clean(value)
        if value and (any(c.isspace() for c in value) or len(value) < 8):
            raise forms.ValidationError(
                _("That does not look like an API key: paste the whole key, no spaces.")
            )
        return value


class ApiKeyForm(forms.Form):
    """A member sets or replaces their own key."""

    secret = SecretField(
        help_text=_("Stored encrypted and never shown again: only its last four characters.")
    )

    @sensitive_variables()
    def save(self, user) -> ApiKey:
        secret = self.cleaned_data["secret"]
        return ApiKey.store(secret, user=user)


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["default_model", "system_prompt"]
        widgets = {"system_prompt": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["default_model"]
        field.queryset = ChatModel.objects.usable_by(user)
        field.empty_label = _("The site's default")
        self.fields["system_prompt"].max_length = settings.TOKENOFF_MAX_CONTENT


class ConversationSettingsForm(forms.ModelForm):
    """A conversation's own model and system prompt; a field left out of the request is left alone."""

    model = forms.ChoiceField(required=False)

    class Meta:
        model = Conversation
        fields = ["system_prompt"]

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [(m.name, m.label) for m in ChatModel.objects.usable_by(user)]
        self.fields["system_prompt"].max_length = settings.TOKENOFF_MAX_CONTENT
        for name in list(self.fields):
            if name not in self.data:
                del self.fields[name]

    def save(self, commit: bool = True) -> Conversation:
        conversation = super().save(commit=False)
        if self.cleaned_data.get("model"):
            conversation.model = self.cleaned_data["model"]
        if commit:
            conversation.save(update_fields=["model", "system_prompt"])
        return conversation


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ["username", "email"]
