"""Guard a function with @coordinate_operation: argument rules, retries, a breaker, metrics."""
from quarterdeck.core.integration import ValidationError, coordinate_operation, default_monitor, tracker_for

attempts = []


@coordinate_operation(
    validation_rules={"required_fields": ["user_id", "data"], "max_length": {"data.name": 40}},
    error_config={"max_retries": 3, "base_delay": 0.01, "error_severity": "MEDIUM"},
    operation_name="update_user_profile",
)
def update_user_profile(user_id, data):
    attempts.append(user_id)
    if len(attempts) < 3:  # the profile service drops the first two connections
        raise ConnectionError("profile service unreachable")
    return {"user_id": user_id, **data}


print(update_user_profile(42, {"name": "Ann"}))
print("attempts:", len(attempts))

try:
    update_user_profile(42, {})
except ValidationError as invalid:
    print("refused:", invalid)

tracker = tracker_for(default_monitor())
print("ok:", tracker.count("update_user_profile", "ok"),
      "invalid:", tracker.count("update_user_profile", "invalid"))
