"""Projects: create, rename, edit the instructions, share, delete, and move a chat in or out.

Managing a project is its owner's alone; another member's project answers 404 like a missing one. The
sidebar's script (static/chat/projects.js) asks for JSON (`Accept: application/json`); the project's page
(/p/<id>/) posts plain forms and is sent back to the page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from chat.lib.params import has_nul, parse_id
from chat.models import Conversation, Project, ProjectShare

NAME_LIMIT = Project._meta.get_field("name").max_length
INSTRUCTIONS_LIMIT = 32_000
SIDEBAR_CHATS = 300


class BadInput(Exception):
    pass


def _answer(request: HttpRequest, data: dict, project: Project | None, status: int = 200) -> HttpResponse:
    """JSON for the sidebar's script; for the page's forms, back to the page (or home once deleted)."""
    if "application/json" in request.headers.get("Accept", "") or status >= 400:
        return JsonResponse(data, status=status)
    return redirect("chat:project", pk=project.pk) if project else redirect("chat:home")


def _own(request: HttpRequest, pk: int) -> Project:
    return get_object_or_404(Project.objects.filter(owner=request.user), pk=pk)


def _name(request: HttpRequest) -> str:
    name = " ".join(request.POST.get("name", "").split())
    if not name:
        raise BadInput("A project needs a name.")
    if has_nul(name):
        raise BadInput("A name cannot hold a NUL character.")
    return name[:NAME_LIMIT]


def _instructions(request: HttpRequest) -> str:
    text = request.POST.get("instructions", "")
    if has_nul(text):
        raise BadInput("Instructions cannot hold a NUL character.")
    if len(text) > INSTRUCTIONS_LIMIT:
        raise BadInput(f"Instructions can hold at most {INSTRUCTIONS_LIMIT:,} characters.")
    return text.strip()


def row(project: Project, user) -> dict:
    return {
        "id": project.pk,
        "name": project.name,
        "own": project.owner_id == user.pk,
        "has_instructions": bool(project.instructions),
    }


def sidebar(user) -> list[dict]:
    """The projects above the recent chats, each with the chats the member may open in it: two queries."""
    projects = list(Project.objects.visible_to(user).order_by("name", "id"))
    shared = [project.pk for project in projects if project.owner_id != user.pk]
    # Only for a member with projects shared with them: one query more, to offer "New chat" where it works.
    writable = set(Project.objects.writable_by(user).filter(pk__in=shared).values_list("pk", flat=True))
    chats: dict[int, list[Conversation]] = {}
    rows = Conversation.objects.reachable_by(user).filter(project__in=projects, archived=False)
    # The newest few hundred across the projects: the sidebar stays small; the project's page lists more.
    rows = rows.only("id", "title", "project_id", "updated").order_by("-updated", "-id")[:SIDEBAR_CHATS]
    for conversation in rows:
        chats.setdefault(conversation.project_id, []).append(conversation)
    return [
        {
            "project": project,
            "chats": chats.get(project.pk, []),
            "writable": project.owner_id == user.pk or project.pk in writable,
        }
        for project in projects
    ]


@login_required
@require_GET
def project_list(request: HttpRequest) -> JsonResponse:
    found = sidebar(request.user)
    return JsonResponse(
        {
            "projects": [
                {
                    **row(entry["project"], request.user),
                    "writable": entry["writable"],  # one can start or file chats in it
                    "chats": [{"id": c.pk, "title": c.title} for c in entry["chats"]],
                }
                for entry in found
            ]
        }
    )


@login_required
@require_POST
def project_create(request: HttpRequest) -> HttpResponse:
    try:
        name = _name(request)
        instructions = _instructions(request)
    except BadInput as bad:
        return JsonResponse({"error": str(bad)}, status=400)
    project = Project.objects.create(owner=request.user, name=name, instructions=instructions)
    return _answer(request, row(project, request.user), project)


@login_required
@require_POST
def project_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename or edit the instructions: `name`, `instructions`, either or both."""
    project = _own(request, pk)
    try:
        if "name" in request.POST:
            project.name = _name(request)
        if "instructions" in request.POST:
            project.instructions = _instructions(request)
    except BadInput as bad:
        return JsonResponse({"error": str(bad)}, status=400)
    project.updated = timezone.now()
    project.save()
    return _answer(request, row(project, request.user), project)


@login_required
@require_POST
def project_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete the project; its chats are kept, out of any project (the foreign key's SET_NULL)."""
    project = _own(request, pk)
    project.delete()
    return _answer(request, {"deleted": pk}, None)


@login_required
@require_POST
def project_share(request: HttpRequest, pk: int) -> HttpResponse:
    """Share with one of the owner's groups: `group`, `role` reader, collaborator, or none to stop."""
    project = _own(request, pk)
    group_id = parse_id(request.POST.get("group"))
    group = Group.objects.filter(pk=group_id, user=request.user).first() if group_id else None
    if group is None:
        return JsonResponse({"error": "No such group of yours."}, status=404)
    role = request.POST.get("role", "")
    if role == "none":
        ProjectShare.objects.filter(project=project, group=group).delete()
    elif role in ProjectShare.Role.values:
        ProjectShare.objects.update_or_create(project=project, group=group, defaults={"role": role})
    else:
        return JsonResponse({"error": "role is reader, collaborator or none."}, status=400)
    return _answer(request, {"project": pk, "group": group.pk, "role": role}, project)


@login_required
@require_POST
def move(request: HttpRequest, pk: int) -> JsonResponse:
    """Move one's own chat into a project one may write in (`project`), or out of any (empty)."""
    raw = request.POST.get("project", "")
    project_id = parse_id(raw) if raw else None
    if raw and project_id is None:
        return JsonResponse({"error": "project is a project id, or empty to move the chat out."}, status=400)
    with transaction.atomic():
        conversation = get_object_or_404(Conversation.objects.owned_by(request.user), pk=pk)
        if project_id is not None and not Project.objects.writable_by(request.user).filter(pk=project_id):
            return JsonResponse({"error": "No such project."}, status=404)
        conversation.project_id = project_id
        # Not `updated`: filing a chat is not activity, it keeps its place among the recent ones.
        conversation.save(update_fields=["project"])
    return JsonResponse({"conversation": pk, "project": project_id})


@login_required
@require_GET
def project_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The project: its chats for everyone it is shared with; name, instructions and sharing for its owner."""
    project = get_object_or_404(Project.objects.visible_to(request.user), pk=pk)
    role = project.role_of(request.user)
    chats = Conversation.objects.reachable_by(request.user).filter(project=project).select_related("owner")
    context = {
        "project": project,
        "role": role,
        "chats": chats.order_by("-updated", "-id")[:200],
        "shares": project.shares.select_related("group") if role == "owner" else [],
        "groups": request.user.groups.order_by("name") if role == "owner" else [],
        "roles": ProjectShare.Role.choices,
    }
    return render(request, "chat/project.html", context)
