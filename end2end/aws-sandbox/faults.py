"""The fault layer and call log: WSGI middleware in front of moto.

Every AWS call is named (service from the SigV4 credential scope, operation from the query
`Action` or, for REST-JSON services, by matching the path against botocore's own service
model), counted, and possibly answered with an injected fault in that service's own error
format instead of reaching moto.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import botocore.session

from quotas import Quotas

# Signing names as they appear in the SigV4 scope → botocore service model names.
SIGNING_TO_MODEL = {"apigateway": "apigateway", "elasticloadbalancing": "elbv2", "ec2": "ec2"}


class RestOperations:
    """Maps (method, path) to an operation name for REST services, from botocore's model."""

    def __init__(self) -> None:
        self._routes: dict[str, list[tuple[str, re.Pattern, int, str]]] = {}
        self._session = botocore.session.get_session()
        self._lock = threading.Lock()

    def _load(self, model_name: str) -> list:
        with self._lock:
            if model_name not in self._routes:
                model = self._session.get_service_model(model_name)
                routes = []
                for name in model.operation_names:
                    http = model.operation_model(name).http
                    uri = http.get("requestUri", "/").split("?")[0]
                    literal = len(re.sub(r"\{[^}]+\}", "", uri))
                    pattern = re.sub(r"\\\{[^}]+?\\\+\\\}", ".+", re.escape(uri))
                    pattern = re.sub(r"\\\{[^}]+?\\\}", "[^/]+", pattern)
                    routes.append((http.get("method", "POST"), re.compile(f"^{pattern}/?$"), literal, name))
                # The most literal template wins: /restapis/{id}/deployments before /restapis/{id}/{x}.
                routes.sort(key=lambda r: -r[2])
                self._routes[model_name] = routes
            return self._routes[model_name]

    def name(self, model_name: str, method: str, path: str) -> str:
        for http_method, pattern, _, op in self._load(model_name):
            if http_method == method and pattern.match(path):
                return op
        return f"{method} {path}"


@dataclass
class Fault:
    service: str = "*"  # signing name: apigateway, elasticloadbalancing, ec2, or *
    operation: str = "*"  # e.g. CreateDeployment, or *
    # throttle | 500 | 503 | latency | denied (AWS's AccessDenied answer, as when Portico's IAM
    # policy lacks the action), or applied-500 | applied-drop: the call is carried out, then
    # its answer is a 500 or a connection cut mid-answer (a create that happened though the
    # caller saw it fail).
    kind: str = "throttle"
    rate: float = 1.0  # probability per matching call
    count: int | None = None  # only the next N matching calls, then the fault retires
    latency_ms: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    fired: int = 0

    def matches(self, service: str, operation: str) -> bool:
        return self.service in ("*", service) and self.operation in ("*", operation)


KINDS = ("throttle", "500", "503", "latency", "denied", "applied-500", "applied-drop")


class FaultLayer:
    def __init__(self, app, seed: int = 0) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.ops = RestOperations()
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self.calls: Counter = Counter()
        self.injected: Counter = Counter()
        # AWS calls being carried out now: a call keeps going after its caller is gone (killed
        # mid-call), as in AWS, so a test waits for these before it reads the account.
        self.in_flight = 0
        self.random = random.Random(seed)
        self.quotas = Quotas()

    # -- control -------------------------------------------------------------------------

    def add(self, spec: dict) -> Fault:
        known = {k for k in Fault.__dataclass_fields__ if k not in ("id", "fired")}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s) {', '.join(unknown)}; use {', '.join(sorted(known))}")
        fault = Fault(**spec)
        if fault.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if not 0.0 <= float(fault.rate) <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()
            self.injected.clear()

    def call_log(self) -> dict:
        with self.lock:
            out: dict = {
                "calls": {},
                "injected": {},
                "total": sum(self.calls.values()),
                "in_flight": self.in_flight,
            }
            for (service, op), n in sorted(self.calls.items()):
                out["calls"].setdefault(service, {})[op] = n
            for (service, op, kind), n in sorted(self.injected.items()):
                out["injected"].setdefault(service, {}).setdefault(op, {})[kind] = n
            return out

    # -- the request path ----------------------------------------------------------------

    def identify(self, environ: dict) -> tuple[str, str, bytes]:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = re.search(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request", auth)
        service = scope.group(1) if scope else "unknown"
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        method = environ.get("REQUEST_METHOD", "GET")
        # The path as sent, so an ARN in it (`/tags/arn%3A...%2Frestapis%2F...`) stays one
        # segment, as botocore's route templates expect.
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        path = raw.split("?", 1)[0] if raw else environ.get("PATH_INFO", "/")
        action = parse_qs(environ.get("QUERY_STRING", "")).get("Action") or parse_qs(
            body.decode("utf-8", "replace")
        ).get("Action")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if action:
            operation = action[0]
        elif target:
            # AWS's JSON protocol (CloudWatch, as the CBOR layer hands it on).
            operation = target.rpartition(".")[2]
        elif service in SIGNING_TO_MODEL:
            operation = self.ops.name(SIGNING_TO_MODEL[service], method, path)
        else:
            operation = f"{method} {path}"
        return service, operation, body

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api") or path.startswith("/_sandbox"):
            return self.app(environ, start_response)
        service, operation, body = self.identify(environ)
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        fault = None
        with self.lock:
            self.calls[(service, operation)] += 1
            over_quota = not self.quotas.allow(service, operation)
            if over_quota:
                self.injected[(service, operation, "quota")] += 1
            for candidate in [] if over_quota else self.faults:
                if candidate.matches(service, operation) and self.random.random() < float(candidate.rate):
                    fault = candidate
                    fault.fired += 1
                    if fault.count is not None and fault.fired >= fault.count:
                        self.faults.remove(fault)
                    if fault.kind != "latency":
                        self.injected[(service, operation, fault.kind)] += 1
                    break
        if over_quota:
            return error_response(service, "throttle", start_response, operation)
        with self.lock:
            self.in_flight += 1
        try:
            if fault is not None:
                if fault.kind == "latency":
                    time.sleep(fault.latency_ms / 1000.0)
                elif fault.kind.startswith("applied-"):
                    return self.applied_then_lost(environ, service, fault.kind, start_response)
                else:
                    return error_response(service, fault.kind, start_response, operation)
            return self.app(environ, start_response)
        finally:
            with self.lock:
                self.in_flight -= 1

    def applied_then_lost(self, environ, service, kind, start_response):  # type: ignore[no-untyped-def]
        """Carries the call out in moto, then loses its answer: a 500, or a response cut off
        after a few bytes (the client reads a dropped connection)."""
        answer = self.app(environ, lambda status, headers, exc_info=None: (lambda data: None))
        try:
            for _ in answer:
                pass
        finally:
            close = getattr(answer, "close", None)
            if close:
                close()
        if kind == "applied-500":
            return error_response(service, "500", start_response)
        # Cut the connection before any answer: the client sees it drop after sending.
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            import socket

            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return [b""]


DENIED = "User: arn:aws:iam::123456789012:user/portico is not authorized to perform: {action}"


def error_response(service: str, kind: str, start_response, operation: str = ""):  # type: ignore[no-untyped-def]
    request_id = str(uuid.uuid4())
    if service == "apigateway":
        status, code, message = {
            "throttle": ("429 Too Many Requests", "TooManyRequestsException", "Too Many Requests"),
            "500": ("500 Internal Server Error", "InternalFailure", "Internal server error"),
            "503": ("503 Service Unavailable", "ServiceUnavailableException", "Service Unavailable"),
            "denied": ("403 Forbidden", "AccessDeniedException", DENIED.format(action="apigateway:GET")),
        }[kind]
        body = json.dumps({"message": message}).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", request_id),
        ]
    elif service == "monitoring":
        # CloudWatch's JSON protocol (turned into CBOR on the way out).
        status, code, message = {
            "throttle": ("400 Bad Request", "Throttling", "Rate exceeded"),
            "500": ("500 Internal Server Error", "InternalServiceFault", "Internal failure"),
            "503": ("503 Service Unavailable", "ServiceUnavailable", "Service unavailable"),
            "denied": ("403 Forbidden", "AccessDenied", DENIED.format(action=f"cloudwatch:{operation}")),
        }[kind]
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)]
    else:
        # Query/XML services (ELBv2, EC2-style): throttling is a 400 with code Throttling.
        status, code, message = {
            "throttle": ("400 Bad Request", "Throttling", "Rate exceeded"),
            "500": ("500 Internal Server Error", "InternalFailure", "Internal failure"),
            "503": ("503 Service Unavailable", "ServiceUnavailable", "Service unavailable"),
            "denied": (
                "403 Forbidden",
                "AccessDenied",
                DENIED.format(action=f"elasticloadbalancing:{operation}")
                + f" because no identity-based policy allows the elasticloadbalancing:{operation} action",
            ),
        }[kind]
        kind_of = "Sender" if kind in ("throttle", "denied") else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{kind_of}</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    start_response(status, headers + [("Content-Length", str(len(body)))])
    return [body]
