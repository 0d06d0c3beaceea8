"""Fidelity patches: make moto behave like AWS where Portico depends on it.

Each patch is small, named after the AWS behaviour it restores, and covered by a test that
fails on stock moto (tests/test_patches.py). `apply(settings)` installs them all; the
`settings` object is read at call time, so the control API can change timings live.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from moto.apigateway import models as apigw_models
from moto.apigateway import responses as apigw_responses
from moto.apigateway.exceptions import BadRequestException, NotFoundException
from moto.elbv2 import models as elb_models
from moto.elbv2.exceptions import ResourceInUseError


@dataclass
class Settings:
    """Timings and outcomes the tests steer through POST /_sandbox/config."""

    # A new VPC link reports PENDING this long, then AVAILABLE (AWS: minutes).
    vpc_link_pending_seconds: float = 2.0
    # When set, links created from now on end FAILED with this statusMessage.
    vpc_link_fail_message: str | None = None
    # A newly registered target reports `initial` this long, then `healthy`.
    target_initial_seconds: float = 2.0
    # Instance ids whose targets fail health checks.
    unhealthy_instances: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, values: dict) -> None:
        with self.lock:
            for key, value in values.items():
                if key == "lock" or not hasattr(self, key):
                    raise ValueError(f"unknown setting {key!r}")
                setattr(self, key, value)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "lock"}


def apply(settings: Settings) -> None:
    _tags_on_every_api_gateway_resource()
    _keep_integration_connection_id()
    _update_method_api_key_required()
    _deleted_api_key_leaves_its_usage_plans()
    _usage_plan_numbers_keep_their_types()
    _nlb_in_use_by_vpc_link_cannot_be_deleted()
    _vpc_link_in_use_cannot_be_deleted()
    _vpc_link_is_pending_first(settings)
    _targets_start_initial(settings)
    _get_metric_data_as_aws()


# --- API Gateway -------------------------------------------------------------------------


def _keep_integration_connection_id() -> None:
    """put_integration stores connectionId (moto drops it) and checks the VPC link exists."""
    original_put = apigw_responses.APIGatewayResponse.put_integration
    original_json = apigw_models.Integration.to_json

    def put_integration(self):  # type: ignore[no-untyped-def]
        connection_id = self._get_param("connectionId")
        if self._get_param("connectionType") == "VPC_LINK":
            if not connection_id:
                raise BadRequestException("connectionId must be set for a VPC_LINK integration")
            if connection_id not in self.backend.vpc_links:
                raise BadRequestException(f"Invalid VPC link identifier {connection_id}")
        status, headers, body = original_put(self)
        parts = self.path.split("/")
        integration = self.backend.get_integration(parts[2], parts[4], parts[6])
        integration.connection_id = connection_id
        return status, headers, json.dumps(integration.to_json())

    def to_json(self):  # type: ignore[no-untyped-def]
        data = original_json(self)
        data["connectionId"] = getattr(self, "connection_id", None)
        return data

    apigw_responses.APIGatewayResponse.put_integration = put_integration
    apigw_models.Integration.to_json = to_json


def _update_method_api_key_required() -> None:
    """UpdateMethod (moto: not implemented, HTTP 500) for the fields Portico patches:
    /apiKeyRequired and /authorizationType. Other paths are refused, not ignored."""
    supported = {"/apiKeyRequired": "api_key_required", "/authorizationType": "authorization_type"}

    def update_method(self):  # type: ignore[no-untyped-def]
        parts = self.path.split("/")
        method = self.backend.get_method(parts[2], parts[4], parts[6])
        for op in self._get_param("patchOperations") or []:
            attr = supported.get(op.get("path"))
            if op.get("op") != "replace" or attr is None:
                raise BadRequestException(
                    f"The sandbox's UpdateMethod supports replace of {sorted(supported)}, not {op}"
                )
            value = op.get("value")
            if attr == "api_key_required":
                if value not in ("true", "false"):
                    raise BadRequestException(f"Invalid boolean for /apiKeyRequired: {value!r}")
                value = value == "true"
            setattr(method, attr, value)
        return 200, {}, json.dumps(method.to_json())

    apigw_responses.APIGatewayResponse.update_method = update_method


_TAGGABLE = {
    "restapis": "get_rest_api",
    "vpclinks": "get_vpc_link",
    "usageplans": "get_usage_plan",
    "apikeys": "get_api_key",
}


def _tags_on_every_api_gateway_resource() -> None:
    """TagResource, GetTags and UntagResource work on REST APIs, VPC links, usage plans and API
    keys, as in AWS (moto handles stages only, and routes no other ARN)."""
    from urllib.parse import unquote

    from moto.apigateway import urls as apigw_urls

    route = "{0}/tags/arn:(?P<partition>[^/]+):apigateway:(?P<region_name>[^/]+)::/(?P<kind>restapis|vpclinks|usageplans|apikeys)/(?P<resource_id>[^/]+)$"
    apigw_urls.url_paths[route] = apigw_responses.APIGatewayResponse.dispatch
    responses = apigw_responses.APIGatewayResponse

    def target(self):  # type: ignore[no-untyped-def]
        parts = unquote(self.path.split("/tags/", 1)[1]).split("::/", 1)[-1].split("/")
        if len(parts) == 2 and parts[0] in _TAGGABLE:
            return getattr(self.backend, _TAGGABLE[parts[0]])(parts[1])
        return None

    def wrap(name, act):  # type: ignore[no-untyped-def]
        original = getattr(responses, name)

        def handler(self):  # type: ignore[no-untyped-def]
            found = target(self)
            if found is None:
                return original(self)
            return act(self, found)

        setattr(responses, name, handler)

    def get_tags(self, found):  # type: ignore[no-untyped-def]
        return json.dumps({"tags": found.tags or {}})

    def tag_resource(self, found):  # type: ignore[no-untyped-def]
        found.tags = {**(found.tags or {}), **(self._get_param("tags") or {})}
        return json.dumps({})

    def untag_resource(self, found):  # type: ignore[no-untyped-def]
        keys = self.querystring.get("tagKeys") or []
        found.tags = {k: v for k, v in (found.tags or {}).items() if k not in keys}
        return json.dumps({})

    wrap("get_tags", get_tags)
    wrap("tag_resource", tag_resource)
    wrap("untag_resource", untag_resource)


def _deleted_api_key_leaves_its_usage_plans() -> None:
    """DeleteApiKey also takes the key out of every usage plan (moto leaves it listed)."""
    original = apigw_models.APIGatewayBackend.delete_api_key

    def delete_api_key(self, api_key_id):  # type: ignore[no-untyped-def]
        original(self, api_key_id)
        for keys in self.usage_plan_keys.values():
            keys.pop(api_key_id, None)

    apigw_models.APIGatewayBackend.delete_api_key = delete_api_key


def _usage_plan_numbers_keep_their_types() -> None:
    """UpdateUsagePlan keeps quota limit/offset integers and a fractional rate limit (moto
    stores the quota as a string, which breaks SDK parsing, and fails on rate 2.5)."""
    original = apigw_models.UsagePlan.apply_patch_operations
    numeric = {
        "/throttle/rateLimit": ("throttle", "rateLimit", float),
        "/throttle/burstLimit": ("throttle", "burstLimit", int),
        "/quota/limit": ("quota", "limit", int),
        "/quota/offset": ("quota", "offset", int),
    }

    def apply_patch_operations(self, patch_operations):  # type: ignore[no-untyped-def]
        rest = []
        for op in patch_operations:
            target = numeric.get(op.get("path", ""))
            if target and op.get("op") in ("add", "replace"):
                attr, key, kind = target
                try:
                    value = kind(float(op["value"])) if kind is int else kind(op["value"])
                except (TypeError, ValueError):
                    raise BadRequestException(f"Invalid value for {op['path']}: {op.get('value')!r}")
                getattr(self, attr)[key] = value
            else:
                rest.append(op)
        original(self, rest)

    apigw_models.UsagePlan.apply_patch_operations = apply_patch_operations


def _vpc_links_using(backend, load_balancer_arn: str) -> list:  # type: ignore[no-untyped-def]
    return [link for link in backend.vpc_links.values() if load_balancer_arn in link.target_arns]


def _nlb_in_use_by_vpc_link_cannot_be_deleted() -> None:
    original = elb_models.ELBv2Backend.delete_load_balancer

    def delete_load_balancer(self, arn):  # type: ignore[no-untyped-def]
        apigw = apigw_models.apigateway_backends[self.account_id][self.region_name]
        if _vpc_links_using(apigw, arn):
            raise ResourceInUseError(
                f"Load balancer '{arn}' cannot be deleted because it is currently associated "
                "with another service"
            )
        return original(self, arn)

    elb_models.ELBv2Backend.delete_load_balancer = delete_load_balancer


def _vpc_link_in_use_cannot_be_deleted() -> None:
    original = apigw_models.APIGatewayBackend.delete_vpc_link

    def delete_vpc_link(self, vpc_link_id):  # type: ignore[no-untyped-def]
        if vpc_link_id not in self.vpc_links:
            raise NotFoundException(f"Invalid Vpc Link identifier specified {vpc_link_id}")
        users = []
        for api in self.apis.values():
            for resource in api.resources.values():
                for method_name, method in resource.resource_methods.items():
                    integration = getattr(method, "method_integration", None)
                    if integration is not None and getattr(integration, "connection_id", None) == vpc_link_id:
                        users.append(f"{method_name}:{api.id}/{resource.id}")
        if users:
            raise BadRequestException(
                f"Cannot delete vpc link. Vpc link '{vpc_link_id}', is referenced in "
                f"[{', '.join(sorted(users))}] in format of [Method:Resource]."
            )
        return original(self, vpc_link_id)

    apigw_models.APIGatewayBackend.delete_vpc_link = delete_vpc_link


def _vpc_link_is_pending_first(settings: Settings) -> None:
    """A link is PENDING for a while, then AVAILABLE, or FAILED with a statusMessage."""
    original_init = apigw_models.VpcLink.__init__
    original_json = apigw_models.VpcLink.to_json

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        self._created = time.monotonic()
        self._pending_for = float(settings.vpc_link_pending_seconds)
        self._fail_message = settings.vpc_link_fail_message

    def current(self):  # type: ignore[no-untyped-def]
        if time.monotonic() - self._created < self._pending_for:
            return "PENDING", "VPC link is provisioning ENIs"
        if self._fail_message:
            return "FAILED", self._fail_message
        return "AVAILABLE", "Your vpc link is ready for use"

    def to_json(self):  # type: ignore[no-untyped-def]
        data = original_json(self)
        data["status"], data["statusMessage"] = current(self)
        return data

    apigw_models.VpcLink.__init__ = __init__
    apigw_models.VpcLink.to_json = to_json


# --- Elastic Load Balancing ---------------------------------------------------------------


def _targets_start_initial(settings: Settings) -> None:
    """Targets report `initial` while registering, `unused` when no listener forwards to their
    group, and `unhealthy` when the test says their instance fails checks."""
    original_register = elb_models.FakeTargetGroup.register
    original_health = elb_models.FakeTargetGroup.health_for

    def register(self, targets):  # type: ignore[no-untyped-def]
        original_register(self, targets)
        registered = self.__dict__.setdefault("_registered_at", {})
        for target in targets:
            registered.setdefault(target["Id"], time.monotonic())

    def listened_to(tg) -> bool:  # type: ignore[no-untyped-def]
        backend = elb_models.elbv2_backends[tg.account_id][tg.region_name]
        for lb in backend.load_balancers.values():
            for listener in lb.listeners.values():
                for action in listener.default_actions:
                    arns = [action.data.get("TargetGroupArn")] + [
                        t.get("TargetGroupArn")
                        for t in (action.data.get("ForwardConfig") or {}).get("TargetGroups", [])
                    ]
                    if tg.arn in arns:
                        return True
        return False

    def health_for(self, target, ec2_backend):  # type: ignore[no-untyped-def]
        status = original_health(self, target, ec2_backend)
        if status.status != "healthy":
            return status
        if not listened_to(self):
            return elb_models.FakeHealthStatus(
                status.instance_id, status.port, status.health_check_port, "unused",
                "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer",
            )
        registered = self.__dict__.get("_registered_at", {}).get(target["Id"])
        if registered is not None and time.monotonic() - registered < float(settings.target_initial_seconds):
            return elb_models.FakeHealthStatus(
                status.instance_id, status.port, status.health_check_port, "initial",
                "Elb.RegistrationInProgress", "Target registration is in progress",
            )
        if target["Id"] in settings.unhealthy_instances:
            return elb_models.FakeHealthStatus(
                status.instance_id, status.port, status.health_check_port, "unhealthy",
                "Target.FailedHealthChecks", "Health checks failed",
            )
        return status

    elb_models.FakeTargetGroup.register = register
    elb_models.FakeTargetGroup.health_for = health_for


# --- CloudWatch ------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    """Nearest rank, as CloudWatch computes percentiles from the raw values it holds."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n × p / 100)
    return ordered[int(rank) - 1]


def _get_metric_data_as_aws() -> None:
    """GetMetricData answers percentile statistics (`p50`, `p99.9`) from the raw values put
    with PutMetricData, and leaves out a period with nothing to answer from, as AWS does
    (moto answers None and then fails to write its response). Each query also reads only its
    own metric's data, once, instead of every metric once per period: a day of 5-minute
    points for a few stages is answered in milliseconds, not tens of seconds."""
    from moto.cloudwatch import models as cw

    original = cw.CloudWatchBackend.get_metric_data

    def get_metric_data(self, queries, start_time, end_time, scan_by="TimestampAscending"):  # type: ignore[no-untyped-def]
        if any("MetricStat" not in q for q in queries):
            return original(self, queries, start_time, end_time, scan_by)
        start_time = start_time.replace(microsecond=0)
        end_time = end_time.replace(microsecond=0)
        if start_time >= end_time:
            raise cw.ValidationError("The parameter EndTime must be greater than StartTime.")
        data = [md for md in self.get_all_metrics() if start_time <= md.timestamp < end_time]
        results = []
        for query in queries:
            stat_query = query["MetricStat"]
            metric = stat_query["Metric"]
            wanted = sorted(
                cw.Dimension(name=d["Name"], value=d["Value"]) for d in metric.get("Dimensions", [])
            )
            period = int(stat_query["Period"])
            stat, unit = stat_query["Stat"], stat_query.get("Unit")
            buckets: dict[int, list] = {}
            for md in data:
                if md.namespace != metric["Namespace"] or md.name != metric["MetricName"]:
                    continue
                if sorted(md.dimensions) != wanted or (unit and md.unit != unit):
                    continue
                index = int((md.timestamp - start_time).total_seconds()) // period
                buckets.setdefault(index, []).append(md)
            points = []
            for index in sorted(buckets):
                at = start_time + cw.timedelta(seconds=index * period)
                if stat.startswith("p"):
                    raw = [md.value for md in buckets[index] if isinstance(md, cw.MetricDatum)]
                    value = _percentile([float(v) for v in raw], float(stat[1:])) if raw else None
                else:
                    stats = cw.Statistics([stat], at)
                    stats.metric_data = buckets[index]
                    value = stats.get_statistics_for_type(stat)
                if value is not None:
                    points.append((at, value))
            if scan_by == "TimestampDescending":
                points.reverse()
            if query.get("ReturnData", True):
                results.append(
                    {
                        "id": query["Id"],
                        "label": query.get("Label") or f"{metric['MetricName']} {stat}",
                        "values": [v for _, v in points],
                        "timestamps": [t for t, _ in points],
                        "status_code": "Complete",
                    }
                )
        return results

    cw.CloudWatchBackend.get_metric_data = get_metric_data
