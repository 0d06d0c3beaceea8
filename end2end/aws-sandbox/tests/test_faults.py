"""The fault layer and call log, seen through boto3 (the Rust SDK's view is tested in Rust)."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError


def test_calls_are_counted_per_service_and_operation(patched):  # type: ignore[no-untyped-def]
    apigw, elb = patched.client("apigateway"), patched.client("elbv2")
    api = apigw.create_rest_api(name="a")["id"]
    apigw.get_resources(restApiId=api)
    apigw.get_resources(restApiId=api)
    elb.describe_load_balancers()
    log = patched.control("GET", "/calls")
    assert log["calls"]["apigateway"] == {"CreateRestApi": 1, "GetResources": 2}
    assert log["calls"]["elasticloadbalancing"] == {"DescribeLoadBalancers": 1}
    patched.control("POST", "/calls/reset", {})
    assert patched.control("GET", "/calls")["total"] == 0


def test_throttle_next_n_calls_in_each_services_format(patched):  # type: ignore[no-untyped-def]
    patched.control("POST", "/faults", {"service": "apigateway", "operation": "GetRestApis", "kind": "throttle", "count": 2})
    patched.control("POST", "/faults", {"service": "elasticloadbalancing", "kind": "throttle", "count": 1})
    apigw, elb = patched.client("apigateway"), patched.client("elbv2")
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            apigw.get_rest_apis()
        assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    apigw.get_rest_apis()  # the fault retired after two
    apigw.create_rest_api(name="unaffected")
    with pytest.raises(ClientError) as err:
        elb.describe_target_groups()
    assert err.value.response["Error"]["Code"] == "Throttling"
    log = patched.control("GET", "/calls")
    assert log["injected"]["apigateway"]["GetRestApis"] == {"throttle": 2}
    assert log["calls"]["apigateway"]["GetRestApis"] == 3


@pytest.mark.parametrize("kind,status", [("500", 500), ("503", 503)])
def test_server_errors(patched, kind, status):  # type: ignore[no-untyped-def]
    patched.control("POST", "/faults", {"kind": kind, "count": 1})
    with pytest.raises(ClientError) as err:
        patched.client("apigateway").get_rest_apis()
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_access_denied_in_each_services_format(patched):  # type: ignore[no-untyped-def]
    patched.control("POST", "/faults", {"operation": "DescribeTargetHealth", "kind": "denied", "count": 1})
    patched.control("POST", "/faults", {"operation": "GetStages", "kind": "denied", "count": 1})
    with pytest.raises(ClientError) as err:
        patched.client("elbv2").describe_target_health(TargetGroupArn="arn:aws:elasticloadbalancing:x")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert "elasticloadbalancing:DescribeTargetHealth" in err.value.response["Error"]["Message"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as err:
        patched.client("apigateway").get_stages(restApiId="x")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"


def test_latency_and_rate(patched):  # type: ignore[no-untyped-def]
    patched.control("POST", "/faults", {"operation": "GetRestApis", "kind": "latency", "latency_ms": 300, "count": 1})
    started = time.monotonic()
    patched.client("apigateway").get_rest_apis()
    assert time.monotonic() - started >= 0.3
    patched.control("POST", "/faults", {"operation": "GetApiKeys", "kind": "throttle", "rate": 0.5})
    failures = 0
    for _ in range(40):
        try:
            patched.client("apigateway").get_api_keys()
        except ClientError:
            failures += 1
    assert 5 <= failures <= 35, failures
    patched.control("DELETE", "/faults")
    patched.client("apigateway").get_api_keys()


def test_bad_fault_specs_are_refused(patched):  # type: ignore[no-untyped-def]
    import urllib.error

    for spec, message in (
        ({"kind": "explode"}, "kind must be one of"),
        ({"rate": 2}, "rate must be between 0 and 1"),
        ({"nonsense": 1, "kind": "throttle"}, "unknown fault field(s) nonsense"),
    ):
        with pytest.raises(urllib.error.HTTPError) as err:
            patched.control("POST", "/faults", spec)
        assert err.value.code == 400
        assert message in json.loads(err.value.read())["error"]
    assert patched.control("GET", "/faults") == []


def test_demo_account_is_ready_and_idempotent(patched):  # type: ignore[no-untyped-def]
    first = patched.control("POST", "/demo", {"region": "ap-northeast-2"})
    assert len(first["subnet_ids"]) == 2 and len(first["instance_ids"]) == 2
    assert patched.control("POST", "/demo", {"region": "ap-northeast-2"}) == first
    import boto3

    ec2 = boto3.client("ec2", region_name="ap-northeast-2", endpoint_url=patched.url,
                       aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    zones = {s["AvailabilityZone"] for s in ec2.describe_subnets(SubnetIds=first["subnet_ids"])["Subnets"]}
    assert zones == {"ap-northeast-2a", "ap-northeast-2b"}
    states = {i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=first["instance_ids"])["Reservations"] for i in r["Instances"]}
    assert states == {"running"}


def test_the_hand_built_setup_is_the_console_walkthrough_untagged_and_idempotent(patched):  # type: ignore[no-untyped-def]
    first = patched.control("POST", "/handbuilt", {"region": "ap-northeast-2", "name": "hb"})
    assert patched.control("POST", "/handbuilt", {"region": "ap-northeast-2", "name": "hb"}) == first
    import boto3

    def client(service):  # type: ignore[no-untyped-def]
        return boto3.client(service, region_name="ap-northeast-2", endpoint_url=patched.url,
                            aws_access_key_id="sandbox", aws_secret_access_key="sandbox")

    apigw, elb = client("apigateway"), client("elbv2")
    api = apigw.get_rest_api(restApiId=first["rest_api_id"])
    assert not api.get("tags"), "built by hand: no Portico tag"
    paths = {r["path"] for r in apigw.get_resources(restApiId=api["id"])["items"]}
    assert {"/dev/{proxy+}", "/sprint/{proxy+}", "/release/{proxy+}"} <= paths
    assert {s["stageName"] for s in apigw.get_stages(restApiId=api["id"])["item"]} == {"dev", "sprint", "release"}
    lb = elb.describe_load_balancers(Names=["hb-nlb"])["LoadBalancers"][0]
    ports = sorted(l["Port"] for l in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"])
    assert ports == [8080, 8081, 8082]
    plan = next(p for p in apigw.get_usage_plans()["items"] if p["name"] == "hb standard")
    assert len(apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]) == 2


def test_control_api_reads_json_whatever_the_content_type(patched):  # type: ignore[no-untyped-def]
    """`curl -d '{…}'` sends application/x-www-form-urlencoded; the body is still JSON."""
    import json
    import urllib.request

    req = urllib.request.Request(f"{patched.url}/_sandbox/config", method="POST",
                                 data=json.dumps({"target_initial_seconds": 7}).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req) as res:
        assert json.loads(res.read())["target_initial_seconds"] == 7


@pytest.mark.parametrize("kind", ["applied-500", "applied-drop"])
def test_a_create_can_happen_though_its_answer_is_lost(patched, kind):  # type: ignore[no-untyped-def]
    patched.control("POST", "/faults", {"operation": "CreateRestApi", "kind": kind, "count": 1})
    apigw = patched.client("apigateway")
    with pytest.raises(Exception):
        apigw.create_rest_api(name="made-anyway")
    # The caller saw a failure, yet AWS made it: exactly one, and the fault retired.
    names = [a["name"] for a in apigw.get_rest_apis()["items"]]
    assert names == ["made-anyway"]
    apigw.create_rest_api(name="second")
    assert len(apigw.get_rest_apis()["items"]) == 2


def test_quotas_throttle_what_aws_would_and_count_it(patched):  # type: ignore[no-untyped-def]
    apigw, elb = patched.client("apigateway"), patched.client("elbv2")
    assert patched.control("GET", "/quotas") == {"enforce": False}
    for n in range(3):  # off: no quota
        apigw.create_rest_api(name=f"free-{n}")
    patched.control("POST", "/calls/reset", {})
    assert patched.control("POST", "/quotas", {"enforce": True}) == {"enforce": True}
    apigw.create_rest_api(name="first")  # CreateRestApi: 1 per 3 s
    with pytest.raises(ClientError) as err:
        apigw.create_rest_api(name="too-soon")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    apigw.get_rest_apis()  # other operations still have the account's burst
    refused = 0
    for _ in range(12):  # ELB changes: a burst of 10
        try:
            elb.set_security_groups(LoadBalancerArn="arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/1", SecurityGroups=[])
        except ClientError as e:
            if e.response["Error"]["Code"] == "Throttling":
                refused += 1
    assert refused == 2
    injected = patched.control("GET", "/calls")["injected"]
    assert injected["apigateway"] == {"CreateRestApi": {"quota": 1}}
    assert injected["elasticloadbalancing"]["SetSecurityGroups"] == {"quota": 2}
    patched.control("POST", "/reset", {})
    assert patched.control("GET", "/quotas") == {"enforce": False}

