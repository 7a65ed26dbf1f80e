"""django-axes' records of log-ins (attempts, failures, logs): for superusers only.

They name people and their addresses and can lift a lockout, so staff without superuser status neither
see the section on the front page nor reach its pages (403), whatever permissions a group grants them.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class SuperusersOnly:
    """Mixed into axes' own ModelAdmins: every permission also needs a superuser."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


def keep_to_superusers(site: admin.AdminSite) -> None:
    """Register axes' models again, each with its own ModelAdmin made superusers-only; name the section."""
    # axes' AppConfig has no verbose_name, so the front page said "Axes", in every language.
    apps.get_app_config("axes").verbose_name = _("Log-in records")
    import axes.admin  # noqa: F401  (registers its models, if AXES_ENABLE_ADMIN; chat comes after axes anyway)
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        if not site.is_registered(model):
            continue
        model_admin = type(site.get_model_admin(model))
        site.unregister(model)
        site.register(model, type(f"SuperusersOnly{model_admin.__name__}", (SuperusersOnly, model_admin), {}))


keep_to_superusers(admin.site)
