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
                variables: BTreeMap::new(),
                throttle: None,
                cache_gb: None,
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

#[test]
fn routes_on_the_stage_port_take_each_stage_own_listener() {
    let mut f = console();
    for r in &mut f.resources {
        for m in &mut r.methods {
            if let Some(i) = &mut m.integration {
                i.uri = format!("http://{DNS}:${{stageVariables.backendPort}}/{{proxy}}");
            }
        }
    }
    for (s, p) in f.stages.iter_mut().zip(["8080", "8081", "8082"]) {
        s.variables.insert("backendPort".into(), p.into());
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
    let a = adopt(&f, "shop", None);
    for needle in [
        "Authorizer \"jwt\"",
        "Model \"Order\"",
        "POST /hook integrates AWS_PROXY",
        "maps requests with templates",
        "also covers other/prod",
        "registers ip targets",
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
