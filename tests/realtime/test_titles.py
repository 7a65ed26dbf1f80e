"""The title queue: titles wait for the first tokens awaited, a few at a time, and a full queue drops."""

from __future__ import annotations

import asyncio

from chat.realtime.titles import TitleQueue


async def test_a_title_waits_while_a_first_token_is_awaited():
    titles = TitleQueue(running=2, waiting=10, patience=30)
    titles.awaiting_first_token()
    went: list[bool] = []

    async def title():
        async with titles.turn() as allowed:
            went.append(allowed)

    waiting = asyncio.create_task(title())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert went == []  # still waiting: a reply has not had its first token
    titles.first_token_arrived()
    await asyncio.wait_for(waiting, 1)
    assert went == [True]


async def test_a_title_goes_after_its_patience_even_under_a_steady_load():
    titles = TitleQueue(running=1, waiting=10, patience=0.05)
    titles.awaiting_first_token()  # and never arrives
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with titles.turn() as allowed:
        assert allowed
    assert loop.time() - began >= 0.05


async def test_at_most_so_many_titles_at_once_and_a_full_queue_drops_the_rest():
    titles = TitleQueue(running=2, waiting=1, patience=1)
    release = asyncio.Event()
    running = 0
    most = 0
    outcomes: list[bool] = []

    async def title():
        nonlocal running, most
        async with titles.turn() as allowed:
            outcomes.append(allowed)
            if allowed:
                running += 1
                most = max(most, running)
                await release.wait()
                running -= 1

    tasks = [asyncio.create_task(title()) for _ in range(3)]
    for _ in range(5):
        await asyncio.sleep(0)
    dropped = asyncio.create_task(title())  # two running and one waiting: the queue is full
    await asyncio.wait_for(dropped, 1)
    assert outcomes.count(False) == 1 and most == 2
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 1)
    assert outcomes.count(True) == 3 and most == 2
