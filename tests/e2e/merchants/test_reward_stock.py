"""Stock at the repository: an item is taken only while one is left, so stock never goes below
zero, however many redemptions ask at once."""

from __future__ import annotations

import asyncio
import uuid

from tests.support.credit import local_uuid
from tests.support.merchants import add_reward, approved_merchant
from tests.support.stack import Stack


async def _reward(stack: Stack, stock: int | None) -> uuid.UUID:
    merchant = await approved_merchant(stack)
    reward = await add_reward(stack, merchant, stock=stock)
    return uuid.UUID(local_uuid(reward["id"]))


async def _take(stack: Stack, reward_id: uuid.UUID, *, commit: bool = True) -> bool:
    session = stack.services.database.session()
    try:
        async with session.unit_of_work() as uow:
            taken = await uow.rewards.take_stock(reward_id)
            if commit:
                await uow.commit()
        return taken
    finally:
        await session.close()


async def _return(stack: Stack, reward_id: uuid.UUID) -> None:
    session = stack.services.database.session()
    try:
        async with session.unit_of_work() as uow:
            await uow.rewards.return_stock(reward_id)
            await uow.commit()
    finally:
        await session.close()


async def _stock(stack: Stack, reward_id: uuid.UUID) -> int | None:
    session = stack.services.database.session()
    try:
        [reward] = await (await session.reads()).rewards.by_id([reward_id])
        return reward.stock
    finally:
        await session.close()


async def test_the_last_item_is_taken_once_and_stock_stays_at_zero(stack: Stack) -> None:
    reward_id = await _reward(stack, 2)

    taken = [await _take(stack, reward_id) for _ in range(4)]

    assert taken == [True, True, False, False]
    assert await _stock(stack, reward_id) == 0


async def test_a_returned_item_can_be_taken_again(stack: Stack) -> None:
    reward_id = await _reward(stack, 1)
    await _take(stack, reward_id)

    await _return(stack, reward_id)

    assert await _stock(stack, reward_id) == 1
    assert await _take(stack, reward_id) is True
    assert await _stock(stack, reward_id) == 0


async def test_unlimited_stock_is_always_there_and_stays_unlimited(stack: Stack) -> None:
    reward_id = await _reward(stack, None)

    taken = [await _take(stack, reward_id) for _ in range(3)]
    await _return(stack, reward_id)

    assert taken == [True, True, True]
    assert await _stock(stack, reward_id) is None


async def test_an_item_taken_in_a_transaction_rolled_back_is_still_there(stack: Stack) -> None:
    reward_id = await _reward(stack, 1)

    assert await _take(stack, reward_id, commit=False) is True

    assert await _stock(stack, reward_id) == 1


async def test_an_unknown_reward_has_no_stock(stack: Stack) -> None:
    assert await _take(stack, uuid.uuid4()) is False


async def test_concurrent_takes_never_take_more_than_the_stock(stack: Stack) -> None:
    reward_id = await _reward(stack, 5)

    taken = await asyncio.gather(*(_take(stack, reward_id) for _ in range(20)))

    assert taken.count(True) == 5
    assert await _stock(stack, reward_id) == 0
