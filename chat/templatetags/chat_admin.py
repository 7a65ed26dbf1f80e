"""The admin's front page: the state of the site in four lines."""

from django import template

from chat.models import ApiKey, ChatModel, SiteSettings

register = template.Library()


@register.simple_tag
def site_status() -> dict:
    found = ApiKey.objects.by_encryption()
    return {
        "team_key": ApiKey.objects.filter(is_team=True).first(),
        "enabled": ChatModel.objects.filter(enabled=True).count(),
        "total": ChatModel.objects.count(),
        "missing": ChatModel.objects.filter(enabled=True, missing_upstream=True).count(),
        "default": ChatModel.default(),
        "older": len(found["older"]),
        "unreadable": len(found["unreadable"]),
        "settings": SiteSettings.current(),
    }
