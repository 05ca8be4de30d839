"""@coordinate_operation on plain functions: rules, retries, breaker, metrics."""
from __future__ import annotations

import inspect
import logging
import time

import pytest
from integration_support import Flaky

from quarterdeck.core.integration import (
    CallNotPermitted,
    Operation,
    PermanentError,
    RetryableError,
    ValidationError,
    coordinate_operation,
    tracker_for,
)

FAST = {"max_retries": 3, "base_delay": 0.001, "error_severity": "MEDIUM"}


def coordinated(fn, monitor, breakers, **settings):
    settings.setdefault("error_config", FAST)
    settings.setdefault("operation_name", "op")
    return coordinate_operation(monitor=monitor, breakers=breakers, **settings)(fn)


def test_a_flaky_function_is_really_called_again_until_it_succeeds(monitor, breakers):
    flaky = Flaky(failures=2)
    op = coordinated(flaky, monitor, breakers)
    assert op(1, data={"x": 1}) == "done"
    assert len(flaky.calls) == 3
    assert flaky.calls[0] == ((1,), {"data": {"x": 1}})
    tracker = tracker_for(monitor)
    assert tracker.count("op", "ok") == 1
    assert tracker.retries.labels("op").value == 2
    assert tracker.seconds.labels("op").count == 1


def test_retries_stop_after_max_retries_and_the_original_error_is_raised(monitor, breakers):
    flaky = Flaky(failures=10)
    op = coordinated(flaky, monitor, breakers, error_config={**FAST, "max_retries": 2})
    with pytest.raises(ConnectionError, match="attempt 3 failed"):
        op()
    assert len(flaky.calls) == 3
    last = tracker_for(monitor).last_error("op")
    assert last.error == "ConnectionError: attempt 3 failed" and last.attempts == 3
    assert tracker_for(monitor).count("op", "failed") == 1


def test_waits_grow_exponentially(monitor, breakers):
    flaky = Flaky(failures=3)
    op = coordinated(flaky, monitor, breakers,
                     error_config={"max_retries": 3, "base_delay": 0.05, "backoff_multiplier": 2.0})
    start = time.monotonic()
    op()
    # 0.05 + 0.1 + 0.2: a constant backoff would take 0.15 s, so this tells them apart.
    assert time.monotonic() - start >= 0.35


def test_errors_outside_retry_on_are_not_retried(monitor, breakers):
    flaky = Flaky(failures=5, error=ValueError)
    op = coordinated(flaky, monitor, breakers)
    with pytest.raises(ValueError):
        op()
    assert len(flaky.calls) == 1


def test_retry_on_is_configurable_and_core_errors_keep_their_verdict(monitor, breakers):
    lookups = Flaky(failures=1, error=KeyError)
    op = coordinated(lookups, monitor, breakers, operation_name="kv",
                     error_config={**FAST, "retry_on": [KeyError]})
    assert op() == "done" and len(lookups.calls) == 2

    retryable = Flaky(failures=2, error=RetryableError)
    assert coordinated(retryable, monitor, breakers, operation_name="r",
                       error_config={**FAST, "retry_on": ()})() == "done"
    assert len(retryable.calls) == 3

    permanent = Flaky(failures=2, error=PermanentError)
    with pytest.raises(PermanentError):
        coordinated(permanent, monitor, breakers, operation_name="p",
                    error_config={**FAST, "retry_on": [Exception]})()
    assert len(permanent.calls) == 1


def test_a_tripped_breaker_rejects_without_calling_the_function(monitor, breakers):
    flaky = Flaky(failures=100)
    op = coordinated(flaky, monitor, breakers, operation_name="update_user_profile",
                     error_config={**FAST, "max_retries": 0})
    for _ in range(2):
        with pytest.raises(ConnectionError):
            op()
    assert len(flaky.calls) == 2
    with pytest.raises(CallNotPermitted, match="'update_user_profile' is OPEN"):
        op()
    assert len(flaky.calls) == 2
    assert tracker_for(monitor).count("update_user_profile", "rejected") == 1
    assert breakers.get("update_user_profile").snapshot().not_permitted == 1


def test_operations_with_the_same_name_share_one_breaker(monitor, breakers):
    first = coordinated(Flaky(100), monitor, breakers, operation_name="shared",
                        error_config={**FAST, "max_retries": 0})
    second_fn = Flaky(0)
    second = coordinated(second_fn, monitor, breakers, operation_name="shared")
    for _ in range(2):
        with pytest.raises(ConnectionError):
            first()
    with pytest.raises(CallNotPermitted):
        second()
    assert second_fn.calls == []


def test_the_breaker_opening_between_retries_ends_the_call(monitor, breakers):
    breaker = breakers.get("op")
    flaky = Flaky(failures=100)

    def fail_and_trip():
        breaker.force_open()
        return flaky()

    op = coordinated(fail_and_trip, monitor, breakers)
    with pytest.raises(CallNotPermitted) as refused:
        op()
    assert len(flaky.calls) == 1
    assert isinstance(refused.value.__cause__, ConnectionError)


@pytest.mark.parametrize("args, kwargs, message", [
    ((), {}, "user_id is missing; data is missing"),
    ((7,), {}, "data is missing"),
    ((7, {}), {}, "data is empty"),
    (("  ",), {"data": {"a": 1}}, "user_id is empty"),
    ((7, None), {}, "data is missing"),
])
def test_a_missing_or_empty_required_field_is_refused_and_the_function_not_called(
        monitor, breakers, args, kwargs, message):
    flaky = Flaky(0)

    def update_user_profile(user_id=None, data=None):
        return flaky(user_id, data)

    op = coordinated(update_user_profile, monitor, breakers, operation_name="update_user_profile",
                     validation_rules={"required_fields": ["user_id", "data"]})
    with pytest.raises(ValidationError) as invalid:
        op(*args, **kwargs)
    assert str(invalid.value) == f"update_user_profile: invalid input: {message}"
    assert flaky.calls == []
    assert tracker_for(monitor).count("update_user_profile", "invalid") == 1
    assert breakers.get("update_user_profile").snapshot().successes == 0


def test_rules_see_defaults_and_kwargs_and_dotted_fields(monitor, breakers):
    def save(user_id, data, mode="merge", **extra):
        return (user_id, data, mode, extra)

    op = coordinated(save, monitor, breakers, validation_rules={
        "allowed_values": {"mode": ["merge", "replace"]},
        "required_fields": ["source"],
        "max_length": {"data.name": 5},
        "field_types": {"user_id": int},
    })
    assert op(1, {"name": "Ann"}, source="api") == (1, {"name": "Ann"}, "merge", {"source": "api"})
    with pytest.raises(ValidationError) as invalid:
        op(True, {"name": "Annabel"}, mode="drop")
    fields = [v.field for v in invalid.value.violations]
    assert fields == ["source", "user_id", "data.name", "mode"]


def test_rules_naming_a_missing_parameter_fail_when_decorating(monitor, breakers):
    with pytest.raises(ValueError, match="'usr_id'"):
        coordinated(lambda user_id: user_id, monitor, breakers,
                    validation_rules={"required_fields": ["usr_id"]})


def test_wraps_keeps_name_doc_and_signature(monitor, breakers):
    @coordinate_operation(monitor=monitor, breakers=breakers)
    def update_user_profile(user_id: int, data: dict) -> str:
        """Update a profile."""
        return "ok"

    assert update_user_profile.__name__ == "update_user_profile"
    assert update_user_profile.__doc__ == "Update a profile."
    assert list(inspect.signature(update_user_profile).parameters) == ["user_id", "data"]
    assert update_user_profile.operation.name.endswith("update_user_profile")


def test_a_final_failure_is_logged_at_the_configured_severity_without_secrets(monitor, breakers, caplog):
    def leak():
        raise ConnectionError("token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 refused")

    op = coordinated(leak, monitor, breakers,
                     error_config={**FAST, "max_retries": 0, "error_severity": "critical"})
    with caplog.at_level(logging.DEBUG, logger="quarterdeck.core.integration"), pytest.raises(ConnectionError):
        op()
    final = [r for r in caplog.records if "failed after" in r.getMessage()]
    assert [r.levelno for r in final] == [logging.CRITICAL]
    assert "ghp_" not in caplog.text and "[REDACTED:github_token]" in caplog.text
    assert "ghp_" not in tracker_for(monitor).last_error("op").error


def test_operations_need_a_name_and_outcomes_are_checked(monitor):
    with pytest.raises(ValueError, match="non-empty name"):
        Operation("", monitor=monitor)
    assert repr(Operation("x", monitor=monitor)) == "Operation('x')"
    with pytest.raises(ValueError, match="outcome must be one of"):
        tracker_for(monitor).record("x", "maybe")
    assert tracker_for(monitor) is tracker_for(monitor)
