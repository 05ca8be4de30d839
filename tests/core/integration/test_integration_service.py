"""CoordinationServiceWrapper: every public method of an object becomes a coordinated operation."""
from __future__ import annotations

import asyncio
import copy
import re

import pytest

from quarterdeck.core.integration import CallNotPermitted, CoordinationServiceWrapper, ValidationError, tracker_for

FAST = {"max_retries": 2, "base_delay": 0.001}


class UserService:
    """A stand-in for an existing service with a flaky backend."""

    region = "eu"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.failures = 0

    def update_profile(self, user_id, data):
        self.calls.append("update_profile")
        if self.failures:
            self.failures -= 1
            raise ConnectionError("backend unavailable")
        return {"user_id": user_id, **data}

    def delete(self, user_id):
        self.calls.append("delete")
        raise ConnectionError("backend unavailable")

    async def fetch(self, user_id):
        self.calls.append("fetch")
        await asyncio.sleep(0)
        if self.failures:
            self.failures -= 1
            raise TimeoutError("slow backend")
        return {"user_id": user_id}

    def _internal(self):
        return "private"


@pytest.fixture
def service():
    return UserService()


def wrap(service, monitor, breakers, **kwargs):
    kwargs.setdefault("error_config", FAST)
    return CoordinationServiceWrapper(service, monitor=monitor, breakers=breakers, **kwargs)


def test_public_methods_validate_retry_and_measure(service, monitor, breakers):
    users = wrap(service, monitor, breakers,
                 rules={"update_profile": {"required_fields": ["user_id", "data"]}},
                 names={"update_profile": "update_user_profile"})
    service.failures = 2
    assert users.update_profile(7, {"name": "Ann"}) == {"user_id": 7, "name": "Ann"}
    assert service.calls == ["update_profile"] * 3
    with pytest.raises(ValidationError, match="data is empty"):
        users.update_profile(7, {})
    assert len(service.calls) == 3
    tracker = tracker_for(monitor)
    assert tracker.count("update_user_profile", "ok") == 1
    assert tracker.count("update_user_profile", "invalid") == 1
    assert users.operation_name("delete") == "UserService.delete"


def test_each_method_has_its_own_breaker(service, monitor, breakers):
    users = wrap(service, monitor, breakers, error_configs={"delete": {"max_retries": 0}})
    for _ in range(2):
        with pytest.raises(ConnectionError):
            users.delete(1)
    assert service.calls == ["delete", "delete"]
    with pytest.raises(CallNotPermitted, match=re.escape("UserService.delete")):
        users.delete(1)
    assert service.calls == ["delete", "delete"]
    assert users.update_profile(1, {"a": 1})["a"] == 1  # another breaker, still closed


def test_async_methods_stay_async(service, monitor, breakers):
    users = wrap(service, monitor, breakers)
    service.failures = 1
    assert asyncio.run(users.fetch(3)) == {"user_id": 3}
    assert service.calls == ["fetch", "fetch"]


def test_other_attributes_pass_through(service, monitor, breakers):
    users = wrap(service, monitor, breakers)
    assert users.region == "eu" and users._internal() == "private"
    assert users.wrapped_service is service
    assert users.update_profile is users.update_profile  # wrapped once, then cached
    users.region = "us"
    assert service.region == "us"
    assert "update_profile" in dir(users) and "UserService" in repr(users)
    with pytest.raises(AttributeError):
        users.missing_method()


def test_a_copy_of_the_wrapper_works_like_the_original(service, monitor, breakers):
    users = wrap(service, monitor, breakers)
    clone = copy.copy(users)
    assert clone.update_profile(1, {"a": 2}) == {"user_id": 1, "a": 2}
    assert clone.wrapped_service is service


def test_settings_for_methods_that_do_not_exist_are_refused(service, monitor, breakers):
    with pytest.raises(ValueError, match="'update_profil'"):
        wrap(service, monitor, breakers, rules={"update_profil": {"required_fields": ["x"]}})
    with pytest.raises(ValueError, match="'_internal'"):
        wrap(service, monitor, breakers, names={"_internal": "x"})
    with pytest.raises(ValueError, match="'region'"):
        wrap(service, monitor, breakers, error_configs={"region": {}})
