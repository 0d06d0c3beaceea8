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


def traffic(base_url: str, region: str, api: str, stages: list[str], now: float | None = None) -> dict:
    """A day of plausible API Gateway traffic for `api`'s stages, in 5-minute periods ending
    now: requests that rise by day and fall by night, about 2 % 4xx and 0.2 % 5xx, latency
    samples around 40 ms, and one incident hour (five to four hours ago) where 12 % of the
    requests answer 5xx and latency triples. Deterministic for a given `now`."""
    import datetime
    import math

    cw = client(base_url, "cloudwatch", region)
    end = int(now if now is not None else datetime.datetime.now(datetime.timezone.utc).timestamp())
    end -= end % 300
    incident = range(end - 5 * 3600, end - 4 * 3600)
    data: list[dict] = []
    for index, stage in enumerate(stages):
        dims = [{"Name": "ApiName", "Value": api}, {"Name": "Stage", "Value": stage}]
        scale = 1.0 / (index + 1)
        for at in range(end - 24 * 3600, end, 300):
            hour = (at % 86_400) / 3600
            requests = round(scale * (260 + 200 * math.sin((hour - 8) / 24 * 2 * math.pi)))
            bad = at in incident
            stamp = datetime.datetime.fromtimestamp(at + 30, tz=datetime.timezone.utc)
            base = 40.0 * (3 if bad else 1)
            for name, value in (
                ("Count", requests),
                ("4XXError", round(requests * 0.02)),
                ("5XXError", round(requests * (0.12 if bad else 0.002))),
            ):
                data.append({"MetricName": name, "Dimensions": dims, "Timestamp": stamp,
                             "Value": float(value), "Unit": "Count"})
            data.append({"MetricName": "Latency", "Dimensions": dims, "Timestamp": stamp,
                         "Values": [base * f for f in (0.6, 0.8, 1.0, 1.1, 1.3, 1.6, 2.5, 4.0)],
                         "Unit": "Milliseconds"})
    for i in range(0, len(data), 500):
        cw.put_metric_data(Namespace="AWS/ApiGateway", MetricData=data[i:i + 500])
    return {"api": api, "stages": stages, "points": len(data), "until": end}
