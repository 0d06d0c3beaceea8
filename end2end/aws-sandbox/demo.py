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
