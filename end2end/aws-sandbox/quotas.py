"""AWS's request quotas, enforced when asked (POST /_sandbox/quotas {"enforce": true}).

Stock moto answers every call; AWS throttles. With quotas on, a call beyond them is answered as
AWS answers it (API Gateway: 429 TooManyRequestsException; ELB: Throttling) and counted in the
call log's `injected` as `quota`, so a benchmark can show that a client provoked none.

The buckets are AWS's published ones (FACTS.md section 3 for API Gateway; the ELB guide's API
throttling page for `Describe*`). ELB's buckets for changes are larger than the 10-then-2-a-
second Portico keeps to, which leaves room for the console and other tools in the account;
the sandbox holds Portico to its own margin, the stricter check. A call is let through if its
bucket would hold a token `GRACE` seconds later: a request granted on time by a client's
pacer can still reach the server a little early or late after another.
"""

from __future__ import annotations

import threading
import time

GRACE = 0.1

# operation: (burst, tokens per second)
API_GATEWAY = {
    "CreateDeployment": (1, 1 / 5),
    "CreateRestApi": (1, 1 / 3),
    "DeleteRestApi": (1, 1 / 30),
    "UpdateUsagePlan": (1, 1 / 20),
    "CreateApiKey": (5, 5),
    "DeleteApiKey": (5, 5),
    "CreateResource": (5, 5),
    "DeleteResource": (5, 5),
    "GetResources": (5, 5 / 2),
    "PutRestApi": (1, 1),
}
API_GATEWAY_ALL = (40, 10)
ELB_DESCRIBE = (40, 10)
ELB_CHANGES = (10, 2)


class Bucket:
    def __init__(self, burst: float, rate: float, now: float) -> None:
        self.burst, self.rate, self.tokens, self.last = burst, rate, float(burst), now

    def has(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        return self.tokens + GRACE * self.rate >= 1.0

    def take(self) -> None:
        self.tokens -= 1.0


class Quotas:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.enforce = False
        self.buckets: dict[tuple[str, str], Bucket] = {}

    def set(self, enforce: object) -> None:
        if not isinstance(enforce, bool):
            raise ValueError("enforce must be true or false")
        with self.lock:
            self.enforce = enforce
            self.buckets.clear()  # full buckets from now on

    def keys(self, service: str, operation: str) -> list[tuple[str, tuple[float, float]]]:
        if service == "apigateway":
            keys = [("*", API_GATEWAY_ALL)]
            if operation in API_GATEWAY:
                keys.append((operation, API_GATEWAY[operation]))
            return keys
        if service == "elasticloadbalancing":
            return [("Describe*", ELB_DESCRIBE) if operation.startswith("Describe") else ("changes", ELB_CHANGES)]
        return []

    def allow(self, service: str, operation: str) -> bool:
        """Takes the call's tokens if every bucket it needs has one; else takes none."""
        with self.lock:
            if not self.enforce:
                return True
            now = time.monotonic()
            buckets = [
                self.buckets.setdefault((service, key), Bucket(burst, rate, now))
                for key, (burst, rate) in self.keys(service, operation)
            ]
            if not all(b.has(now) for b in buckets):
                return False
            for b in buckets:
                b.take()
            return True
