"""Template tags of review that other pages show: the notice telling users review is on."""

from django import template

from chat.models import ReviewNotice

register = template.Library()


@register.inclusion_tag("review/notice.html")
def review_notice() -> dict:
    return {"text": ReviewNotice.current_text()}
