"""Fixtures: a patched sandbox and a stock one, each a real server process on a free port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

HERE = Path(__file__).resolve().parent.parent
REGION = "us-east-1"


class Sandbox:
    def __init__(self, stock: bool) -> None:
        args = [sys.executable, "-u", str(HERE / "sandbox.py"), "--port", "0", "--exit-on-stdin-eof"]
        if stock:
            args.append("--stock")
        self.proc = subprocess.Popen(args, cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("READY "), f"sandbox did not start: {line!r}"
        self.url = line.split()[1]

    def control(self, method: str, path: str, body: object | None = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}/_sandbox{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as res:
            return json.loads(res.read())

    def client(self, service: str, **config):  # type: ignore[no-untyped-def]
        return boto3.client(
            service, region_name=REGION, endpoint_url=self.url,
            aws_access_key_id="sandbox", aws_secret_access_key="sandbox",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config),
        )

    def stop(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def patched():
    box = Sandbox(stock=False)
    yield box
    box.stop()


@pytest.fixture(scope="session")
def stock():
    box = Sandbox(stock=True)
    yield box
    box.stop()


@pytest.fixture(autouse=True)
def fresh(request):
    """Every test starts from an empty account with default settings."""
    for name in ("patched", "stock"):
        if name in request.fixturenames:
            request.getfixturevalue(name).control("POST", "/reset", {})
    yield
