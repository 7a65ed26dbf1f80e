from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

# A member's own key whose last test failed: every page says so and leads to the settings page.
FAILED_CHECKS = ("rejected", "unreadable")


def _failed_own_key(request: HttpRequest):
    from chat.models import ApiKey

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return ApiKey.objects.filter(user=user, check_result__in=FAILED_CHECKS).first()


def site(request: HttpRequest) -> dict:
    from chat.models import SiteSettings

    # Lazy: only the pages that show a switch (the log-in page's sign-up link) read it.
    return {
        "demo": settings.TOKENOFF_DEMO,
        "review_enabled": settings.TOKENOFF_REVIEW_ENABLED,
        "site_settings": SimpleLazyObject(SiteSettings.current),
        # Lazy too: read by base.html's notice on a signed-in member's pages only.
        "failed_own_key": SimpleLazyObject(lambda: _failed_own_key(request)),
    }
