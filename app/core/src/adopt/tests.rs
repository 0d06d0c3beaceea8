//! The console-built shape reads back as the topology that says it; each thing the shape
//! cannot express is named.

use super::*;

const API: &str = "a1b2c3";
const LINK: &str = "vl-1";
const NLB: &str = "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/shared/1";
const DNS: &str = "shared-1.elb.eu-west-1.amazonaws.com";

fn tg(port: u32) -> (String, FoundTargetGroup) {
    (
        format!("arn:tg/{port}"),
        FoundTargetGroup {
            name: format!("tg-{port}"),
            port,
            protocol: "TCP".into(),
            target_type: "instance".into(),
            health_check: HealthCheck::default(),
            deregistration_delay: 300,
            instances: vec!["i-0123456789abcdef0".into()],
            tags: BTreeMap::new(),
        },
    )
}

fn method(verb: &str, uri_port: &str) -> FoundMethod {
    FoundMethod {
        verb: verb.into(),
        api_key_required: true,
        authorization: "NONE".into(),
        integration: Some(FoundIntegration {
            kind: "HTTP_PROXY".into(),
            connection_type: "VPC_LINK".into(),
            connection_id: Some(LINK.into()),
            uri: format!("http://{DNS}:{uri_port}/{{proxy}}"),
            request_templates: 0,
        }),
    }
}

/// As a team builds it in the console: /dev, /sprint, /release pinned to 8080/8081/8082, a
/// stage each, one usage plan, one key.
fn console() -> Found {
    let resource = |path: &str, port: &str| FoundResource {
        path: path.into(),
        methods: vec![method("ANY", port)],
    };
    Found {
        region: "eu-west-1".into(),
        api: FoundApi {
            id: API.into(),
            name: "shop".into(),
            endpoint_type: "REGIONAL".into(),
            tags: BTreeMap::new(),
        },
        resources: vec![
            FoundResource {
                path: "/".into(),
                methods: vec![],
            },
            resource("/dev/{proxy+}", "8080"),
            resource("/sprint/{proxy+}", "8081"),
            resource("/release/{proxy+}", "8082"),
            FoundResource {
                path: "/dev".into(),
                methods: vec![],
            },
            FoundResource {
                path: "/sprint".into(),
                methods: vec![],
            },
            FoundResource {
                path: "/release".into(),
                methods: vec![],
            },
        ],
        vpc_links: BTreeMap::from([(
            LINK.into(),
            FoundLink {
                name: "shop-link".into(),
                target_arns: vec![NLB.into()],
                tags: BTreeMap::new(),
            },
        )]),
        load_balancers: BTreeMap::from([(
            NLB.into(),
            FoundLoadBalancer {
                name: "shared".into(),
                dns: DNS.into(),
                kind: "network".into(),
                vpc_id: "vpc-0123456789abcdef0".into(),
                subnets: vec!["subnet-0123456789abcdef0".into()],
                listeners: [8080, 8081, 8082]
                    .into_iter()
                    .map(|p| FoundListener {
                        port: p,
                        protocol: "TCP".into(),
                        target_group: Some(format!("arn:tg/{p}")),
                    })
                    .collect(),
                tags: BTreeMap::new(),
            },
        )]),
        target_groups: [8080, 8081, 8082].into_iter().map(tg).collect(),
        stages: ["dev", "sprint", "release"]
            .iter()
            .map(|s| FoundStage {
                name: (*s).into(),
                deployment_id: format!("dep-{s}"),
                variables: BTreeMap::new(),
                throttle: None,
                cache_gb: None,
                access_log: None,
            })
            .collect(),
        usage_plans: vec![FoundUsagePlan {
            id: "up-1".into(),
            name: "standard".into(),
            throttle: Some(Throttle {
                rate: 50.0,
                burst: 100,
            }),
            quota: None,
            api_stages: vec![(API.into(), "dev".into()), (API.into(), "release".into())],
            tags: BTreeMap::new(),
        }],
        keys: vec![FoundKey {
            id: "k-1".into(),
            name: "partner".into(),
            enabled: true,
            usage_plans: vec!["standard".into()],
            ..FoundKey::default()
        }],
        ..Found::default()
    }
}

#[test]
fn the_console_shape_reads_back_whole() {
    let a = adopt(&console(), "shop", None);
    assert_eq!(a.misfits, Vec::<String>::new());
    let t = &a.topology;
    assert_eq!(t.gateway.vpc_id, "vpc-0123456789abcdef0");
    assert_eq!(t.gateway.region, "eu-west-1");
    assert_eq!(
        t.ports.iter().map(|p| p.port).collect::<Vec<_>>(),
        vec![8080, 8081, 8082]
    );
    assert!(t.ports.iter().all(|p| p.listener_port.is_none()));
    let dev = t.routes.iter().find(|r| r.path == "/dev/{proxy+}").unwrap();
    assert_eq!((dev.port, dev.api_key_required), (Some(8080), true));
    assert_eq!(dev.methods, vec!["ANY".to_string()]);
    assert_eq!(t.stages.len(), 3);
    assert_eq!(
        t.usage_plans[0].stages,
        vec!["dev".to_string(), "release".to_string()]
    );
    assert_eq!(a.keys.len(), 1);
    // Everything it would tag: the API, the link, the NLB, 3 target groups, the plan, the key.
    assert_eq!(a.tags.len(), 8, "{:?}", a.tags);
    // The file it would store is a topology Portico reads back.
    let yaml = t.to_yaml().unwrap();
    assert_eq!(&Topology::from_yaml(&yaml).unwrap().normalised(), t);
}

/// Every route calls the stage's port; dev, sprint and release hold 8080, 8081, 8082.
fn on_the_stage_port(f: &mut Found) {
    for r in &mut f.resources {
        for m in &mut r.methods {
            if let Some(i) = &mut m.integration {
                i.uri = format!("http://{DNS}:${{stageVariables.backendPort}}/{{proxy}}");
            }
        }
    }
    for (s, p) in f.stages.iter_mut().zip(["8080", "8081", "8082"]) {
        s.variables.insert("backendPort".into(), p.into());
    }
}

#[test]
fn routes_on_the_stage_port_take_each_stage_own_listener() {
    let mut f = console();
    on_the_stage_port(&mut f);
    for s in &mut f.stages {
        s.variables.insert("team".into(), "payments".into());
    }
    let a = adopt(&f, "shop", None);
    assert_eq!(a.misfits, Vec::<String>::new());
    let sprint = a
        .topology
        .stages
        .iter()
        .find(|s| s.name == "sprint")
        .unwrap();
    assert_eq!(sprint.backend_port, 8081);
    assert_eq!(sprint.variables.len(), 1, "backendPort is Portico's own");
    assert!(a.topology.routes.iter().all(|r| r.port.is_none()));
    // A stage without the variable can't serve those routes.
    f.stages[0].variables.clear();
    let a = adopt(&f, "shop", None);
    assert!(
        a.misfits.iter().any(|m| m.contains("Stage dev")),
        "{:?}",
        a.misfits
    );
}

#[test]
fn what_the_shape_cannot_express_is_listed() {
    let mut f = console();
    f.authorizers.push("jwt".into());
    f.models.push("Order".into());
    f.resources.push(FoundResource {
        path: "/hook".into(),
        methods: vec![FoundMethod {
            verb: "POST".into(),
            api_key_required: false,
            authorization: "NONE".into(),
            integration: Some(FoundIntegration {
                kind: "AWS_PROXY".into(),
                connection_type: "INTERNET".into(),
                connection_id: None,
                uri: "arn:aws:apigateway:eu-west-1:lambda:path/fn".into(),
                request_templates: 0,
            }),
        }],
    });
    f.resources[1].methods[0]
        .integration
        .as_mut()
        .unwrap()
        .request_templates = 1;
    f.usage_plans[0]
        .api_stages
        .push(("other".into(), "prod".into()));
    f.target_groups.get_mut("arn:tg/8082").unwrap().target_type = "ip".into();
    f.keys[0].elsewhere = vec!["partners-v1".into()];
    f.stages[1]
        .variables
        .insert("backendPort".into(), "9999".into());
    let a = adopt(&f, "shop", None);
    for needle in [
        "Authorizer \"jwt\"",
        "Model \"Order\"",
        "POST /hook integrates AWS_PROXY",
        "maps requests with templates",
        "also covers other/prod",
        "registers ip targets",
        "also in usage plan(s) partners-v1 over other APIs",
        "its backendPort variable (9999) names no listener",
    ] {
        assert!(
            a.misfits.iter().any(|m| m.contains(needle)),
            "{needle}: {:?}",
            a.misfits
        );
    }
    // Already Portico's: managed, not adopted.
    let mut f = console();
    f.api.tags.insert(TAG_GATEWAY.into(), "shop".into());
    assert!(adopt(&f, "shop", None).misfits[0].contains("already belongs to Portico"));
    let mut f = console();
    f.keys[0].tags.insert(TAG_GATEWAY.into(), "billing".into());
    assert!(adopt(&f, "shop", None).misfits[0].contains("API key partner (k-1) already belongs"));
    // Two links, or a link to two NLBs.
    let mut f = console();
    f.resources[2].methods[0]
        .integration
        .as_mut()
        .unwrap()
        .connection_id = Some("vl-2".into());
    assert!(adopt(&f, "shop", None)
        .misfits
        .iter()
        .any(|m| m.contains("2 VPC links")));
}

/// What the worker observes once the adoption's tags are on: `found`, as `Actual`.
fn observed(f: &Found, keys: &[crate::plan::keys::DesiredKey]) -> crate::plan::actual::Actual {
    use crate::plan::actual as a;
    let mut actual = a::Actual::default();
    for (arn, tg) in &f.target_groups {
        actual.target_groups.insert(
            tg.name.clone(),
            a::TargetGroup {
                arn: arn.clone(),
                port: tg.port,
                vpc_id: f.load_balancers[NLB].vpc_id.clone(),
                health_check: tg.health_check.clone(),
                deregistration_delay: tg.deregistration_delay,
                targets: tg
                    .instances
                    .iter()
                    .map(|i| {
                        let health = a::TargetHealth {
                            state: "healthy".into(),
                            reason: None,
                            description: None,
                        };
                        (i.clone(), health)
                    })
                    .collect(),
            },
        );
    }
    for (arn, lb) in &f.load_balancers {
        let listeners = lb.listeners.iter().map(|l| {
            let listener = a::Listener {
                arn: format!("{arn}/listener/{}", l.port),
                target_group_arn: l.target_group.clone(),
            };
            (l.port, listener)
        });
        actual.load_balancers.insert(
            arn.clone(),
            a::LoadBalancer {
                name: lb.name.clone(),
                arn: arn.clone(),
                dns: lb.dns.clone(),
                state: "active".into(),
                subnets: lb.subnets.clone(),
                listeners: listeners.collect(),
            },
        );
    }
    for (id, l) in &f.vpc_links {
        actual.vpc_links.insert(
            id.clone(),
            a::VpcLink {
                name: l.name.clone(),
                target_arns: l.target_arns.clone(),
                status: "AVAILABLE".into(),
                status_message: None,
            },
        );
    }
    let resources = f.resources.iter().enumerate().map(|(n, r)| {
        let methods = r.methods.iter().map(|m| {
            let integration = m.integration.as_ref().map(|i| a::Integration {
                kind: i.kind.clone(),
                uri: i.uri.clone(),
                connection_type: i.connection_type.clone(),
                connection_id: i.connection_id.clone(),
            });
            let method = a::Method {
                api_key_required: m.api_key_required,
                integration,
            };
            (m.verb.clone(), method)
        });
        let resource = a::Resource {
            id: format!("r{n}"),
            methods: methods.collect(),
        };
        (r.path.clone(), resource)
    });
    let stages = f.stages.iter().map(|s| {
        let stage = a::Stage {
            deployment_id: s.deployment_id.clone(),
            variables: s.variables.clone(),
            throttle: s.throttle.clone(),
            cache_gb: s.cache_gb.clone(),
            access_log: s.access_log.clone(),
        };
        (s.name.clone(), stage)
    });
    let mut deployments: BTreeMap<String, String> = f
        .stages
        .iter()
        .map(|s| (s.deployment_id.clone(), "by hand".to_owned()))
        .collect();
    deployments.insert("dep-older".into(), "an old one".into());
    actual.rest_apis.insert(
        f.api.id.clone(),
        a::RestApi {
            name: f.api.name.clone(),
            endpoint_type: EndpointType::Regional,
            resources: resources.collect(),
            deployments,
            stages: stages.collect(),
        },
    );
    for p in &f.usage_plans {
        actual.add_usage_plan(
            p.name.clone(),
            a::UsagePlan {
                id: p.id.clone(),
                throttle: p.throttle.clone(),
                quota: p.quota.clone(),
                api_stages: p.api_stages.clone(),
            },
        );
    }
    for k in keys {
        let found = f
            .keys
            .iter()
            .find(|x| Some(&x.id) == k.aws_id.as_ref())
            .unwrap();
        let plans = found.usage_plans.iter().map(|name| {
            let p = f.usage_plans.iter().find(|p| p.name == *name).unwrap();
            p.id.clone()
        });
        actual.add_api_key(
            k.id,
            a::ApiKey {
                id: found.id.clone(),
                name: found.name.clone(),
                enabled: found.enabled,
                usage_plans: plans.collect(),
            },
        );
    }
    actual
}

/// The adopted keys as key rows would make them.
fn desired_keys(a: &Adoption) -> Vec<crate::plan::keys::DesiredKey> {
    a.keys
        .iter()
        .zip(1..)
        .map(|(k, id)| crate::plan::keys::DesiredKey {
            id,
            name: k.name.clone(),
            description: String::new(),
            enabled: k.enabled,
            usage_plans: k.usage_plans.clone(),
            aws_id: Some(k.id.clone()),
        })
        .collect()
}

#[test]
fn the_first_plan_after_adopting_changes_nothing() {
    let mut f = console();
    // Names Portico would not give: a plan with a space, routes on the stage's port.
    f.usage_plans[0].name = "Standard tier".into();
    f.keys[0].usage_plans = vec!["Standard tier".into()];
    for variant in 0..2 {
        if variant == 1 {
            on_the_stage_port(&mut f);
        }
        let a = adopt(&f, "shop", None);
        assert_eq!(a.misfits, Vec::<String>::new());
        let keys = desired_keys(&a);
        let actual = observed(&f, &keys);
        let plan = crate::plan::plan(Some(&a.topology), &keys, &actual);
        assert!(
            plan.steps.is_empty(),
            "variant {variant}: {:#?}",
            plan.steps
        );
        let g = &a.topology.gateway;
        assert_eq!(names::target_group(g, 8081), "tg-8081");
        assert_eq!(names::load_balancer(g), "shared");
        assert_eq!(names::usage_plan(g, "Standard tier"), "Standard tier");
    }
}

#[test]
fn a_new_port_joins_the_adopted_load_balancer() {
    let f = console();
    let a = adopt(&f, "shop", None);
    let keys = desired_keys(&a);
    let actual = observed(&f, &keys);
    let mut t = a.topology.clone();
    t.ports.push(BackendPort {
        port: 9090,
        listener_port: None,
        health_check: HealthCheck::default(),
        deregistration_delay: 300,
        instances: vec!["i-0123456789abcdef0".into()],
    });
    let plan = crate::plan::plan(Some(&t), &keys, &actual);
    let made: Vec<_> = plan
        .steps
        .iter()
        .map(|s| (s.action, s.resource.as_str()))
        .collect();
    use crate::plan::Action;
    assert_eq!(
        made,
        vec![
            (Action::Create, "target group 9090"),
            (Action::Update, "targets of port 9090"),
            (Action::Create, "listener 9090"),
        ]
    );
    let tg = plan.steps[0].op.clone();
    assert!(
        matches!(&tg, crate::plan::Op::CreateTargetGroup { name, .. } if name.starts_with("pt-shop-9090-")),
        "Portico names what it makes: {tg:?}"
    );
    let listener = format!("{:?}", plan.steps[2].op);
    assert!(
        listener.contains(NLB),
        "on the adopted load balancer: {listener}"
    );
    // A new network is Portico's: the adopted names no longer hold, so it builds its own.
    let mut moved = a.topology.clone();
    moved
        .gateway
        .subnet_ids
        .push("subnet-0fedcba9876543210".into());
    assert!(names::load_balancer(&moved.gateway).starts_with("pt-shop-"));
}

#[test]
fn a_route_calling_another_host_or_not_proxying_does_not_fit() {
    let mut f = console();
    let sprint = f.resources[2].methods[0].integration.as_mut().unwrap();
    sprint.uri = "http://other-nlb.elb.amazonaws.com:8081/{proxy}".into();
    let release = f.resources[3].methods[0].integration.as_mut().unwrap();
    release.kind = "HTTP".into();
    let a = adopt(&f, "shop", None);
    for needle in [
        "calls other-nlb.elb.amazonaws.com",
        "integrates HTTP over VPC_LINK",
    ] {
        assert!(
            a.misfits.iter().any(|m| m.contains(needle)),
            "{needle}: {:?}",
            a.misfits
        );
    }
}

#[test]
fn backend_paths_are_kept_only_where_they_differ() {
    let mut f = console();
    let dev = f.resources[1].methods[0].integration.as_mut().unwrap();
    dev.uri = format!("http://{DNS}:8080/dev/{{proxy}}");
    let a = adopt(&f, "shop", None);
    let route = |p: &str| a.topology.routes.iter().find(|r| r.path == p).unwrap();
    assert_eq!(route("/dev/{proxy+}").backend_path, None);
    assert_eq!(
        route("/sprint/{proxy+}").backend_path.as_deref(),
        Some("/{proxy}")
    );
}
