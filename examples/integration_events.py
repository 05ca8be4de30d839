"""Event handlers with retries, a breaker and a dead-letter store you can replay from."""
from quarterdeck.core.integration import CoordinationEventProcessor

mail_server = {"up": True}  # stands in for the service the handler calls

processor = CoordinationEventProcessor(error_config={"max_retries": 2, "base_delay": 0.01})


@processor.handler("user.created", rules={"required_fields": ["user_id", "email"]})
def send_welcome_mail(payload):
    if not mail_server["up"]:
        raise ConnectionError("mail server unreachable")
    print("welcome mail sent to", payload["email"])
    return payload["user_id"]


if __name__ == "__main__":
    mail_server["up"] = False  # an outage: both events exhaust their retries
    first = processor.process("user.created", {"user_id": 1, "email": "ann@example.com"})
    second = processor.process("user.created", {"user_id": 2, "email": "bob@example.com"})
    print(first.status, first.reason, first.attempts)
    for entry in processor.dead_letters.list():
        print(entry.id, entry.event_type, entry.payload["email"], entry.error)

    mail_server["up"] = True  # the outage is over
    print(processor.replay(first.dead_letter_id).status)
    print("still waiting:", processor.dead_letters.count())
    processor.close()
