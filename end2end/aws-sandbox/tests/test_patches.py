"""Each fidelity patch: the check fails on stock moto and passes with the patch."""

from __future__ import annotations

import datetime
import time
import urllib.error
import urllib.request

import cbor2

import pytest
from botocore.exceptions import ClientError

from conftest import REGION


def network(box):  # type: ignore[no-untyped-def]
    """A VPC with two subnets, a running instance, an NLB with a TCP listener → target group."""
    ec2, elb = box.client("ec2"), box.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnets[0])["Instances"][0]["InstanceId"]
    nlb = elb.create_load_balancer(Name="nlb", Type="network", Scheme="internal", Subnets=subnets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="tg-8080", Protocol="TCP", Port=8080, VpcId=vpc, TargetType="instance")["TargetGroups"][0]
    return {"vpc": vpc, "subnets": subnets, "instance": instance, "nlb": nlb, "tg": tg}


def api_with_vpc_link_integration(box, nlb_arn):  # type: ignore[no-untyped-def]
    apigw = box.client("apigateway")
    link = apigw.create_vpc_link(name="link", targetArns=[nlb_arn])["id"]
    api = apigw.create_rest_api(name="api")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart="dev")["id"]
    apigw.put_method(restApiId=api, resourceId=res, httpMethod="ANY", authorizationType="NONE", apiKeyRequired=True)
    apigw.put_integration(
        restApiId=api, resourceId=res, httpMethod="ANY", type="HTTP_PROXY", integrationHttpMethod="ANY",
        uri="http://nlb.example:8080/dev", connectionType="VPC_LINK", connectionId=link,
    )
    return apigw, api, res, link


def check_connection_id_kept(box) -> None:  # type: ignore[no-untyped-def]
    net = network(box)
    apigw, api, res, link = api_with_vpc_link_integration(box, net["nlb"]["LoadBalancerArn"])
    got = apigw.get_integration(restApiId=api, resourceId=res, httpMethod="ANY")
    assert got.get("connectionId") == link, got


def check_update_method_api_key_required(box) -> None:  # type: ignore[no-untyped-def]
    net = network(box)
    apigw, api, res, _ = api_with_vpc_link_integration(box, net["nlb"]["LoadBalancerArn"])
    apigw.update_method(restApiId=api, resourceId=res, httpMethod="ANY",
                        patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "false"}])
    got = apigw.get_method(restApiId=api, resourceId=res, httpMethod="ANY")
    assert got["apiKeyRequired"] is False, got
    # The integration stays (AWS keeps it on UpdateMethod).
    assert got["methodIntegration"]["uri"] == "http://nlb.example:8080/dev", got


def check_deleted_api_key_leaves_its_usage_plans(box) -> None:  # type: ignore[no-untyped-def]
    apigw = box.client("apigateway")
    plan = apigw.create_usage_plan(name="p")["id"]
    key = apigw.create_api_key(name="k", enabled=True)["id"]
    apigw.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    apigw.delete_api_key(apiKey=key)
    assert apigw.get_usage_plan_keys(usagePlanId=plan)["items"] == []


def check_tags_on_every_api_gateway_resource(box) -> None:  # type: ignore[no-untyped-def]
    apigw = box.client("apigateway")
    region = apigw.meta.region_name
    made = {
        "restapis": apigw.create_rest_api(name="a", tags={"portico:gateway": "g"})["id"],
        "usageplans": apigw.create_usage_plan(name="p", tags={"portico:gateway": "g"})["id"],
        "apikeys": apigw.create_api_key(name="k", tags={"portico:gateway": "g"})["id"],
    }
    for kind, ident in made.items():
        arn = f"arn:aws:apigateway:{region}::/{kind}/{ident}"
        apigw.tag_resource(resourceArn=arn, tags={"portico:installation": "i1"})
        assert apigw.get_tags(resourceArn=arn)["tags"] == {"portico:gateway": "g", "portico:installation": "i1"}
        apigw.untag_resource(resourceArn=arn, tagKeys=["portico:installation"])
        assert apigw.get_tags(resourceArn=arn)["tags"] == {"portico:gateway": "g"}
    assert apigw.get_rest_api(restApiId=made["restapis"])["tags"] == {"portico:gateway": "g"}


def check_usage_plan_numbers(box) -> None:  # type: ignore[no-untyped-def]
    apigw = box.client("apigateway")
    plan = apigw.create_usage_plan(name="p", throttle={"rateLimit": 10, "burstLimit": 20}, quota={"limit": 1000, "period": "DAY"})["id"]
    try:
        apigw.update_usage_plan(usagePlanId=plan, patchOperations=[
            {"op": "replace", "path": "/quota/limit", "value": "5000"},
            {"op": "replace", "path": "/throttle/rateLimit", "value": "2.5"},
        ])
        got = apigw.get_usage_plan(usagePlanId=plan)
    except ClientError as err:
        raise AssertionError(f"update or read failed: {err}")
    assert got["quota"]["limit"] == 5000 and isinstance(got["quota"]["limit"], int), got
    assert got["throttle"]["rateLimit"] == 2.5, got


def check_nlb_in_use_refused(box) -> None:  # type: ignore[no-untyped-def]
    net = network(box)
    box.client("apigateway").create_vpc_link(name="link", targetArns=[net["nlb"]["LoadBalancerArn"]])
    try:
        box.client("elbv2").delete_load_balancer(LoadBalancerArn=net["nlb"]["LoadBalancerArn"])
    except ClientError as err:
        assert err.response["Error"]["Code"] == "ResourceInUse", err.response
        return
    raise AssertionError("deleting an NLB that a VPC link uses succeeded")


def check_vpc_link_in_use_refused(box) -> None:  # type: ignore[no-untyped-def]
    net = network(box)
    apigw, _, _, link = api_with_vpc_link_integration(box, net["nlb"]["LoadBalancerArn"])
    try:
        apigw.delete_vpc_link(vpcLinkId=link)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "BadRequestException", err.response
        assert "referenced" in err.response["Error"]["Message"]
        return
    raise AssertionError("deleting a VPC link that an integration uses succeeded")


def check_vpc_link_pending_then_available(box) -> None:  # type: ignore[no-untyped-def]
    net = network(box)
    apigw = box.client("apigateway")
    link = apigw.create_vpc_link(name="link", targetArns=[net["nlb"]["LoadBalancerArn"]])
    assert link["status"] == "PENDING", link
    time.sleep(1.1)
    assert apigw.get_vpc_link(vpcLinkId=link["id"])["status"] == "AVAILABLE"


def check_targets_initial_then_healthy(box) -> None:  # type: ignore[no-untyped-def]
    net = network(box)
    elb = box.client("elbv2")
    elb.create_listener(LoadBalancerArn=net["nlb"]["LoadBalancerArn"], Protocol="TCP", Port=8080,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": net["tg"]["TargetGroupArn"]}])
    elb.register_targets(TargetGroupArn=net["tg"]["TargetGroupArn"], Targets=[{"Id": net["instance"], "Port": 8080}])
    health = elb.describe_target_health(TargetGroupArn=net["tg"]["TargetGroupArn"])["TargetHealthDescriptions"]
    assert health[0]["TargetHealth"]["State"] == "initial", health
    time.sleep(1.1)
    health = elb.describe_target_health(TargetGroupArn=net["tg"]["TargetGroupArn"])["TargetHealthDescriptions"]
    assert health[0]["TargetHealth"]["State"] == "healthy", health


def put_latencies(box, stage, values):  # type: ignore[no-untyped-def]
    """Latency samples for one stage, one minute apart from an hour ago, and the start of that hour."""
    cw = box.client("cloudwatch")
    start = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    start -= datetime.timedelta(hours=1)
    for minute, value in enumerate(values):
        cw.put_metric_data(Namespace="AWS/ApiGateway", MetricData=[{
            "MetricName": "Latency", "Dimensions": stage, "Unit": "Milliseconds",
            "Timestamp": start + datetime.timedelta(minutes=minute), "Value": value,
        }])
    return start


def stage(name: str) -> list:
    return [{"Name": "ApiName", "Value": "metrics"}, {"Name": "Stage", "Value": name}]


def check_metric_data_percentiles(box) -> None:  # type: ignore[no-untyped-def]
    start = put_latencies(box, stage("percentiles"), [float(v) for v in range(1, 61)])
    query = lambda stat: {"Id": stat.replace(".", "_"), "MetricStat": {  # noqa: E731
        "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": "Latency", "Dimensions": stage("percentiles")},
        "Period": 3600, "Stat": stat}}
    answer = box.client("cloudwatch").get_metric_data(
        MetricDataQueries=[query("p50"), query("p90"), query("p99"), query("Average")],
        StartTime=start, EndTime=start + datetime.timedelta(hours=1),
    )["MetricDataResults"]
    got = {r["Id"]: r["Values"] for r in answer}
    assert got == {"p50": [30.0], "p90": [54.0], "p99": [60.0], "Average": [30.5]}, got


def check_cloudwatch_speaks_cbor(box) -> None:  # type: ignore[no-untyped-def]
    """GetMetricData in Smithy RPC v2 CBOR, as the AWS SDK for Rust sends it."""
    start = put_latencies(box, stage("cbor"), [10.0, 30.0])
    body = cbor2.dumps({
        "MetricDataQueries": [{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": "Latency", "Dimensions": stage("cbor")},
            "Period": 60, "Stat": "Maximum"}}],
        "StartTime": start, "EndTime": start + datetime.timedelta(minutes=5), "ScanBy": "TimestampAscending",
    }, datetime_as_timestamp=True)
    request = urllib.request.Request(
        f"{box.url}/service/GraniteServiceVersion20100801/operation/GetMetricData", data=body, method="POST",
        headers={"Content-Type": "application/cbor", "Accept": "application/cbor", "smithy-protocol": "rpc-v2-cbor",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/monitoring/aws4_request, "
                                  "SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(request) as res:
            assert res.headers["smithy-protocol"] == "rpc-v2-cbor", dict(res.headers)
            answer = cbor2.loads(res.read())
    except urllib.error.HTTPError as err:
        raise AssertionError(f"CBOR GetMetricData refused: {err.code}") from err
    result = answer["MetricDataResults"][0]
    assert result["Values"] == [10.0, 30.0], result
    assert result["Timestamps"] == [start, start + datetime.timedelta(minutes=1)], result


CHECKS = [
    check_connection_id_kept,
    check_update_method_api_key_required,
    check_deleted_api_key_leaves_its_usage_plans,
    check_tags_on_every_api_gateway_resource,
    check_usage_plan_numbers,
    check_nlb_in_use_refused,
    check_vpc_link_in_use_refused,
    check_vpc_link_pending_then_available,
    check_targets_initial_then_healthy,
    check_metric_data_percentiles,
    check_cloudwatch_speaks_cbor,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_patched_sandbox_behaves_like_aws(patched, check):  # type: ignore[no-untyped-def]
    patched.control("POST", "/config", {"vpc_link_pending_seconds": 1.0, "target_initial_seconds": 1.0})
    check(patched)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_stock_moto_does_not(stock, check):  # type: ignore[no-untyped-def]
    with pytest.raises((AssertionError, ClientError)):
        check(stock)


def test_failed_vpc_link_reports_aws_status_message(patched):  # type: ignore[no-untyped-def]
    patched.control("POST", "/config", {"vpc_link_pending_seconds": 0, "vpc_link_fail_message": "NLB subnet has no free IPs"})
    net = network(patched)
    link = patched.client("apigateway").create_vpc_link(name="l", targetArns=[net["nlb"]["LoadBalancerArn"]])
    got = patched.client("apigateway").get_vpc_link(vpcLinkId=link["id"])
    assert (got["status"], got["statusMessage"]) == ("FAILED", "NLB subnet has no free IPs")


def test_target_health_unused_when_no_listener_and_unhealthy_on_demand(patched):  # type: ignore[no-untyped-def]
    patched.control("POST", "/config", {"target_initial_seconds": 0})
    net = network(patched)
    elb = patched.client("elbv2")
    tg = net["tg"]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": net["instance"], "Port": 8080}])
    state = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["TargetHealth"]
    assert (state["State"], state["Reason"]) == ("unused", "Target.NotInUse")
    elb.create_listener(LoadBalancerArn=net["nlb"]["LoadBalancerArn"], Protocol="TCP", Port=8080,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    patched.control("POST", "/config", {"unhealthy_instances": [net["instance"]]})
    state = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["TargetHealth"]
    assert (state["State"], state["Reason"]) == ("unhealthy", "Target.FailedHealthChecks")


def test_vpc_link_integration_needs_an_existing_link(patched):  # type: ignore[no-untyped-def]
    apigw = patched.client("apigateway")
    api = apigw.create_rest_api(name="api")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    with pytest.raises(ClientError) as err:
        apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="HTTP_PROXY",
                              integrationHttpMethod="GET", uri="http://x.example/", connectionType="VPC_LINK",
                              connectionId="nope123")
    assert err.value.response["Error"]["Code"] == "BadRequestException"
