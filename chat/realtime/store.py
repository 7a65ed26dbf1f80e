"""A reply's database steps, each small, named and run in a thread: begin, checkpoints, the final
save, and ending the replies of a process that died."""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from chat.assistants import starting
from chat.conversations import parameters
from chat.models import ApiKey, ChatModel, Conversation, Message, Preferences, Project, budgets, freshness
from chat.realtime import attaching, lanes, sends
from chat.realtime.frames import AttachmentChoice, Code, FinishReason, Refused
from chat.realtime.sends import Fork, Opening
from chat.usage import accounting as usage

log = logging.getLogger(__name__)


@dataclass
class Begun:
    """A reply begun: its rows, the model and key it is written with, and what goes upstream."""

    conversation: Conversation
    user_message: Message
    reply: Message
    chat_model: ChatModel
    key: ApiKey | None
    upstream_messages: list[dict]
    new_conversation: bool
    notice: str | None = None
    standing: usage.Standing | None = None  # the budgets' standing behind the notice
    attachments: list[dict] | None = None  # the question's, as `started` describes them
    held: bool = False  # a reservation holds its budgets (to free when it ends)


def _owned_conversation(user, conversation_id: int) -> Conversation:
    # One's own, or one in a project shared with one's group as collaborators (Conversation.reachable_by).
    conversation = Conversation.objects.reachable_by(user, write=True).filter(pk=conversation_id).first()
    if conversation is None:
        raise Refused(Code.NOT_FOUND, "No such conversation.")
    return conversation


@database_sync_to_async
def begin(*args, **kwargs) -> Begun:
    """_begin, with the send's facts (model, key, budgets, preferences) read against one stamp: a send's
    reads are one query when nothing changed (chat/models/freshness.py)."""
    with freshness.snapshot():
        return _begin(*args, **kwargs)


def _begin(
    user,
    conversation_id: int | None,
    model_name: str | None,
    content: str,
    worker: str,
    system_prompt: str | None = None,
    fork: Fork | None = None,
    chosen: dict | None = None,
    opening: Opening | None = None,
    attachments: list[AttachmentChoice] | None = None,
    project: int | None = None,
    assistant: int | None = None,
    early: sends.EarlyHook | None = None,
) -> Begun:
    """Check everything, then save the user's message and an empty streaming reply together.

    A new conversation takes the system prompt given, else the user's default one, and the parameters
    `chosen` (checked against the model). A fork edits a question (the new one is its sibling) or
    regenerates a reply (no new question: a sibling reply). `attachments` are the sender's to carry (an
    edit given None carries the edited question's); checked against the model before anything is saved.
    `early`, where nothing the writes decide can change the request (no budget with a limit to reserve
    against, no attachment to bind, not a regeneration), is handed the request before the writes begin.
    """
    conversation = _owned_conversation(user, conversation_id) if conversation_id is not None else None
    if project is not None and not Project.objects.writable_by(user).filter(pk=project).exists():
        raise Refused(Code.NOT_FOUND, "No such project.")
    started_from = None
    if assistant is not None and conversation is None:
        # An assistant the member may not use is not there for them (chat/assistants/starting.py).
        started_from = starting.usable(user, assistant)
        model_name, system_prompt, chosen = starting.settings_of(started_from)
    asked = model_name or (conversation.model if conversation else None)
    chat_model = ChatModel.for_send(user, asked)
    if chat_model is None:
        raise Refused(Code.MODEL_UNAVAILABLE, f"The model {asked or 'chosen'} is not available to you.")
    # The catalogue's limits, before the conversation's parameters are applied to the row in memory.
    limits = (chat_model.context_window, chat_model.max_output_tokens)
    chosen = _parameters_of_new(chat_model, chosen)
    fork = fork or Fork()
    carried = _carried(user, conversation, fork, attachments)
    attaching.check(user, chat_model, carried)
    key = ApiKey.objects.for_user(user)
    if key is None and not settings.TOKENOFF_DEMO:
        from chat.models import SiteSettings  # only on this rare path: a query a send need not make

        advice = "Ask an admin to set one."
        if SiteSettings.current().self_service_keys:
            advice = "Add your own key in Settings, or ask an admin for a team key."
        raise Refused(Code.NO_API_KEY, f"No TokenOff API key is set for you or for the team. {advice}")
    via_team_key = key is not None and key.is_team
    budget = usage.standing(user, via_team_key)
    if budget.over:
        raise _quota_exceeded(budget.over, budget.resets)
    if conversation is None and system_prompt is None:
        system_prompt = Preferences.of(user, cached=True).system_prompt
    sent = _sent_with(chat_model, conversation.parameters if conversation else chosen)
    parent = None
    if conversation is not None and fork.regenerate is None:
        parent = sends.parent_of_question(conversation, fork.edit)
    now = timezone.now()
    new = conversation is None
    if new:
        conversation = Conversation(
            owner=user,
            title=Conversation.title_from(content or _names(carried)),
            model=chat_model.name,
            system_prompt=system_prompt or "",
            parameters=chosen,
            project_id=project,
            assistant=started_from,
            assistant_name=started_from.name if started_from else "",
            created=now,
            updated=now,
            **(opening.fields if opening else {}),
        )
    history = None
    plain = not carried and opening is None and fork.regenerate is None
    if early is not None and plain and not budgets.limited(user.pk, via_team_key):
        history = sends.history_before_saving(conversation, limits, content, parent, new)
        attaching.refuse_images_in(user, chat_model, history)
        early(sends.Early(key, chat_model, history))
    try:
        with transaction.atomic():
            if new:
                conversation.save(force_insert=True)
            if fork.regenerate is not None:
                user_message = sends.question_of(conversation, fork.regenerate)
            else:
                user_message = Message.objects.create(
                    conversation=conversation,
                    parent_id=sends.opened(conversation, opening, now) if new else parent,
                    role=Message.Role.USER,
                    content=content,
                    model=chat_model.name,
                    created=now,
                )
                attaching.bind(user_message, conversation, carried)
            # The partial unique index refuses a second streaming reply: busy, and nothing is saved.
            reply = Message.objects.create(
                conversation=conversation,
                parent=user_message,
                role=Message.Role.ASSISTANT,
                model=chat_model.name,
                parameters=sent,
                status=Message.Status.STREAMING,
                via_team_key=via_team_key,
                worker=worker,
                heartbeat=now,
                created=now,
            )
            if not new:
                # A new conversation was created with its model and time, and its leaf may stay empty:
                # the branch on show is then its newest message (Conversation.branch), this reply.
                conversation.model, conversation.updated, conversation.leaf = chat_model.name, now, reply
                conversation.save(update_fields=["model", "updated", "leaf"])
            if key is not None and _last_used_due((key.pk, key.created), now):
                ApiKey.objects.filter(pk=key.pk).update(last_used=now)
            # Last, so the budgets stay locked for a moment only; refused, nothing above is saved, and
            # nothing after it can fail and leave the reservation behind.
            if history is None:
                history = conversation.upstream_messages(limits, fresh=new, attached=bool(carried))
                attaching.refuse_images_in(user, chat_model, history)
            hold = usage.reserve_reply(user.pk, via_team_key, chat_model, history, reply.pk)
    except IntegrityError:
        raise Refused(Code.BUSY, "A reply is already being written in this conversation.") from None
    except budgets.OverBudget as over:
        raise _quota_exceeded(over.whose, over.resets) from None
    if hold is not None:
        chat_model.max_output_tokens = hold.output_tokens  # the request may not write past its reservation
        sent = parameters.sent_with(chat_model.request_parameters())
        if sent != reply.parameters:
            reply.parameters = sent
            Message.objects.filter(pk=reply.pk).update(parameters=sent)
    if fork.regenerate is not None:
        carried = attaching.kept_from(user_message.pk)
    return Begun(
        conversation,
        user_message,
        reply,
        chat_model,
        key,
        history,
        new,
        budget.notice,
        budget,
        attaching.described(carried),
        held=hold is not None,
    )


@lanes.background
def warm(user) -> None:
    """A member's send facts read ahead as their socket opens (model, groups, preferences, key, budgets),
    so that their first send finds them cached (chat/models/freshness.py) instead of reading them then."""
    try:
        with freshness.snapshot():
            ChatModel.for_send(user, None)
            key = ApiKey.objects.for_user(user)
            budgets.limited(user.pk, key is not None and key.is_team)
    except Exception:  # only a head start: the send reads whatever is missing
        log.debug("could not read ahead the send facts of user %s", user.pk, exc_info=True)


# A key's `last_used` is a day-to-day fact for its admin page: written at most once a minute per key
# and process, not with every send.
LAST_USED_EVERY = timezone.timedelta(minutes=1)
_last_used_written: dict[tuple, object] = {}
_last_used_lock = threading.Lock()


def _last_used_due(key_id: tuple, now) -> bool:
    with _last_used_lock:
        written = _last_used_written.get(key_id)
        if written is not None and now - written < LAST_USED_EVERY:
            return False
        if len(_last_used_written) > 10_000:
            _last_used_written.clear()
        _last_used_written[key_id] = now
        return True


def _carried(
    user, conversation: Conversation | None, fork: Fork, choices: list[AttachmentChoice] | None
) -> list[attaching.Carried]:
    """What the new question carries: those sent, or on an edit without a list, the edited question's."""
    if fork.regenerate is not None:
        return []  # the question keeps its own: they are in the history
    if choices is None and fork.edit is not None and conversation is not None:
        edited = conversation.messages.filter(pk=fork.edit, role=Message.Role.USER).values_list(
            "pk", flat=True
        )
        return attaching.kept_from(edited.first())
    return attaching.resolve(user, conversation, choices or [])


def _names(carried: list[attaching.Carried]) -> str:
    return ", ".join(item.attachment.name for item in carried)


def _parameters_of_new(chat_model: ChatModel, given: dict | None) -> dict:
    """A new conversation's parameters as parse stores them; bad_request for a name or value refused."""
    if not given:
        return {}
    unknown = sorted(set(given) - set(parameters.KEYS))
    if unknown:
        names = ", ".join(parameters.KEYS)
        raise Refused(Code.BAD_REQUEST, f"parameters takes {names}; not {unknown[0][:40]!r}.")
    try:
        return parameters.parse(chat_model, given)
    except parameters.Invalid as invalid:
        raise Refused(Code.BAD_REQUEST, f"parameters.{invalid.field}: {invalid.message}") from None


def _sent_with(chat_model: ChatModel, chosen: dict) -> dict:
    """The conversation's parameters over the catalogue's fixed ones, as the model takes them (the row in
    memory carries them to the request: chat/upstream/client.py), and what the reply records of them."""
    parameters.apply(chat_model, chosen)
    return parameters.sent_with(chat_model.request_parameters())


def _quota_exceeded(whose: str, resets) -> Refused:
    message = f"{whose.capitalize()} monthly budget is used up; it resets on {resets:%B} 1."
    return Refused(Code.QUOTA_EXCEEDED, message, resets=resets.isoformat())


@lanes.background
def save_final(begun: Begun, fields: dict) -> bool:
    """The reply's last save, and its spending counted; False when it had already been ended."""
    now = timezone.now()
    failed = fields.get("finish_reason") == FinishReason.ERROR
    counted = usage.from_upstream(fields.get("usage"), begun.upstream_messages, fields["content"], failed)
    model = begun.chat_model
    cost = usage.cost_of(counted, model.input_price, model.output_price, model.cached_input_price)
    with transaction.atomic():
        updated = Message.objects.filter(pk=begun.reply.pk, status=Message.Status.STREAMING).update(
            status=Message.Status.DONE,
            worker="",
            heartbeat=None,
            usage_estimated=counted.estimated,
            prompt_tokens=counted.prompt_tokens,
            completion_tokens=counted.completion_tokens,
            cached_tokens=counted.cached_tokens,
            reasoning_tokens=counted.reasoning_tokens,
            cost=cost,
            **{**fields, **_error_message(fields), "usage": counted.as_json()},
        )
        if not updated:
            return False
        # The conversation's `updated` is the send's (store.begin): a reply ending is not new activity.
        reserved = begun.reply.pk if begun.held else None  # no reservation: nothing to delete
        usage.record(
            begun.conversation.owner_id, begun.reply.via_team_key, counted, cost, now, reply_id=reserved
        )
    fields["usage"] = counted.as_json()
    return True


def _error_message(fields: dict) -> dict:
    """A failed reply's reason as the column takes it (ours, short; cut to fit all the same)."""
    if "error_message" not in fields:
        return {}
    limit = Message._meta.get_field("error_message").max_length
    return {"error_message": (fields["error_message"] or "").replace("\x00", "")[:limit]}


@lanes.background
def save_fallback(message_id: int, fields: dict) -> bool:
    """The least a failed reply needs: ended, with the text as far as the database takes it."""
    ended = {
        "status": Message.Status.DONE,
        "worker": "",
        "heartbeat": None,
        "finish_reason": FinishReason.ERROR,
    }
    ended["error_code"] = fields.get("error_code", "upstream_error")
    ended.update(_error_message(fields))
    streaming = Message.objects.filter(pk=message_id, status=Message.Status.STREAMING)
    try:
        return bool(streaming.update(**ended, content=fields["content"].replace("\x00", "")))
    except Exception:
        log.exception("reply %s: even the fallback save failed; ending it without its text", message_id)
        return bool(streaming.update(**ended))
    finally:
        # Tidying only: a reservation stops counting once its reply has ended, and recovery sweeps it.
        with contextlib.suppress(Exception):
            budgets.release(message_id=message_id)


@database_sync_to_async
def streaming_message(conversation_id: int) -> Message | None:
    return Message.objects.filter(conversation_id=conversation_id, status=Message.Status.STREAMING).first()


def interrupt(queryset) -> list[Message]:
    """End replies whose process is gone: their text so far is kept."""
    ended = []
    for message in queryset.filter(status=Message.Status.STREAMING).select_related("conversation"):
        # The upstream's count died with the process: estimate it, so that budgets still see it.
        counted = usage.estimate(message.conversation.upstream_messages(), message.content)
        cost = usage.cost_of(counted, *usage.prices_of(message.model))
        with transaction.atomic():
            if not Message.objects.filter(pk=message.pk, status=Message.Status.STREAMING).update(
                status=Message.Status.DONE,
                finish_reason=FinishReason.INTERRUPTED,
                worker="",
                heartbeat=None,
                usage=counted.as_json(),
                usage_estimated=True,
                prompt_tokens=counted.prompt_tokens,
                completion_tokens=counted.completion_tokens,
                cost=cost,
            ):
                continue  # ended meanwhile by its own process
            owner, paid_by_team = message.conversation.owner_id, message.via_team_key
            usage.record(owner, paid_by_team, counted, cost, timezone.now(), reply_id=message.pk)
        message.status, message.finish_reason, message.usage = (
            Message.Status.DONE,
            FinishReason.INTERRUPTED,
            counted.as_json(),
        )
        ended.append(message)
    return ended


@database_sync_to_async
def interrupt_orphans(live_workers: set[str], shared_layer: bool) -> list[Message]:
    """Replies a dead process left streaming: any not ours (one process), or long unheard of (several)."""
    budgets.sweep()  # reservations of requests that ended some other way, or that outlived their call
    if shared_layer:
        stale = timezone.now() - timezone.timedelta(seconds=settings.TOKENOFF_STALE_SECONDS)
        return interrupt(Message.objects.filter(Q(heartbeat__lt=stale) | Q(heartbeat__isnull=True)))
    return interrupt(Message.objects.exclude(worker__in=live_workers))


@database_sync_to_async
def interrupt_message(message_id: int, worker: str) -> list[Message]:
    return interrupt(Message.objects.filter(pk=message_id, worker=worker))


@database_sync_to_async
def owns(user, conversation_id: int, write: bool = True) -> bool:
    """Whether the member may continue (write) or follow the conversation: Conversation.reachable_by."""
    return Conversation.objects.reachable_by(user, write=write).filter(pk=conversation_id).exists()


@database_sync_to_async
def streaming_replies_of(user_id: int) -> list[tuple[int, str]]:
    return list(
        Message.objects.filter(status=Message.Status.STREAMING, conversation__owner_id=user_id).values_list(
            "conversation_id", "worker"
        )
    )


@database_sync_to_async
def session_holds(user_id: int, session_hash: str | None) -> bool:
    """Whether a socket's session may still chat: the user active, the password the one it signed in with."""
    # Read afresh: an admin may have just deactivated the user, or someone changed the password (which
    # voids every session: Django gives the one that changed it a new key).
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not session_hash:
        return False
    # The fallbacks: sessions signed before a SECRET_KEY rotation stay valid, as in Django's get_user.
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, candidate) for candidate in hashes)
