"""Admin for keys and the model catalogue; keys are write-only and shown masked."""

from django import forms
from django.contrib import admin
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from chat.models import ApiKey, ChatModel


class ApiKeyForm(forms.ModelForm):
    secret = forms.CharField(
        label="API key",
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Write-only: the stored key is never shown. Leave empty to keep it.",
    )
    team = forms.BooleanField(required=False, label="Team key", help_text="Used by members who have no key.")

    class Meta:
        model = ApiKey
        fields = ["user"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not data.get("secret"):
            raise forms.ValidationError("Enter the API key.")
        if data.get("team") == bool(data.get("user")):
            raise forms.ValidationError("Choose a user, or tick Team key (not both).")
        return data

    def save(self, commit=True):
        key = super().save(commit=False)
        key.is_team = bool(self.cleaned_data.get("team"))
        if self.cleaned_data.get("secret"):
            key.set_secret(self.cleaned_data["secret"])
        if commit:
            key.save()
        return key


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["__str__", "masked", "created", "last_used"]
    readonly_fields = ["masked", "created", "last_used"]

    @method_decorator(sensitive_post_parameters("secret"))
    def changeform_view(self, request, *args, **kwargs):
        return super().changeform_view(request, *args, **kwargs)


@admin.register(ChatModel)
class ChatModelAdmin(admin.ModelAdmin):
    list_display = ["name", "label", "enabled", "is_default", "is_reasoning", "sort_order"]
    list_editable = ["enabled", "sort_order"]
    list_filter = ["enabled", "is_reasoning"]
    search_fields = ["name", "label"]


from chat import admin_review  # noqa: E402, F401  (review registers its own models)
