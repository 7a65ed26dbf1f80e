"""chat/upstream/client.py: how a streamed body's SSE lines are read, over a real socket whose bytes
each test writes itself (split lines, long lines, cut-offs, odd bytes)."""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

import openai
import orjson
import pytest

from chat.upstream import client as upstream
from tests.upstream.test_client import model, stored_key

pytestmark = pytest.mark.django_db

SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n"
DONE = b"data: [DONE]\n\n"


def line(content: str | None = None, finish: str | None = None, **fields) -> bytes:
    delta = {} if content is None else {"content": content}
    chunk = {"model": "gpt-4.1-2025-04-14", "choices": [{"delta": delta, "finish_reason": finish}]}
    return b"data: " + orjson.dumps(chunk | fields) + b"\n\n"


END = line(finish="stop") + DONE


class Reader:
    """The pieces read so far, and an event per piece, so that the server writes its next bytes only
    once the client has read (and split) the ones before."""

    def __init__(self, count: int = 16) -> None:
        self.pieces: list[str] = []
        self.got = [asyncio.Event() for _ in range(count)]
        self.stream: upstream.ReplyStream | None = None

    async def read(self) -> str:
        async with upstream.open_stream(stored_key(), model(), [{"role": "user", "content": "hi"}]) as stream:
            self.stream = stream
            async for piece in stream:
                self.pieces.append(piece)
                if len(self.pieces) <= len(self.got):
                    self.got[len(self.pieces) - 1].set()
        return "".join(self.pieces)


Answer = Callable[[asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_upstream(settings, port: int, answer: Answer):
    """A socket speaking just enough HTTP/1.1: it reads the request, then `answer` writes the response."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(re.search(rb"(?i)content-length: *(\d+)", head).group(1)))
        try:
            await answer(writer)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    settings.TOKENOFF_BASE_URL = f"http://127.0.0.1:{port}/v1"
    settings.TOKENOFF_MAX_RETRIES = 0
    try:
        yield
    finally:
        server.close()


def body(*parts: bytes) -> Answer:
    """A close-delimited body written in one go."""

    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + b"\r\n" + b"".join(parts))
        await writer.drain()

    return answer


async def read(settings, port: int, answer: Answer, reader: Reader | None = None) -> Reader:
    reader = reader or Reader()
    async with raw_upstream(settings, port, answer):
        await reader.read()
    return reader


async def test_lines_split_anywhere_across_reads_are_put_back_together(settings, unused_tcp_port):
    reader = Reader()
    d = line("D", finish="stop")

    async def answer(writer: asyncio.StreamWriter) -> None:
        steps = [
            SSE_HEAD + b"\r\n" + line("A") + b"da",  # a prefix cut in two
            b'ta: {"choices":[{"delta":{"content":"B"}}]}\r',  # ended by a CR, its LF in the next read
            b"\n: a comment\r\nevent: chunk\r\n" + line("C") + d[:20],  # a chunk cut mid-JSON
            d[20:] + DONE,
        ]
        for index, step in enumerate(steps):
            if index:
                # The client has read everything before (bounded: an old reader held a CR-ended line).
                await asyncio.wait_for(reader.got[index - 1].wait(), 10)
            writer.write(step)
            await writer.drain()

    await read(settings, unused_tcp_port, answer, reader)
    assert reader.pieces == ["A", "B", "C", "D"] and reader.stream.finish_reason == "stop"


async def test_a_very_long_line_is_read_whole(settings, unused_tcp_port):
    """aiohttp's readline refuses a line over 128 KiB: a big chunk must still pass."""
    big = "x" * (1 << 20) + "é"
    reader = await read(settings, unused_tcp_port, body(line("a"), line(big), END))
    assert reader.pieces == ["a", big]


async def test_a_line_cut_off_mid_way_is_a_cut_off_reply(settings, unused_tcp_port):
    """The body ends (the socket closed) in the middle of a line: the reply was cut, not garbled."""
    partial = line("lost")[:25]
    with pytest.raises(upstream.UpstreamError) as failure:
        await read(settings, unused_tcp_port, body(line("kept"), partial))
    assert failure.value.code == "upstream_unavailable"
    assert failure.value.message == "TokenOff cut the reply off before its end."


async def test_a_chunked_body_cut_mid_line_is_a_cut_connection(settings, unused_tcp_port):
    reader = Reader()

    async def answer(writer: asyncio.StreamWriter) -> None:
        data = line("kept") + line("lost")[:25]
        writer.write(SSE_HEAD + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(data) + data + b"\r\n")
        await writer.drain()  # and the socket closes with no last chunk

    with pytest.raises(upstream.UpstreamError) as failure:
        await read(settings, unused_tcp_port, answer, reader)
    assert failure.value.code == "upstream_unavailable" and "cut off" in failure.value.message
    assert reader.pieces == ["kept"]


async def test_nul_is_stripped_and_odd_text_passes_intact(settings, unused_tcp_port):
    """U+2028 and U+2029 end a line for str.splitlines (hence for httpx2's lines), not for SSE."""
    odd = 'a\u2028b\u2029c\x0bd\x1ce\x85f "q" \\ \n😀'
    reader = await read(settings, unused_tcp_port, body(line("a\x00b"), line(odd), END))
    assert reader.pieces == ["ab", odd]


async def test_a_byte_that_is_not_utf8_becomes_a_replacement_character(settings, unused_tcp_port):
    bad = b'data: {"choices":[{"delta":{"content":"a\xffb"}}]}\n\n'
    reader = await read(settings, unused_tcp_port, body(bad, END))
    assert reader.pieces == ["a\ufffdb"]


async def test_a_line_that_is_not_json_fails_after_the_pieces_before_it(settings, unused_tcp_port):
    reader = Reader()
    with pytest.raises(upstream.UpstreamError) as failure:
        await read(settings, unused_tcp_port, body(line("before"), b"data: {not json\n\n", END), reader)
    assert failure.value.code == "upstream_error" and "not a reply chunk" in failure.value.message
    assert reader.pieces == ["before"]


@pytest.mark.parametrize(
    "chunk",
    [b'{"choices": "no"}', b'{"choices": [1]}', b'{"choices": [{"delta": "x"}]}', b"[1]", b"3"],
)
async def test_a_chunk_of_the_wrong_shape_is_an_upstream_error(settings, unused_tcp_port, chunk):
    with pytest.raises(upstream.UpstreamError) as failure:
        await read(settings, unused_tcp_port, body(b"data: " + chunk + b"\n\n", END))
    assert failure.value.code == "upstream_error"


async def test_an_error_chunk_mid_stream_is_an_upstream_error(settings, unused_tcp_port):
    error = b'data: {"error": {"message": "boom"}}\n\n'
    with pytest.raises(upstream.UpstreamError) as failure:
        await read(settings, unused_tcp_port, body(line("a"), error, END))
    assert failure.value.code == "upstream_error" and "boom" not in failure.value.message


async def test_model_usage_and_finish_reason_are_kept_and_done_ends_the_reading(settings, unused_tcp_port):
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    last = line(finish="length" * 10, model="m" * 300, usage=usage)
    reader = await read(settings, unused_tcp_port, body(line("a"), last, DONE, b"data: {not json\n\n"))
    stream = reader.stream
    assert stream.served_model == "m" * 100 and stream.usage == usage
    assert stream.finish_reason == ("length" * 10)[:32]


async def test_a_body_that_ends_without_done_or_finish_is_cut_off(settings, unused_tcp_port):
    with pytest.raises(upstream.UpstreamError) as failure:
        await read(settings, unused_tcp_port, body(line("a"), line("b")))
    assert failure.value.message == "TokenOff cut the reply off before its end."


async def test_a_compressed_body_is_read_through_the_sdks_decoding(settings, unused_tcp_port):
    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + b"Content-Encoding: gzip\r\n\r\n" + gzip.compress(line("zipped") + END))
        await writer.drain()

    reader = await read(settings, unused_tcp_port, answer)
    assert reader.pieces == ["zipped"]


async def test_a_stall_mid_stream_did_not_answer_in_time(fake, settings):
    settings.TOKENOFF_READ_TIMEOUT = 0.2
    reader = Reader()
    settings.TOKENOFF_BASE_URL = fake.base_url
    with pytest.raises(upstream.UpstreamError) as failure:
        async with upstream.open_stream(
            stored_key(), model(), [{"role": "user", "content": "[fake:chunks=3] [fake:delay=5]"}]
        ) as stream:
            async for piece in stream:
                reader.pieces.append(piece)
    assert failure.value.code == "upstream_unavailable"
    assert failure.value.message == "TokenOff did not answer in time."


async def test_another_transport_reads_the_sdks_lines(fake):
    """Not on aiohttp (the SDK's httpx2 transport): the same reading, from the SDK's lines."""
    loop = asyncio.get_running_loop()
    upstream._clients[loop] = openai.AsyncOpenAI(api_key="x", base_url=fake.base_url, max_retries=0)
    reader = Reader()
    await reader.read()
    assert "".join(reader.pieces) and reader.stream.finish_reason == "stop"
    assert reader.stream.served_model and reader.stream.usage["completion_tokens"]
