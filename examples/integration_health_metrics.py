"""The health tree and the Prometheus text of every coordinated operation in the process."""
import json

from quarterdeck.core.integration import CoordinationHealthChecker, CoordinationMetricsExporter, coordinate_operation


@coordinate_operation(operation_name="charge_card", error_config={"max_retries": 0})
def charge_card(amount):
    if amount > 100:
        raise ConnectionError("payment provider unavailable")
    return "charged"


charge_card(20)
for _ in range(5):  # five failures in a row open the breaker
    try:
        charge_card(500)
    except ConnectionError:
        pass

health = CoordinationHealthChecker().check_health()
card = health["components"]["operations"]["components"]["charge_card"]
print(health["status"], card["status"], card["details"]["breaker"])
print(json.dumps(card["details"]["calls"]))

text = CoordinationMetricsExporter().export_metrics()
print([line for line in text.splitlines() if line.startswith("quarterdeck_operation_calls_total")])
