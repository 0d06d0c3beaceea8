"""The demo account: a VPC, two subnets in two zones and two running EC2 instances, ready for
Portico's forms. Seeding is idempotent: a second call returns what the first one made."""

from __future__ import annotations

import boto3

TAG = {"Key": "portico:demo", "Value": "true"}


def client(base_url: str, service: str, region: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=base_url,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )


def seed(base_url: str, region: str) -> dict:
    ec2 = client(base_url, "ec2", region)
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:portico:demo", "Values": ["true"]}])["Vpcs"]
    if found:
        vpc_id = found[0]["VpcId"]
    else:
        vpc_id = ec2.create_vpc(
            CidrBlock="10.20.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [TAG, {"Key": "Name", "Value": "portico-demo"}]}],
        )["Vpc"]["VpcId"]
        for i, zone in enumerate(("a", "b")):
            ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=f"10.20.{i + 1}.0/24",
                AvailabilityZone=f"{region}{zone}",
                TagSpecifications=[
                    {"ResourceType": "subnet", "Tags": [TAG, {"Key": "Name", "Value": f"portico-demo-{zone}"}]}
                ],
            )
    subnets = sorted(
        ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"],
        key=lambda s: s["AvailabilityZone"],
    )
    running = ec2.describe_instances(
        Filters=[
            {"Name": "tag:portico:demo", "Values": ["true"]},
            {"Name": "instance-state-name", "Values": ["running", "pending"]},
        ]
    )
    instances = [i for r in running["Reservations"] for i in r["Instances"]]
    if not instances:
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        for subnet in subnets[:2]:
            instances += ec2.run_instances(
                ImageId=image,
                InstanceType="t3.small",
                MinCount=1,
                MaxCount=1,
                SubnetId=subnet["SubnetId"],
                TagSpecifications=[
                    {
                        "ResourceType": "instance",
                        "Tags": [TAG, {"Key": "Name", "Value": f"portico-demo-{subnet['AvailabilityZone'][-1]}"}],
                    }
                ],
            )["Instances"]
    return {
        "region": region,
        "vpc_id": vpc_id,
        "subnet_ids": [s["SubnetId"] for s in subnets],
        "instance_ids": sorted(i["InstanceId"] for i in instances),
    }


# Load balancers whose traffic waits for them to be made (the worker makes them after the demo
# is seeded): (region, name pattern) → requests per hour, by the hour's start.
_waiting_load_balancers: dict[tuple[str, "re.Pattern[str]"], dict[int, int]] = {}
# Load balancers whose traffic was put: ARN → its hours, for the host counts of the target
# groups its listeners forward to, as they are added.
_load_balancer_hours: dict[str, list[int]] = {}


def _requests(scale: float, at: int) -> float:
    """Requests of a stage in the 5 minutes from `at`: rising by day, falling by night."""
    import math

    hour = (at % 86_400) / 3600
    return scale * (260 + 200 * math.sin((hour - 8) / 24 * 2 * math.pi))


def traffic(base_url: str, region: str, api: str, stages: list[str], now: float | None = None,
            gateway: str | None = None) -> dict:
    """Plausible API Gateway traffic for `api`'s stages: the last day in 5-minute periods ending
    now, and the 29 days before it in hours. Requests rise by day and fall by night, about 2 %
    4xx and 0.2 % 5xx, latency samples around 40 ms (80 % of it the backend's), and one incident hour (five to four hours
    ago) where 12 % of the requests answer 5xx and latency triples. With `gateway`, its load
    balancer (`pt-<gateway>-<epoch>`, made by Portico later or already) gets the same 30 days
    in hours: bytes, new and active flows that follow the requests. Deterministic for `now`."""
    import datetime
    import re

    cw = client(base_url, "cloudwatch", region)
    end = int(now if now is not None else datetime.datetime.now(datetime.timezone.utc).timestamp())
    end -= end % 300
    day = end - 24 * 3600
    month = end - end % 3600 - 30 * 24 * 3600
    incident = range(end - 5 * 3600, end - 4 * 3600)
    data: list[dict] = []
    per_hour: dict[int, int] = {}

    def put(dims: list, stamp: int, requests: int, bad: bool, samples: int) -> None:
        when = datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)
        for name, value in (
            ("Count", requests),
            ("4XXError", round(requests * 0.02)),
            ("5XXError", round(requests * (0.12 if bad else 0.002))),
        ):
            data.append({"MetricName": name, "Dimensions": dims, "Timestamp": when,
                         "Value": float(value), "Unit": "Count"})
        base = 40.0 * (3 if bad else 1)
        factors = (0.6, 0.8, 1.0, 1.1, 1.3, 1.6, 2.5, 4.0)
        # The backend's share (IntegrationLatency): most of it, the rest API Gateway's own.
        for name, share in (("Latency", 1.0), ("IntegrationLatency", 0.8)):
            data.append({"MetricName": name, "Dimensions": dims, "Timestamp": when,
                         "Values": [share * base * f for f in factors],
                         "Counts": [float(samples)] * len(factors), "Unit": "Milliseconds"})
        hour = stamp - stamp % 3600
        per_hour[hour] = per_hour.get(hour, 0) + requests

    for index, stage in enumerate(stages):
        dims = [{"Name": "ApiName", "Value": api}, {"Name": "Stage", "Value": stage}]
        scale = 1.0 / (index + 1)
        for at in range(month, day - day % 3600, 3600):
            requests = round(sum(_requests(scale, at + m) for m in range(0, 3600, 300)))
            put(dims, at + 30, requests, False, 12)
        for at in range(day - day % 3600, day, 300):
            put(dims, at + 30, round(_requests(scale, at)), False, 1)
        for at in range(day, end, 300):
            put(dims, at + 30, round(_requests(scale, at)), at in incident, 1)
    for i in range(0, len(data), 500):
        cw.put_metric_data(Namespace="AWS/ApiGateway", MetricData=data[i:i + 500])
    load_balancer = None
    if gateway is not None:
        pattern = re.compile(rf"^pt-{re.escape(gateway)}-[0-9a-f]{{4}}$")
        _waiting_load_balancers[(region, pattern)] = per_hour
        load_balancer = _load_balancer_made(region, pattern)
    return {"api": api, "stages": stages, "points": len(data), "until": end,
            "load_balancer": load_balancer}


def _put_load_balancer_traffic(account: str, region: str, arn: str, per_hour: dict[int, int]) -> None:
    """Straight into moto's CloudWatch (this runs inside the sandbox's own request)."""
    import datetime

    from moto.cloudwatch.models import cloudwatch_backends

    dims = [{"Name": "LoadBalancer", "Value": arn.split(":loadbalancer/", 1)[1]}]
    data = []
    for hour, requests in sorted(per_hour.items()):
        # Naive UTC, as moto keeps what PutMetricData brings.
        when = datetime.datetime.fromtimestamp(hour + 60, tz=datetime.timezone.utc).replace(tzinfo=None)
        for name, value in (
            ("ProcessedBytes", requests * 11_500),  # ~10 KB answered, ~1.5 KB asked
            ("NewFlowCount", requests // 40),  # the VPC link keeps connections open
            ("ActiveFlowCount", 12 + requests // 400),
        ):
            data.append({"MetricName": name, "Dimensions": dims, "Timestamp": when, "Value": float(value)})
    cloudwatch_backends[account][region].put_metric_data("AWS/NetworkELB", data)
    _load_balancer_hours[arn] = sorted(per_hour)


def _put_host_counts(account: str, region: str, load_balancer_arn: str, target_group_arn: str) -> None:
    """A healthy host every hour of the load balancer's traffic, none unhealthy."""
    import datetime

    from moto.cloudwatch.models import cloudwatch_backends

    dims = [{"Name": "TargetGroup", "Value": target_group_arn.rsplit(":", 1)[1]},
            {"Name": "LoadBalancer", "Value": load_balancer_arn.split(":loadbalancer/", 1)[1]}]
    data = []
    for hour in _load_balancer_hours.get(load_balancer_arn, []):
        when = datetime.datetime.fromtimestamp(hour + 60, tz=datetime.timezone.utc).replace(tzinfo=None)
        for name, value in (("HealthyHostCount", 1.0), ("UnHealthyHostCount", 0.0)):
            data.append({"MetricName": name, "Dimensions": dims, "Timestamp": when, "Value": value})
    if data:
        cloudwatch_backends[account][region].put_metric_data("AWS/NetworkELB", data)


def _put_listener_hosts(account: str, region: str, listener) -> None:  # type: ignore[no-untyped-def]
    """The host counts of the target groups a listener of a load balancer with traffic forwards to."""
    if listener.load_balancer_arn in _load_balancer_hours:
        for action in listener.default_actions:
            if action.data.get("TargetGroupArn"):
                _put_host_counts(account, region, listener.load_balancer_arn, action.data["TargetGroupArn"])


def _load_balancer_made(region: str, pattern) -> str | None:  # type: ignore[no-untyped-def]
    """Puts the traffic of a waiting load balancer that already exists; its name, if one did."""
    from moto.elbv2.models import elbv2_backends

    for account, regions in elbv2_backends.items():
        backend = regions.get(region) if hasattr(regions, "get") else None
        for lb in (backend.load_balancers.values() if backend else []):
            if pattern.match(lb.name):
                per_hour = _waiting_load_balancers.pop((region, pattern), None)
                if per_hour is not None:  # (another thread's create may have taken it)
                    _put_load_balancer_traffic(account, region, lb.arn, per_hour)
                    for listener in lb.listeners.values():
                        _put_listener_hosts(account, region, listener)
                return lb.name
    return None


def install_load_balancer_traffic() -> None:
    """When a load balancer the demo's traffic waits for is made, its traffic is put; when a
    listener of it forwards to a target group, that group's host counts."""
    from moto.elbv2 import models as elb

    original = elb.ELBv2Backend.create_load_balancer

    def create_load_balancer(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        lb = original(self, *args, **kwargs)
        for (region, pattern) in list(_waiting_load_balancers):
            if region == self.region_name and pattern.match(lb.name):
                per_hour = _waiting_load_balancers.pop((region, pattern), None)
                if per_hour is not None:  # (another thread's create may have taken it)
                    _put_load_balancer_traffic(self.account_id, region, lb.arn, per_hour)
        return lb

    original_listener = elb.ELBv2Backend.create_listener

    def create_listener(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        listener = original_listener(self, *args, **kwargs)
        _put_listener_hosts(self.account_id, self.region_name, listener)
        return listener

    elb.ELBv2Backend.create_load_balancer = create_load_balancer
    elb.ELBv2Backend.create_listener = create_listener


def forget() -> None:
    """A reset: nothing waits any more."""
    _waiting_load_balancers.clear()
    _load_balancer_hours.clear()
