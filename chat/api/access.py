"""Who calls and what they may ask: the bearer token, the model, its parameters and the rate limit,
checked in one trip to the database before anything is saved."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.views.decorators.debug import sensitive_variables

from chat.api import body
from chat.api.errors import ApiError, bad_request
from chat.conversations import parameters
from chat.models import ApiToken, ChatModel
from chat.realtime import rate_limit

TOP_P_RANGE = (0.0, 1.0)


class Header(str):
    """The Authorization header as it travels to the database thread: an error report (DEBUG's page, a
    mail to the admins) prints every frame's variables, asgiref's arguments too, each by its repr."""

    def __repr__(self) -> str:
        return "'Bearer ********'"


@dataclass
class Admitted:
    """A call that may go ahead: its token (and member), the model, the parameters as the chat keeps them."""

    token: ApiToken
    ask: body.Ask
    chat_model: ChatModel
    chosen: dict

    @property
    def user(self) -> AbstractBaseUser:
        return self.token.owner


@sensitive_variables("header", "token")
def authenticate(header: str) -> ApiToken:
    """The live token the Authorization header carries, its use noted; else 401."""
    scheme, _, token = header.partition(" ")
    found = ApiToken.objects.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise ApiError(
            401,
            "invalid_api_key",
            "Send a valid personal API token as 'Authorization: Bearer <token>'. It may have been "
            "revoked or expired, or its owner deactivated: create a new one on the settings page.",
        )
    found.mark_used()
    return found


def usable_models(user) -> list[ChatModel]:
    """The models this member may use, in catalogue order: the same rule as the picker's and every send's."""
    return list(ChatModel.objects.usable_by(user).order_by("sort_order", "name"))


@sensitive_variables("header")
def admit(header: str, raw: bytes) -> Admitted:
    """The token, the body, the model and its parameters, then one send counted against the rate limit."""
    token = authenticate(header)
    ask = body.parse(raw)
    user = token.owner
    chat_model = ChatModel.for_send(user, ask.model)
    if chat_model is None:
        if ChatModel.objects.filter(name=ask.model, enabled=True).exists():
            raise ApiError(403, "model_not_allowed", f"The model {ask.model} is not available to you.")
        raise ApiError(404, "model_not_found", f"The model {ask.model[:100]} does not exist.")
    try:
        chosen = parameters.parse(chat_model, ask.chosen)
    except parameters.Invalid as invalid:
        raise bad_request(f"{invalid.field}: {invalid.message}", "unsupported_parameter") from None
    if ask.top_p is not None:
        if not chat_model.takes_top_p:
            raise bad_request("top_p: This model does not take top_p.", "unsupported_parameter")
        if not TOP_P_RANGE[0] <= ask.top_p <= TOP_P_RANGE[1]:
            raise bad_request("top_p: top_p is between 0 and 1.")
    wait = rate_limit.seconds_until_send_allowed(user.pk)
    if wait:
        raise ApiError(429, "rate_limited", f"Too many requests in a minute. Try again in {wait} s.", wait)
    return Admitted(token, ask, chat_model, chosen)
