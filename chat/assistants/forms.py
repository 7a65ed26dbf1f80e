"""The assistant form: name, icon, model, system prompt, the model's parameters, and who sees it."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from chat.conversations import parameters
from chat.models import Assistant, ChatModel

ICON_LENGTH = 8  # an emoji with its modifiers, or two or three letters


class AssistantForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    icon = forms.CharField(
        label=_("Icon"), max_length=ICON_LENGTH, required=False, help_text=_("An emoji or up to 3 letters.")
    )
    model = forms.ChoiceField(label=_("Model"))
    system_prompt = forms.CharField(
        label=_("System prompt"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    temperature = forms.CharField(
        label=_("Temperature"), required=False, help_text=_("0 to 2; empty: the default.")
    )
    reasoning_effort = forms.CharField(
        label=_("Reasoning effort"), required=False, help_text=_("For reasoning models, e.g. low or high.")
    )
    max_tokens = forms.CharField(label=_("Longest reply (tokens)"), required=False)
    visibility = forms.ChoiceField(label=_("Shared with"), choices=Assistant.Visibility.choices)
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups"), queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    retired = forms.BooleanField(
        label=_("Retired"), required=False, help_text=_("Out of the picker and the gallery of others; kept.")
    )

    def __init__(self, *args, user, instance: Assistant | None = None, **kwargs) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{field: getattr(instance, field) for field in ("name", "icon", "model", "system_prompt")},
                **{key: instance.parameters.get(key, "") for key in parameters.KEYS},
                "visibility": instance.visibility,
                "groups": list(instance.groups.all()),
                "retired": instance.retired,
            }
        super().__init__(*args, **kwargs)
        self.user, self.instance = user, instance
        if instance is None:
            del self.fields["retired"]  # a new assistant is not retired
        models = [(m.name, m.label) for m in ChatModel.objects.usable_by(user)]
        if instance is not None and instance.model not in {name for name, _label in models}:
            # Kept as it is: an edit of the name alone must not be refused for a model the editor lacks.
            models.append((instance.model, instance.model))
        self.fields["model"].choices = models
        self.fields["system_prompt"].max_length = settings.TOKENOFF_MAX_CONTENT
        # A member shares with the groups they are in; an admin with any.
        self.fields["groups"].queryset = Group.objects.all() if user.is_superuser else user.groups.all()

    def clean_icon(self) -> str:
        icon = self.cleaned_data["icon"].strip()
        if any(character.isspace() or character in "<>&\"'" for character in icon):
            raise forms.ValidationError(_("An icon is an emoji or a few letters, without spaces."))
        return icon

    def clean(self) -> dict:
        data = super().clean()
        data["parameters"] = self.instance.parameters if self.instance else {}
        model = ChatModel.objects.filter(name=data.get("model")).first()
        if model is not None:
            given = {key: data.get(key, "") for key in parameters.KEYS}
            try:
                data["parameters"] = parameters.parse(model, given)
            except parameters.Invalid as invalid:
                self.add_error(invalid.field, invalid.message)
        if data.get("visibility") == Assistant.Visibility.GROUPS and not data.get("groups"):
            self.add_error("groups", _("Choose at least one group to share with."))
        return data

    def shares(self) -> bool:
        """Whether the assistant would be seen beyond its owner: publish_assistant's business."""
        return (
            self.cleaned_data.get("visibility", Assistant.Visibility.PERSONAL)
            != Assistant.Visibility.PERSONAL
        )

    def save(self, assistant: Assistant) -> Assistant:
        """Apply the form and record the result as the assistant's next version."""
        data = self.cleaned_data
        for field in ("name", "icon", "model", "system_prompt", "visibility", "parameters"):
            setattr(assistant, field, data[field])
        assistant.retired = data.get("retired", False)
        assistant.save_version(self.user, groups=list(data["groups"]))
        return assistant
