"""AWS's Smithy RPC v2 CBOR protocol, in front of moto.

The AWS SDK for Rust calls CloudWatch in Smithy RPC v2 CBOR (`POST /service/{target}/operation/
{Operation}`, `smithy-protocol: rpc-v2-cbor`, CBOR bodies), as CloudWatch itself prefers; moto
speaks only CloudWatch's JSON and query protocols. This layer turns such a request into the
same operation in AWS's JSON 1.0 protocol (`X-Amz-Target`), lets moto (and the fault layer and
call log in front of it) answer, and turns the answer back into CBOR typed by the service's
model: timestamps as CBOR epoch times (tag 1), doubles as floats, errors as `__type` and
`message` with AWS's status.
"""

from __future__ import annotations

import base64
import datetime
import io
import json

import botocore.session
import cbor2

# The Smithy service name in the path → botocore's service name.
SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}

_models: dict = {}


def _model(service: str):  # type: ignore[no-untyped-def]
    if service not in _models:
        _models[service] = botocore.session.get_session().get_service_model(service)
    return _models[service]


def _to_json(value):  # type: ignore[no-untyped-def]
    """CBOR values as AWS's JSON protocol writes them."""
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def _typed(value, shape):  # type: ignore[no-untyped-def]
    """A JSON answer's value as CBOR must carry it for `shape`."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        return {k: _typed(v, shape.members.get(k)) for k, v in value.items()}
    if kind == "list":
        return [_typed(v, shape.member) for v in value]
    if kind == "map":
        return {k: _typed(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, str):
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
        return datetime.datetime.fromtimestamp(float(value), tz=datetime.timezone.utc)
    if kind in ("double", "float"):
        return float(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


class RpcV2Cbor:
    """WSGI middleware: RPC v2 CBOR requests for the services in SERVICES, via their JSON protocol."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        path = environ.get("PATH_INFO", "")
        target, _, operation = path.removeprefix("/service/").partition("/operation/")
        if not (path.startswith("/service/") and operation and target in SERVICES):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = environ["wsgi.input"].read(length)
        elif environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read()  # chunked: read to its end
        else:
            body = b""
        params = cbor2.loads(body) if body else {}
        payload = json.dumps(_to_json(params)).encode()
        inner = dict(environ)
        inner.update(
            {
                "PATH_INFO": "/",
                "CONTENT_TYPE": "application/x-amz-json-1.0",
                "CONTENT_LENGTH": str(len(payload)),
                "HTTP_X_AMZ_TARGET": f"{target}.{operation}",
                "wsgi.input": io.BytesIO(payload),
            }
        )
        answered: dict = {}

        def capture(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
            answered["status"], answered["headers"] = status, headers
            return lambda _data: None

        chunks = self.app(inner, capture)
        try:
            raw = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status = answered["status"]
        try:
            answer = json.loads(raw) if raw.strip() else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            # Not an answer of the JSON protocol (a moto page, a 404): AWS's internal failure.
            status, answer = "500 Internal Server Error", {"__type": "InternalFailure"}
        if int(status.split()[0]) < 300:
            output = _model(SERVICES[target]).operation_model(operation).output_shape
            answer = _typed(answer, output) if output is not None else {}
        else:
            code = str(answer.get("__type") or answer.get("Code") or "InternalFailure")
            message = answer.get("message") or answer.get("Message") or ""
            answer = {"__type": code.rpartition("#")[2], "message": message}
        encoded = cbor2.dumps(answer, datetime_as_timestamp=True)
        headers = [
            (k, v)
            for k, v in answered["headers"]
            if k.lower() not in ("content-type", "content-length", "x-amz-crc32")
        ]
        headers += [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(encoded))),
        ]
        start_response(status, headers)
        return [encoded]
