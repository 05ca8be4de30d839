"""A WSGI app behind CoordinationMiddleware, served by wsgiref on 127.0.0.1."""
import json
import threading
import urllib.error
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

from quarterdeck.core.integration import CoordinationMiddleware


def app(environ, start_response):
    if environ["PATH_INFO"] == "/crash":
        raise RuntimeError("cannot connect: db password: S3cr3t-Pa55w0rd-xyz")
    size = int(environ.get("CONTENT_LENGTH") or 0)
    user = json.loads(environ["wsgi.input"].read(size) or b"{}")
    start_response("201 Created", [("Content-Type", "application/json")])
    return [json.dumps({"created": user["name"]}).encode()]


coordination = CoordinationMiddleware(
    rules={"POST /users": {"required_fields": ["name", "email"], "patterns": {"email": "@"}}},
    routes=["/crash"],
)


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", 0, coordination.wsgi(app), handler_class=Quiet)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_port}"


def call(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, data)) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


print(*call("/users", {"name": "Ann", "email": "ann@example.com"}))
print(*call("/users", {"name": "Bob"}))
status, body = call("/crash")
print(status, sorted(json.loads(body)))
status, body = call("/health")
print(status, json.loads(body)["status"])
status, metrics = call("/metrics")
print([line for line in metrics.splitlines() if line.startswith("quarterdeck_http_requests_total")])
server.shutdown()
server.server_close()
