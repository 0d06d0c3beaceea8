"""Portico's local AWS sandbox: moto server + fidelity patches + fault layer + call log.

    python sandbox.py [--port 0] [--stock] [--demo REGION] [--exit-on-stdin-eof] [--parent-pid PID]

Prints `READY http://127.0.0.1:PORT` once it answers. Control API (JSON), beside moto's own
/moto-api/:
    GET  /_sandbox/health                 → {"ok": true, "patched": bool}
    POST /_sandbox/reset                  → moto reset; faults, call log and settings back to defaults
    GET  /_sandbox/calls                  → {"calls": {service: {operation: n}}, "injected": …, "total": n,
                                             "in_flight": n (calls being carried out now)}
    POST /_sandbox/calls/reset
    GET  /_sandbox/faults    POST /_sandbox/faults {service, operation, kind, rate, count, latency_ms}
    DELETE /_sandbox/faults
    GET  /_sandbox/quotas    POST /_sandbox/quotas {"enforce": bool} → AWS's request quotas on or off
    GET  /_sandbox/config    POST /_sandbox/config {vpc_link_pending_seconds, vpc_link_fail_message,
                                                    target_initial_seconds, unhealthy_instances}
    POST /_sandbox/demo {"region": "ap-northeast-2"} → the demo account's VPC, subnets, instances
    POST /_sandbox/traffic {"region", "api", "stages": […], "gateway"?} or {"topology": PATH} → 30
                                          days of API Gateway metrics for a REST API's stages, and of
                                          the gateway's load balancer once it exists (demo.traffic)
    POST /_sandbox/handbuilt {"region": …, "name": "orders"} → a hand-built setup to adopt
    POST /_sandbox/instances/stop|start {"region", "instance_id"}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import demo
import handbuilt
import patches
import rpcv2_cbor
from faults import FaultLayer


class ControlApi:
    """Serves /_sandbox/*; everything else goes to the fault layer and moto."""

    def __init__(self, moto_app, settings: patches.Settings | None, base_url_ref: list) -> None:  # type: ignore[no-untyped-def]
        self.moto_app = moto_app
        self.faults = FaultLayer(moto_app)
        # Stock moto answers CloudWatch only in its JSON and query protocols, not in the CBOR
        # the AWS SDK for Rust sends: with --stock, CloudWatch stays unreadable, as it is for
        # Portico against a stock emulator.
        self.front = rpcv2_cbor.RpcV2Cbor(self.faults) if settings is not None else self.faults
        self.settings = settings
        self.base_url_ref = base_url_ref

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if not environ.get("PATH_INFO", "").startswith("/_sandbox/"):
            return self.front(environ, start_response)
        request = Request(environ)
        try:
            status, payload = self.handle(request)
        except (ValueError, TypeError, KeyError) as err:
            status, payload = 400, {"error": str(err)}
        response = Response(json.dumps(payload, indent=1), status=status, mimetype="application/json")
        return response(environ, start_response)

    def handle(self, request: Request) -> tuple[int, object]:
        path, method = request.path.removeprefix("/_sandbox"), request.method
        raw = request.get_data() or b"{}"
        body = json.loads(raw)  # curl -d sends no JSON content type; read the body regardless
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        if path == "/health":
            return 200, {"ok": True, "patched": self.settings is not None}
        if path == "/reset" and method == "POST":
            self.reset_moto()
            demo.forget()
            self.faults.clear()
            self.faults.reset_calls()
            self.faults.quotas.set(False)
            if self.settings is not None:
                self.settings.update(patches.Settings().as_dict())
            return 200, {"reset": True}
        if path == "/calls":
            return 200, self.faults.call_log()
        if path == "/calls/reset" and method == "POST":
            self.faults.reset_calls()
            return 200, {"reset": True}
        if path == "/faults":
            if method == "POST":
                fault = self.faults.add(body)
                return 201, fault.__dict__
            if method == "DELETE":
                self.faults.clear()
                return 200, {"cleared": True}
            with self.faults.lock:
                return 200, [f.__dict__ for f in self.faults.faults]
        if path == "/quotas":
            if method == "POST":
                self.faults.quotas.set(body.get("enforce", False))
            return 200, {"enforce": self.faults.quotas.enforce}
        if path == "/config":
            if self.settings is None:
                return 409, {"error": "stock moto: started with --stock, no patches to configure"}
            if method == "POST":
                self.settings.update(body)
            return 200, self.settings.as_dict()
        if path == "/demo" and method == "POST":
            return 200, demo.seed(self.base_url_ref[0], body.get("region", "ap-northeast-2"))
        if path == "/traffic" and method == "POST":
            if "topology" in body:
                # A Portico topology file: its gateway's REST API (by name) and stages.
                import yaml

                with open(body["topology"], encoding="utf-8") as f:
                    topology = yaml.safe_load(f)
                gateway = topology["gateway"]
                api = ((gateway.get("adopted") or {}).get("rest_api") or {}).get("name") or gateway["name"]
                body = {"region": gateway["region"], "api": api, "gateway": gateway["name"],
                        "stages": [s["name"] for s in topology.get("stages") or []]}
            return 200, demo.traffic(
                self.base_url_ref[0], body.get("region", "ap-northeast-2"), body["api"], list(body["stages"]),
                now=body.get("now"), gateway=body.get("gateway"),
            )
        if path == "/handbuilt" and method == "POST":
            region = body.get("region", "ap-northeast-2")
            return 200, handbuilt.build(self.base_url_ref[0], region, body.get("name", "orders"))
        if path in ("/instances/stop", "/instances/start") and method == "POST":
            # What an operator does in the EC2 console: the target then reports `unused`.
            ec2 = demo.client(self.base_url_ref[0], "ec2", body.get("region", "ap-northeast-2"))
            ids = [body["instance_id"]]
            if path.endswith("stop"):
                ec2.stop_instances(InstanceIds=ids)
            else:
                ec2.start_instances(InstanceIds=ids)
            return 200, {"instance_id": body["instance_id"], "done": path.rsplit("/", 1)[1]}
        return 404, {"error": f"no such sandbox endpoint: {method} {request.path}"}

    def reset_moto(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()


def watch_parent(parent_pid: int | None, stdin_eof: bool, stop) -> None:  # type: ignore[no-untyped-def]
    """Stop when whoever started us is gone, so no sandbox outlives a crashed test run."""
    if stdin_eof:
        def wait_eof() -> None:
            while sys.stdin.buffer.read(4096):
                pass
            stop()

        threading.Thread(target=wait_eof, daemon=True).start()
    if parent_pid:
        def poll() -> None:
            while True:
                try:
                    os.kill(parent_pid, 0)
                except OSError:
                    stop()
                    return
                time.sleep(0.5)

        threading.Thread(target=poll, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--stock", action="store_true", help="no fidelity patches (to show what they fix)")
    parser.add_argument("--demo", metavar="REGION", help="seed the demo account in REGION at start")
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    parser.add_argument("--parent-pid", type=int)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()
    if not args.verbose:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    settings = None
    if not args.stock:
        settings = patches.Settings()
        patches.apply(settings)
    # Not a fidelity patch: inert until the demo's traffic waits for a load balancer.
    demo.install_load_balancer_traffic()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_app = DomainDispatcherApplication(create_backend_app)
    base_url_ref = [""]
    app = ControlApi(moto_app, settings, base_url_ref)
    server = make_server(args.host, args.port, app, threaded=True)
    base_url_ref[0] = f"http://{args.host}:{server.server_port}"
    os.environ["MOTO_PORT"] = str(server.server_port)

    stopping = threading.Event()

    def stop() -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    watch_parent(args.parent_pid, args.exit_on_stdin_eof, stop)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: stop())
    signal.signal(signal.SIGINT, lambda *_: stop())

    if args.demo:
        threading.Thread(target=lambda: print_demo(base_url_ref[0], args.demo), daemon=True).start()
    print(f"READY {base_url_ref[0]}", flush=True)
    server.serve_forever()


def print_demo(base_url: str, region: str) -> None:
    # moto's ids come from a seeded generator: the demo account gets the same VPC, subnet and
    # instance ids on every start, so a demo database from an earlier run still fits.
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{base_url}/moto-api/seed?a=42", method="POST")).read()
    account = demo.seed(base_url, region)
    print(
        f"DEMO region={account['region']} vpc={account['vpc_id']} "
        f"subnets={','.join(account['subnet_ids'])} instances={','.join(account['instance_ids'])}",
        flush=True,
    )
    # The second account state: a setup built by hand before Portico, to adopt.
    built = handbuilt.build(base_url, region)
    print(f"HANDBUILT rest_api={built['rest_api_id']} name={built['name']}", flush=True)


if __name__ == "__main__":
    main()
