"""An ASGI app behind CoordinationMiddleware; serve `app` with any ASGI server.

Here it is called the way a server calls it, so the example runs without one.
"""
import asyncio
import json

from quarterdeck.core.integration import CoordinationMiddleware


async def orders(scope, receive, send):
    message = await receive()
    order = json.loads(message.get("body") or b"{}")
    await send({"type": "http.response.start", "status": 201,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps({"id": order["sku"]}).encode()})


app = CoordinationMiddleware(
    rules={"POST /orders": {"required_fields": ["sku"], "max_length": {"sku": 12}}},
).asgi(orders)


async def post(path, body):
    sent = []

    async def receive():
        return {"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "method": "POST", "path": path, "headers": []}, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


print(*asyncio.run(post("/orders", {"sku": "SKU-1"})))
print(*asyncio.run(post("/orders", {"sku": "SKU-1234567890"})))
