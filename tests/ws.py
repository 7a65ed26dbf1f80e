"""Opening WebSockets to the real ASGI application as a signed-in user."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from tokenoff_site.asgi import application

ORIGIN = "http://localhost"


async def session_cookie(user) -> str:
    client = Client()
    await sync_to_async(client.force_login)(user)
    return client.cookies["sessionid"].value


async def open_socket(user=None, origin: str | None = ORIGIN) -> WebsocketCommunicator:
    headers = []
    if user is not None:
        headers.append((b"cookie", f"sessionid={await session_cookie(user)}".encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, "/ws/chat/", headers=headers)


async def connected(user, timeout: float = 10.0) -> WebsocketCommunicator:
    """A socket past its handshake. The handshake reads the session from the database: twenty at once
    on PostgreSQL on a busy two-core machine took over the communicator's default second."""
    socket = await open_socket(user)
    ok, _ = await socket.connect(timeout=timeout)
    assert ok, "the handshake was refused"
    return socket


async def frames_until(socket: WebsocketCommunicator, frame_type: str, timeout: float = 5.0) -> list[dict]:
    """Every frame up to and including the first of that type."""
    frames = []
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


def send_frame(content: str, conversation=None, client_id: str = "c1", model: str | None = None) -> dict:
    frame = {"type": "send", "id": client_id, "conversation": conversation, "content": content}
    if model is not None:
        frame["model"] = model
    return frame


def joined(frames: list[dict]) -> str:
    return "".join(f["content"] for f in frames if f["type"] == "delta")


async def close_code(socket: WebsocketCommunicator, timeout: float = 5.0) -> int:
    """Read past any frames until the server closes the socket; its close code."""
    while True:
        output = await socket.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return output.get("code", 1000)
