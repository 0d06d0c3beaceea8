"""A setup built by hand before Portico, the console walkthrough's way (untagged): target groups
per backend port, one internal NLB with a TCP listener each, a VPC link, a REST API whose
/dev, /sprint and /release proxy routes each call one port (with the stage prefix stripped, as
people do), a stage each on one deployment, a usage plan over all three and two keys in it.
The demo and the tests adopt it. Building is idempotent per name: a second call returns what
the first made."""

from __future__ import annotations

import demo

PORTS = {"dev": 8080, "sprint": 8081, "release": 8082}


def build(base_url: str, region: str, name: str = "orders") -> dict:
    account = demo.seed(base_url, region)
    apigw = demo.client(base_url, "apigateway", region)
    elb = demo.client(base_url, "elbv2", region)
    api_name = f"{name}-api"
    for api in apigw.get_rest_apis(limit=500)["items"]:
        if api["name"] == api_name:
            return {"rest_api_id": api["id"], "name": name, **account}

    lb = elb.create_load_balancer(
        Name=f"{name}-nlb", Type="network", Scheme="internal", Subnets=account["subnet_ids"]
    )["LoadBalancers"][0]
    for port in PORTS.values():
        tg = elb.create_target_group(
            Name=f"{name}-{port}",
            Protocol="TCP",
            Port=port,
            VpcId=account["vpc_id"],
            TargetType="instance",
            HealthCheckProtocol="TCP",
        )["TargetGroups"][0]
        elb.register_targets(
            TargetGroupArn=tg["TargetGroupArn"],
            Targets=[{"Id": i, "Port": port} for i in account["instance_ids"]],
        )
        elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="TCP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
        )
    link = apigw.create_vpc_link(name=f"{name}-link", targetArns=[lb["LoadBalancerArn"]])
    api = apigw.create_rest_api(name=api_name, endpointConfiguration={"types": ["REGIONAL"]})
    root = next(r["id"] for r in apigw.get_resources(restApiId=api["id"])["items"] if r["path"] == "/")
    for stage, port in PORTS.items():
        top = apigw.create_resource(restApiId=api["id"], parentId=root, pathPart=stage)
        proxy = apigw.create_resource(restApiId=api["id"], parentId=top["id"], pathPart="{proxy+}")
        apigw.put_method(
            restApiId=api["id"],
            resourceId=proxy["id"],
            httpMethod="ANY",
            authorizationType="NONE",
            apiKeyRequired=True,
            requestParameters={"method.request.path.proxy": True},
        )
        apigw.put_integration(
            restApiId=api["id"],
            resourceId=proxy["id"],
            httpMethod="ANY",
            type="HTTP_PROXY",
            integrationHttpMethod="ANY",
            connectionType="VPC_LINK",
            connectionId=link["id"],
            uri=f"http://{lb['DNSName']}:{port}/{{proxy}}",
            requestParameters={"integration.request.path.proxy": "method.request.path.proxy"},
        )
    deployment = apigw.create_deployment(restApiId=api["id"], description="first release")
    for stage in PORTS:
        apigw.create_stage(
            restApiId=api["id"],
            stageName=stage,
            deploymentId=deployment["id"],
            variables={"team": "payments"},
        )
    plan = apigw.create_usage_plan(
        name=f"{name} standard",
        apiStages=[{"apiId": api["id"], "stage": s} for s in PORTS],
        throttle={"rateLimit": 50.0, "burstLimit": 100},
        quota={"limit": 100000, "period": "MONTH", "offset": 0},
    )
    for key_name, enabled in ((f"{name}-partner", True), (f"{name}-legacy", False)):
        key = apigw.create_api_key(name=key_name, enabled=enabled)
        apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return {"rest_api_id": api["id"], "name": name, **account}
