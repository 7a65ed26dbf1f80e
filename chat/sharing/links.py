"""/shares/: a member's own share links, and everyone's for admins (superusers, holders of view_sharelink);
revoking another member's link needs change_sharelink: seeing is not changing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from chat.models import ShareLink

PER_PAGE = 50


def sees_everyone(user) -> bool:
    """Admins list and revoke every member's links; others only their own."""
    return user.is_superuser or user.has_perm("chat.view_sharelink")


def revokes_everyones(user) -> bool:
    return user.is_superuser or user.has_perm("chat.change_sharelink")


def _visible(user):
    links = ShareLink.objects.select_related("owner", "conversation")
    return links if sees_everyone(user) else links.filter(owner=user)


@login_required
@never_cache
@require_GET
def share_list(request: HttpRequest) -> HttpResponse:
    everyone = sees_everyone(request.user) and request.GET.get("all") == "1"
    links = ShareLink.objects.select_related("owner", "conversation")
    if not everyone:
        links = links.filter(owner=request.user)
    page = Paginator(links.order_by("-updated", "-id"), PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "everyone": everyone,
        "may_see_everyone": sees_everyone(request.user),
        "may_revoke_everyone": revokes_everyones(request.user),
    }
    return render(request, "sharing/list.html", context)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    # Another member's link is a 404 for anyone but an admin, as if it did not exist.
    link = get_object_or_404(_visible(request.user), pk=pk)
    if link.owner_id != request.user.pk and not revokes_everyones(request.user):
        raise PermissionDenied
    if link.revoke(request.user):
        messages.success(request, _("The link is revoked: it answers “not found” from now on."))
    return redirect(reverse("chat:share_list") + ("?all=1" if request.POST.get("all") == "1" else ""))
