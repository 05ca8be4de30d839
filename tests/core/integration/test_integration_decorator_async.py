"""@coordinate_operation on async def functions: retries that await, breaker, cancellation."""
from __future__ import annotations

import asyncio
import inspect

import pytest
from integration_support import Flaky

from quarterdeck.core.integration import CallNotPermitted, ValidationError, coordinate_operation, tracker_for

FAST = {"max_retries": 3, "base_delay": 0.001, "error_severity": "MEDIUM"}


def test_async_functions_are_retried_and_stay_coroutine_functions(monitor, breakers):
    flaky = Flaky(failures=2, error=TimeoutError)

    @coordinate_operation(error_config=FAST, operation_name="fetch", monitor=monitor, breakers=breakers)
    async def fetch(user_id):
        """Fetch a user."""
        await asyncio.sleep(0)
        return flaky(user_id)

    assert inspect.iscoroutinefunction(fetch) and fetch.__doc__ == "Fetch a user."
    assert asyncio.run(fetch(5)) == "done"
    assert len(flaky.calls) == 3
    assert tracker_for(monitor).count("fetch", "ok") == 1


def test_async_backoff_does_not_block_the_event_loop(monitor, breakers):
    flaky = Flaky(failures=2)

    @coordinate_operation(error_config={"max_retries": 2, "base_delay": 0.05}, operation_name="slow",
                          monitor=monitor, breakers=breakers)
    async def slow():
        return flaky()

    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        result = await slow()
        task.cancel()
        return result, ticks

    result, ticks = asyncio.run(main())
    assert result == "done"
    assert ticks >= 10  # 0.15 s of backoff, 5 ms per tick: a blocking sleep would allow ~1


def test_async_rules_breaker_and_give_up(monitor, breakers):
    calls = []

    @coordinate_operation(validation_rules={"required_fields": "item"}, operation_name="put",
                          error_config={**FAST, "max_retries": 1}, monitor=monitor, breakers=breakers)
    async def put(item=None):
        calls.append(item)
        raise ConnectionError("down")

    with pytest.raises(ValidationError, match="item is missing"):
        asyncio.run(put())
    for _ in range(2):
        with pytest.raises(ConnectionError):
            asyncio.run(put("x"))
    assert len(calls) == 4
    with pytest.raises(CallNotPermitted):
        asyncio.run(put("x"))
    assert len(calls) == 4


def test_async_non_retryable_error_and_breaker_opening_between_attempts(monitor, breakers):
    @coordinate_operation(operation_name="a", error_config=FAST, monitor=monitor, breakers=breakers)
    async def bad():
        raise ValueError("no")

    with pytest.raises(ValueError):
        asyncio.run(bad())
    assert tracker_for(monitor).last_error("a").attempts == 1

    breaker = breakers.get("b")

    @coordinate_operation(operation_name="b", error_config=FAST, monitor=monitor, breakers=breakers)
    async def trips():
        breaker.force_open()
        raise ConnectionError("down")

    with pytest.raises(CallNotPermitted) as refused:
        asyncio.run(trips())
    assert isinstance(refused.value.__cause__, ConnectionError)


def test_async_total_budget_ends_retries_early(monitor, breakers):
    flaky = Flaky(failures=10)

    @coordinate_operation(operation_name="budget", monitor=monitor, breakers=breakers,
                          error_config={"max_retries": 10, "base_delay": 0.05,
                                        "backoff_multiplier": 10, "total_budget": 0.3})
    async def call():
        return flaky()

    with pytest.raises(ConnectionError):
        asyncio.run(call())
    assert len(flaky.calls) == 2  # waits 0.05, then 0.5 more would pass the budget


def test_a_cancelled_async_call_hands_its_permit_back(monitor, breakers):
    started = asyncio.Event

    @coordinate_operation(operation_name="cancel", error_config=FAST, monitor=monitor, breakers=breakers)
    async def forever(flag):
        flag.set()
        await asyncio.sleep(3600)

    async def main():
        flag = started()
        task = asyncio.create_task(forever(flag))
        await flag.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    snap = breakers.get("cancel").snapshot()
    assert (snap.successes, snap.failures, snap.ignored) == (0, 0, 1)
