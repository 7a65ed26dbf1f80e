"""An API call's reply: begun, run and saved by the chat's own parts (chat/realtime/store.py, reply.py),
on this process's runtime (so the heartbeat keeps it and a browser open on the conversation follows it),
its text handed to the HTTP response through a queue. Unlike a chat reply it belongs to its request:
a client that goes away stops it, which closes the upstream request."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from dataclasses import dataclass

import orjson

from chat.api import errors
from chat.api.access import Admitted
from chat.realtime import runtime as runtimes
from chat.realtime import store
from chat.realtime.frames import Refused
from chat.realtime.reply import Reply

CLIENT_ID = "api"


@dataclass(frozen=True)
class Event:
    """What the response is told: a piece of text, the done, a failure (the error frame), the end."""

    kind: str  # "delta", "error", "done" or "end" (the reply's task is over)
    text: str = ""
    frame: dict | None = None


END = Event("end")


class Relay:
    """The host (reply.Host) of one API reply."""

    def __init__(self, runtime: runtimes.Runtime) -> None:
        self.runtime = runtime
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.reply: Reply | None = None
        self.over = False  # the response has seen the end
        self.loop = asyncio.get_running_loop()

    async def publish(self, conversation_id: int, text: str, delta: tuple[int, int] | None = None) -> None:
        await self.runtime.publish(conversation_id, text, delta)
        if delta is not None:
            # The delta's text as the reply keeps it: no need to decode the frame.
            self.events.put_nowait(Event("delta", self.reply.sent[delta[1] - 1]))
            return
        frame = orjson.loads(text)  # an error or the done: twice a reply at most
        if frame.get("type") in ("error", "done"):
            self.events.put_nowait(Event(frame["type"], frame=frame))

    def forget(self, reply: Reply) -> None:
        self.runtime.forget(reply)

    def first_token_arrived(self, reply: Reply) -> None:
        self.runtime.first_token_arrived(reply)

    async def name_conversation(self, reply: Reply) -> None:
        await self.runtime.name_conversation(reply)  # not asked: an API conversation keeps its first words

    async def next(self) -> Event:
        event = await self.events.get()
        self.over = event is END
        return event

    def stop(self) -> None:
        """The client went away before the end: stop the reply (the upstream request is closed)."""
        if not self.over and self.reply is not None:
            self.reply.stop()

    def stop_soon(self) -> None:
        """stop(), from any thread: Django closes a response in a worker thread."""
        with contextlib.suppress(RuntimeError):  # the loop is gone, and the reply with it
            self.loop.call_soon_threadsafe(self.stop)


async def start(admitted: Admitted) -> tuple[Relay, store.Begun]:
    """Save the request as a new API conversation and start its reply; refusals as the API's errors."""
    runtime = await runtimes.runtime()
    relay = Relay(runtime)
    ask, token = admitted.ask, admitted.token
    opening = store.Opening({"source": "api", "api_token": token, "api_token_name": token.name}, ask.turns)
    try:
        begun = await store.begin(
            admitted.user,
            None,
            admitted.chat_model.name,
            ask.question,
            runtime.worker,
            ask.system_prompt,
            None,
            admitted.chosen,
            opening=opening,
        )
    except Refused as refused:
        raise errors.of_refused(refused) from None
    # The question's first words stay its title: no naming call spent on the member's budget.
    begun.new_conversation = False
    if ask.top_p is not None:  # checked against the model by access.admit; the chat has no top_p choice
        begun.chat_model.top_p = ask.top_p
    relay.reply = Reply(relay, begun, CLIENT_ID)
    # In a context of its own, as a chat reply's task: the request's context points database calls at
    # the sync middlewares' thread of the request (async_to_sync), whose executor quits when the view
    # returns, and a streamed reply goes on after that.
    contextvars.Context().run(runtime.launch, relay.reply)
    relay.reply.task.add_done_callback(lambda _task: relay.events.put_nowait(END))
    return relay, begun
