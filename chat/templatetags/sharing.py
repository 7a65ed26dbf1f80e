"""The chat page's Share button and its dialog (static/chat/share.js), for members who may share."""

from django import template

from chat.models import ShareLink

register = template.Library()


@register.inclusion_tag("sharing/share_dialog.html", takes_context=True)
def share_controls(context) -> dict:
    user = context["request"].user
    conversation = context.get("conversation")
    # Only the owner shares: a project collaborator reading someone else's chat gets no button.
    own = conversation is None or conversation.owner_id == user.pk
    return {
        "allowed": own and user.is_authenticated and ShareLink.may_share(user),
        "conversation": conversation,
    }
