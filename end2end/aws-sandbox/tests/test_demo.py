"""The demo's data: what `POST /_sandbox/traffic` puts in the sandbox's CloudWatch."""

from __future__ import annotations


def test_demo_traffic_covers_30_days_and_the_load_balancer_made_later(patched):  # type: ignore[no-untyped-def]
    import datetime

    patched.control("POST", "/reset")
    now = 1_700_000_000
    out = patched.control("POST", "/traffic", {"region": "us-east-1", "api": "demo-api",
                                               "stages": ["dev"], "gateway": "demo", "now": now})
    assert out["load_balancer"] is None, "not made yet: its traffic waits for it"
    cw = patched.client("cloudwatch")
    start = datetime.datetime.fromtimestamp(now - 30 * 86_400, tz=datetime.timezone.utc)
    end = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)

    def hourly(namespace, name, dims, stat="Sum"):  # type: ignore[no-untyped-def]
        query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
                                           "Period": 3600, "Stat": stat}}
        return cw.get_metric_data(MetricDataQueries=[query], StartTime=start, EndTime=end)["MetricDataResults"][0]

    stage = [{"Name": "ApiName", "Value": "demo-api"}, {"Name": "Stage", "Value": "dev"}]
    requests = hourly("AWS/ApiGateway", "Count", stage)["Values"]
    assert len(requests) >= 29 * 24 and min(requests) > 0, "an hour of requests for each of the 30 days"
    elb = patched.client("elbv2")
    ec2 = patched.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    arn = elb.create_load_balancer(Name="pt-demo-1a2b", Subnets=[subnet], Type="network",
                                   Scheme="internal")["LoadBalancers"][0]["LoadBalancerArn"]
    lb = [{"Name": "LoadBalancer", "Value": arn.split(":loadbalancer/", 1)[1]}]
    flows = hourly("AWS/NetworkELB", "ActiveFlowCount", lb, "Average")
    processed = hourly("AWS/NetworkELB", "ProcessedBytes", lb)
    assert len(flows["Values"]) == len(processed["Values"]) >= 29 * 24
    assert sum(processed["Values"]) == sum(requests) * 11_500, "bytes follow the requests"
    # A listener forwarding to a target group: the group's hosts, every hour.
    tg = elb.create_target_group(Name="pt-demo-8080-1a2b", Protocol="TCP", Port=8080, VpcId=vpc,
                                 TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=arn, Protocol="TCP", Port=8080,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    hosts = hourly("AWS/NetworkELB", "HealthyHostCount",
                   [{"Name": "TargetGroup", "Value": tg.rsplit(":", 1)[1]}] + lb, "Minimum")
    assert len(hosts["Values"]) == len(processed["Values"]) and set(hosts["Values"]) == {1.0}


def test_a_load_balancer_made_before_the_traffic_gets_it_and_its_hosts_at_once(patched):  # type: ignore[no-untyped-def]
    import datetime

    patched.control("POST", "/reset")
    elb, ec2, cw = patched.client("elbv2"), patched.client("ec2"), patched.client("cloudwatch")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    arn = elb.create_load_balancer(Name="pt-early-00ff", Subnets=[subnet], Type="network",
                                   Scheme="internal")["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="pt-early-8080-00ff", Protocol="TCP", Port=8080, VpcId=vpc,
                                 TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=arn, Protocol="TCP", Port=8080,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    now = 1_700_000_000
    out = patched.control("POST", "/traffic", {"region": "us-east-1", "api": "early-api", "stages": ["dev"],
                                               "gateway": "early", "now": now})
    assert out["load_balancer"] == "pt-early-00ff"
    dims = [{"Name": "TargetGroup", "Value": tg.rsplit(":", 1)[1]},
            {"Name": "LoadBalancer", "Value": arn.split(":loadbalancer/", 1)[1]}]
    query = {"Id": "q", "MetricStat": {"Metric": {"Namespace": "AWS/NetworkELB", "MetricName": "HealthyHostCount",
                                                  "Dimensions": dims}, "Period": 3600, "Stat": "Minimum"}}
    hosts = cw.get_metric_data(
        MetricDataQueries=[query],
        StartTime=datetime.datetime.fromtimestamp(now - 30 * 86_400, tz=datetime.timezone.utc),
        EndTime=datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc),
    )["MetricDataResults"][0]["Values"]
    assert len(hosts) >= 29 * 24 and set(hosts) == {1.0}
