//! Validation properties: generated valid topologies pass; each rule's boundary fails with its
//! own message.

use super::rules;
use super::topology::*;
use super::validate::validate;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn hex(n: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9a-f]{{{n}}}")).unwrap()
}

fn aws_id(prefix: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![hex(8), hex(17)].prop_map(move |h| format!("{prefix}{h}"))
}

pub(crate) fn valid_topology() -> impl Strategy<Value = Topology> {
    let gateway = (
        "[a-z][a-z0-9-]{0,22}[a-z0-9]",
        prop::sample::select(vec![
            "us-east-1",
            "ap-northeast-2",
            "eu-west-1",
            "us-gov-west-1",
        ]),
        aws_id("vpc-"),
        prop::collection::btree_set(aws_id("subnet-"), 1..4),
    )
        .prop_map(|(name, region, vpc_id, subnets)| Gateway {
            name,
            region: region.into(),
            vpc_id,
            subnet_ids: subnets.into_iter().collect(),
            endpoint_type: EndpointType::Regional,
            role_arn: None,
            apply_mode: ApplyMode::Auto,
            drift_mode: DriftMode::Correct,
            adopted: None,
        });
    let ports = prop::collection::btree_set(1u32..=65_535, 1..6);
    (
        gateway,
        ports,
        prop::collection::vec(aws_id("i-"), 0..4),
        5u32..=300,
        2u32..=10,
        any::<bool>(),
    )
        .prop_flat_map(|(gateway, ports, instances, interval, threshold, http)| {
            let ports: Vec<u32> = ports.into_iter().collect();
            let port_list = ports.clone();
            let backend_ports: Vec<BackendPort> = ports
                .iter()
                .map(|&port| BackendPort {
                    port,
                    listener_port: None,
                    health_check: HealthCheck {
                        protocol: if http {
                            HealthProtocol::Http
                        } else {
                            HealthProtocol::Tcp
                        },
                        path: http.then(|| "/health".to_string()),
                        interval_seconds: interval,
                        healthy_threshold: threshold,
                        unhealthy_threshold: threshold,
                    },
                    deregistration_delay: 30,
                    instances: instances.clone(),
                })
                .collect();
            let stages = prop::collection::btree_map(
                "[A-Za-z0-9_-]{1,20}",
                prop::sample::select(port_list.clone()),
                0..4,
            );
            let routes = prop::collection::btree_map(
                "(/[a-z]{1,6}){1,3}",
                (
                    prop::option::of(prop::sample::select(port_list)),
                    any::<bool>(),
                ),
                0..5,
            );
            (Just(gateway), Just(backend_ports), stages, routes)
        })
        .prop_map(|(gateway, ports, stages, routes)| {
            let region = gateway.region.clone();
            let stages: Vec<Stage> = stages
                .into_iter()
                .enumerate()
                .map(|(i, (name, backend_port))| Stage {
                    access_log: match i % 3 {
                        0 => None,
                        1 => Some(AccessLogging::Off),
                        _ => Some(AccessLogging::To(AccessLog {
                            destination: format!(
                                "arn:{}:logs:{region}:123456789012:log-group:api/{name}",
                                rules::partition(&region)
                            ),
                            format: (i % 2 == 0)
                                .then(|| "$context.requestId $context.status".into()),
                        })),
                    },
                    name,
                    backend_port,
                    throttle: Some(Throttle {
                        rate: 100.5,
                        burst: 200,
                    }),
                    cache_gb: None,
                    variables: BTreeMap::new(),
                })
                .collect();
            let plan = UsagePlan {
                name: "standard".into(),
                throttle: Some(Throttle {
                    rate: 10.0,
                    burst: 20,
                }),
                quota: Some(Quota {
                    limit: 10_000,
                    period: QuotaPeriod::Month,
                    offset: 0,
                }),
                stages: stages.iter().map(|s| s.name.clone()).collect(),
            };
            Topology {
                gateway,
                ports,
                stages,
                routes: routes
                    .into_iter()
                    .map(|(path, (port, key))| Route {
                        path: format!("{path}/{{proxy+}}"),
                        methods: vec!["ANY".into()],
                        api_key_required: key,
                        port,
                        backend_path: None,
                    })
                    .collect(),
                usage_plans: vec![plan],
                usage: UsageAssumptions::default(),
            }
            .normalised()
        })
}

proptest! {
    #[test]
    fn generated_valid_topologies_pass(t in valid_topology()) {
        prop_assert_eq!(validate(&t), Ok(()));
    }

    #[test]
    fn topologies_round_trip_through_yaml_and_json(t in valid_topology()) {
        let json = serde_json::to_string(&t).unwrap();
        prop_assert_eq!(&serde_json::from_str::<Topology>(&json).unwrap(), &t);
    }

    #[test]
    fn an_invalid_instance_id_is_named(t in valid_topology(), bad in "i-[0-9a-f]{9,16}") {
        let mut t = t;
        t.ports[0].instances.push(bad.clone());
        let problems = validate(&t).unwrap_err();
        prop_assert!(problems.iter().any(|p| p.message.contains(&bad) && p.field.ends_with(".instances")));
    }
}

fn seed() -> Topology {
    let yaml = include_str!("../../../../examples/seed-topology.yaml");
    serde_yaml_ng::from_str(yaml).expect("the seed parses")
}

/// Applies `edit` to the seed and returns the problems it causes, one per line.
fn only_problem(edit: impl FnOnce(&mut Topology)) -> String {
    let mut t = seed();
    edit(&mut t);
    let problems = validate(&t).expect_err("the edit is invalid");
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_seed_is_valid() {
    assert_eq!(validate(&seed()), Ok(()));
}

#[test]
fn a_private_api_is_refused_with_what_it_would_need() {
    let problem =
        only_problem(|t| t.gateway.endpoint_type = crate::model::topology::EndpointType::Private);
    assert!(problem.starts_with("gateway.endpoint_type: PRIVATE needs an execute-api VPC endpoint"));
}

#[test]
fn each_boundary_fails_with_its_own_message() {
    assert!(only_problem(|t| {
        t.ports[0].port = 0;
        t.ports[0].listener_port = Some(8080);
        t.stages.retain(|s| s.backend_port != 8080);
        t.routes.retain(|r| r.port != Some(8080));
        t.usage_plans[0].stages.retain(|s| s != "dev");
    })
    .contains("Backend port 0 is out of range"));
    assert!(only_problem(|t| t.ports[0].listener_port = Some(70_000))
        .contains("Listener port 70000 is out of range"));
    assert!(only_problem(|t| t.ports[1].listener_port = Some(8080))
        .contains("already used by backend port 8080"));
    assert!(only_problem(|t| t.stages[0].name = "a".repeat(129)).contains("longer than 128"));
    assert!(only_problem(|t| t.stages[0].name = "dev stage".into()).contains("found ' '"));
    assert!(only_problem(|t| t.stages[0].backend_port = 9999)
        .contains("Backend port 9999 does not exist"));
    assert!(only_problem(|t| t.routes[0].path = "/a/{proxy+}/b".into())
        .contains("may only be the last one"));
    assert!(only_problem(|t| t.routes[0].path = "/dev/".into()).contains("empty segment"));
    assert!(only_problem(|t| t.routes[0].path = "dev".into()).contains("must start with '/'"));
    assert!(only_problem(|t| t.routes[0].port = Some(1234))
        .contains("Backend port 1234 does not exist"));
    assert!(
        only_problem(|t| t.routes[0].methods = vec!["ANY".into(), "GET".into()])
            .contains("ANY already covers")
    );
    assert!(
        only_problem(|t| t.ports[0].instances = vec!["i-123".into()])
            .contains("8 or 17 hex digits")
    );
    assert!(
        only_problem(|t| t.ports[0].health_check.interval_seconds = 4).contains("use 5 to 300")
    );
    assert!(
        only_problem(|t| t.ports[0].health_check.interval_seconds = 301).contains("use 5 to 300")
    );
    assert!(
        only_problem(|t| t.ports[0].health_check.healthy_threshold = 11)
            .contains("Healthy threshold 11")
    );
    assert!(
        only_problem(|t| t.ports[0].health_check.path = Some("/h".into())).contains("only to HTTP")
    );
    assert!(
        only_problem(|t| t.ports[0].health_check.protocol = HealthProtocol::Http)
            .contains("needs a path")
    );
    assert!(only_problem(|t| t.ports[0].deregistration_delay = 3601).contains("0 to 3600"));
    assert!(only_problem(|t| t.stages[0].throttle = Some(Throttle {
        rate: 10_000.5,
        burst: 1
    }))
    .contains("rate must be 0 to 10000"));
    assert!(only_problem(|t| t.stages[0].throttle = Some(Throttle {
        rate: 1.0,
        burst: 5001
    }))
    .contains("burst must be 0 to 5000"));
    assert!(only_problem(|t| t.usage_plans[0].quota = Some(Quota {
        limit: 0,
        period: QuotaPeriod::Day,
        offset: 0
    }))
    .contains("at least 1"));
    assert!(only_problem(|t| t.usage_plans[0].quota = Some(Quota {
        limit: 5,
        period: QuotaPeriod::Week,
        offset: 7
    }))
    .contains("0 to 6"));
    assert!(
        only_problem(|t| t.usage_plans[0].stages = vec!["prod".into()])
            .contains("Stage \"prod\" does not exist")
    );
    assert!(only_problem(|t| t.gateway.region = "moon-1".into()).contains("not an AWS region"));
    assert!(only_problem(|t| t.gateway.vpc_id = "vpc-xyz".into()).contains("VPC id"));
    assert!(only_problem(|t| t.gateway.subnet_ids.clear()).contains("at least one subnet"));
    assert!(only_problem(|t| t.gateway.name = "Portico".into()).contains("lowercase letter"));
    assert!(only_problem(|t| t.gateway.name = "a".repeat(25)).contains("1 to 24"));
    assert!(only_problem(|t| {
        t.stages[0]
            .variables
            .insert(rules::BACKEND_PORT_VAR.into(), "1".into());
    })
    .contains("set by Portico"));
    assert!(only_problem(|t| t.stages[0].cache_gb = Some("2".into())).contains("Cache size"));
}

#[test]
fn parameter_names_do_not_distinguish_paths() {
    let msg = only_problem(|t| {
        let mut twin = t.routes[0].clone();
        twin.path = "/dev/{anything}".into();
        t.routes.push(twin);
    });
    assert!(msg.contains("same resource"), "{msg}");
}

#[test]
fn users_of_a_port_are_named() {
    let t = seed();
    assert_eq!(
        t.users_of_port(8080),
        vec!["stage dev", "route /dev/{proxy+}"]
    );
}

#[test]
fn rules_accept_their_edges() {
    assert!(rules::port(1, "p").is_ok() && rules::port(65_535, "p").is_ok());
    assert!(rules::stage_name(&"a".repeat(128)).is_ok());
    assert!(
        rules::instance_id("i-0123456789abcdef0").is_ok()
            && rules::instance_id("i-01234567").is_ok()
    );
    assert!(rules::instance_id("i-0123456789ABCDEF0").is_err());
    assert!(rules::resource_path("/").is_ok() && rules::resource_path("/{proxy+}").is_ok());
    assert!(rules::role_arn("arn:aws:iam::123456789012:role/portico").is_ok());
    assert!(rules::role_arn("arn:aws:iam::123:role/x").is_err());
}

/// AWS's quotas: at the limit a topology is valid, one past it is refused with the count and
/// the quota, before anything reaches AWS.
#[test]
fn aws_quotas_are_refused_one_past_the_limit() {
    use crate::model::rules::quotas::*;
    let with_ports = |n: usize| {
        move |t: &mut Topology| {
            let template = t.ports[0].clone();
            t.ports = (0..n as u32)
                .map(|i| {
                    let mut p = template.clone();
                    p.port = 10_000 + i;
                    p.listener_port = None;
                    p
                })
                .collect();
            t.stages.iter_mut().for_each(|s| s.backend_port = 10_000);
            t.routes.iter_mut().for_each(|r| r.port = None);
        }
    };
    let mut at_limit = seed();
    with_ports(LISTENERS_PER_NLB)(&mut at_limit);
    assert_eq!(validate(&at_limit), Ok(()));
    let problem = only_problem(with_ports(LISTENERS_PER_NLB + 1));
    assert!(
        problem.contains("51 backend ports") && problem.contains("at most 50 listeners"),
        "{problem}"
    );

    let with_stages = |n: usize| {
        move |t: &mut Topology| {
            let template = t.stages[0].clone();
            t.stages = (0..n)
                .map(|i| {
                    let mut s = template.clone();
                    s.name = format!("s{i}");
                    s
                })
                .collect();
            t.usage_plans
                .iter_mut()
                .for_each(|p| p.stages = vec!["s0".into()]);
        }
    };
    let mut at_limit = seed();
    with_stages(STAGES_PER_API)(&mut at_limit);
    assert_eq!(validate(&at_limit), Ok(()));
    assert!(only_problem(with_stages(STAGES_PER_API + 1)).contains("11 stages"));

    // Resources: the root, and each route's path and prefixes.
    let with_routes = |n: usize| {
        move |t: &mut Topology| {
            let template = t.routes[0].clone();
            t.routes = (0..n)
                .map(|i| {
                    let mut r = template.clone();
                    r.path = format!("/r{i}");
                    r
                })
                .collect();
        }
    };
    let mut at_limit = seed();
    with_routes(RESOURCES_PER_API - 1)(&mut at_limit);
    assert_eq!(validate(&at_limit), Ok(()));
    let problem = only_problem(with_routes(RESOURCES_PER_API));
    assert!(problem.contains("301 API resources"), "{problem}");

    let problem = only_problem(|t| {
        t.stages[0].variables = (0..VARIABLES_PER_STAGE)
            .map(|i| (format!("v{i}"), "x".into()))
            .collect();
    });
    assert!(problem.contains("101 stage variables"), "{problem}");

    let problem = only_problem(|t| {
        t.ports[0].instances = (0..=TARGETS_PER_TARGET_GROUP)
            .map(|i| format!("i-{i:017x}"))
            .collect();
    });
    assert!(problem.contains("1001 instances"), "{problem}");
    let problem = only_problem(|t| {
        let many: Vec<String> = (0..TARGETS_PER_TARGET_GROUP)
            .map(|i| format!("i-{i:017x}"))
            .collect();
        for p in &mut t.ports {
            p.instances = many.clone();
        }
        let mut fourth = t.ports[0].clone();
        fourth.port = 9999;
        fourth.listener_port = None;
        t.ports.push(fourth);
    });
    assert!(problem.contains("4000 targets over all ports"), "{problem}");
}

#[test]
fn backend_paths_take_the_routes_parameters_whole() {
    use super::rules::backend_path;
    assert!(backend_path("/dev/{proxy+}", "/{proxy}").is_ok());
    assert!(backend_path("/dev/{proxy+}", "/").is_ok());
    assert!(backend_path("/orders/{id}", "/v1/orders/{id}/").is_ok());
    for bad in [
        "v1",
        "/{proxy+}",
        "/{a/b}",
        "/v1/{id}.json",
        "/a b",
        "/{other}",
    ] {
        assert!(backend_path("/orders/{id}/{proxy+}", bad).is_err(), "{bad}");
    }
}

#[test]
fn access_logs_go_to_a_log_group_or_stream_in_the_gateways_region() {
    let group = "arn:aws:logs:eu-west-1:123456789012:log-group:api/access";
    assert_eq!(rules::access_log_destination(group, "eu-west-1"), Ok(()));
    let stream = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/amazon-apigateway-x";
    assert_eq!(rules::access_log_destination(stream, "eu-west-1"), Ok(()));
    let china = "arn:aws-cn:logs:cn-north-1:123456789012:log-group:api";
    assert_eq!(rules::access_log_destination(china, "cn-north-1"), Ok(()));
    for (arn, says) in [
        (group, "not in the gateway's region"),
        (
            "arn:aws:logs:us-east-1:123456789012:log-group:api",
            "not in the gateway's region",
        ),
        (
            "arn:aws-cn:logs:us-east-2:123456789012:log-group:api",
            "not in the gateway's region",
        ),
        ("log-group:api", "is not an ARN"),
        (
            "arn:aws:logs:us-east-2:1234:log-group:api",
            "12-digit account",
        ),
        (
            "arn:aws:logs:us-east-2:123456789012:log-group:",
            "does not name a log group",
        ),
        (
            "arn:aws:logs:us-east-2:123456789012:log-group:a b",
            "does not name a log group",
        ),
        (
            "arn:aws:firehose:us-east-2:123456789012:deliverystream/mine",
            "amazon-apigateway-",
        ),
        ("arn:aws:s3:us-east-2:123456789012:bucket", "is a s3 ARN"),
    ] {
        let message = rules::access_log_destination(arn, "us-east-2").unwrap_err();
        assert!(message.contains(says), "{arn}: {message}");
    }
    assert_eq!(rules::access_log_format(rules::ACCESS_LOG_JSON), Ok(()));
    assert_eq!(
        rules::access_log_format("$context.extendedRequestId"),
        Ok(())
    );
    let key_id = "$context.requestId $context.identity.apiKeyId";
    assert_eq!(rules::access_log_format(key_id), Ok(()));
    for (format, says) in [
        ("  ", "empty"),
        ("$context.status", "requestId"),
        ("$context.requestId\n$context.status", "one line"),
        (
            "$context.requestId $context.identity.apiKey",
            "API key values",
        ),
    ] {
        let message = rules::access_log_format(format).unwrap_err();
        assert!(message.contains(says), "{format}: {message}");
    }
    // A whole topology names the stage's field.
    let elsewhere = |t: &mut Topology| {
        let region = if t.gateway.region == "us-east-1" {
            "us-west-2"
        } else {
            "us-east-1"
        };
        t.stages[0].access_log = Some(AccessLogging::To(AccessLog {
            destination: format!("arn:aws:logs:{region}:123456789012:log-group:api"),
            format: None,
        }));
    };
    assert!(only_problem(elsewhere).contains("not in the gateway's region"));
    assert!(only_problem(|t| {
        let region = t.gateway.region.clone();
        t.stages[0].access_log = Some(AccessLogging::To(AccessLog {
            destination: format!("arn:aws:logs:{region}:123456789012:log-group:api"),
            format: Some("$context.status".into()),
        }));
    })
    .contains("requestId"));
    let long = format!(
        "$context.requestId {}",
        "x".repeat(rules::ACCESS_LOG_FORMAT_MAX)
    );
    assert!(rules::access_log_format(&long)
        .unwrap_err()
        .contains("at most"));
}

#[test]
fn an_access_log_is_read_from_its_file_form_and_kept_in_one_form() {
    let file = |log: &str| {
        format!(
            "gateway: {{name: shop, region: eu-west-1, vpc_id: vpc-0123abcd, subnet_ids: [subnet-0123abcd]}}\n\
             ports: [{{port: 8080}}]\n\
             stages:\n- name: dev\n  backend_port: 8080\n  access_log: {log}\n"
        )
    };
    let read = |log: &str| {
        Topology::from_yaml(&file(log)).unwrap().stages[0]
            .access_log
            .clone()
    };
    assert_eq!(read("off"), Some(AccessLogging::Off));
    let group = "arn:aws:logs:eu-west-1:123456789012:log-group:api";
    // The `:*` CloudWatch's console shows, spaces and the default format are dropped.
    let with_default = format!(
        "!to {{destination: ' {group}:* ', format: '{}'}}",
        rules::ACCESS_LOG_JSON
    );
    let log = AccessLog {
        destination: group.into(),
        format: None,
    };
    assert_eq!(read(&with_default), Some(AccessLogging::To(log.clone())));
    assert_eq!(log.name(), "api");
    assert_eq!(log.format(), rules::ACCESS_LOG_JSON);
    let t = Topology::from_yaml(&file(&with_default)).unwrap();
    assert_eq!(Topology::from_yaml(&t.to_yaml().unwrap()).unwrap(), t);
    assert!(Topology::from_yaml(&file("on")).is_err());
    // The same log however AWS writes the group.
    let shown = AccessLog {
        destination: format!("{group}:*"),
        format: Some(format!(" {} ", rules::ACCESS_LOG_JSON)),
    };
    assert!(log.same_as(&shown));
}
