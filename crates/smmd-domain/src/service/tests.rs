//! Unit and property tests of service types, order validation and pricing.

use proptest::prelude::*;

use super::*;

fn rules(t: ServiceType, rate: &str, min: i64, max: i64, drip: bool) -> ServiceRules {
    ServiceRules {
        service_type: t,
        rate: Money::parse(rate).expect("rate"),
        min,
        max,
        dripfeed: drip,
        platform: "other",
    }
}

fn input(pairs: &[(&str, &str)]) -> OrderInput {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        map.insert(
            (*k).to_string(),
            serde_json::Value::String((*v).to_string()),
        );
    }
    serde_json::from_value(serde_json::Value::Object(map)).expect("fields")
}

#[test]
fn type_names_parse_tolerantly() {
    assert_eq!(ServiceType::parse("default"), Some(ServiceType::Default));
    assert_eq!(
        ServiceType::parse("custom_comments"),
        Some(ServiceType::CustomComments)
    );
    assert_eq!(
        ServiceType::parse(" Mentions-with  hashtags "),
        Some(ServiceType::MentionsWithHashtags)
    );
    assert_eq!(ServiceType::parse("Telepathy"), None);
    for t in ServiceType::ALL {
        assert_eq!(ServiceType::parse(t.as_str()), Some(t));
    }
}

#[test]
fn default_order_prices_per_thousand_and_keeps_the_link_exactly() {
    let r = rules(ServiceType::Default, "0.90", 50, 10_000, true);
    let spec = validate_order(
        &r,
        &input(&[
            ("link", "https://www.instagram.com/p/ABC/?a=1&b=2"),
            ("quantity", "100"),
        ]),
    )
    .expect("valid");
    assert_eq!(
        spec.link.as_deref(),
        Some("https://www.instagram.com/p/ABC/?a=1&b=2")
    );
    assert_eq!(spec.charge, Money::parse("0.09").expect("m"));
    assert_eq!(
        (spec.quantity, spec.total_quantity, spec.runs),
        (100, 100, None)
    );
}

#[test]
fn drip_feed_multiplies_quantity_by_runs() {
    let r = rules(ServiceType::Default, "0.90", 50, 10_000, true);
    let spec = validate_order(
        &r,
        &input(&[
            ("link", "x.io/p"),
            ("quantity", "100"),
            ("runs", "2"),
            ("interval", "5"),
        ]),
    )
    .expect("valid");
    assert_eq!(
        (spec.total_quantity, spec.runs, spec.interval),
        (200, Some(2), Some(5))
    );
    assert_eq!(spec.charge.to_string(), "0.18");
    let no_drip = rules(ServiceType::Default, "0.90", 50, 10_000, false);
    assert_eq!(
        validate_order(
            &no_drip,
            &input(&[
                ("link", "x.io/p"),
                ("quantity", "100"),
                ("runs", "2"),
                ("interval", "5")
            ])
        ),
        Err(OrderError::DripFeedNotAllowed)
    );
    assert_eq!(
        validate_order(
            &r,
            &input(&[("link", "x.io/p"), ("quantity", "100"), ("runs", "2")])
        ),
        Err(OrderError::IncorrectInterval)
    );
    assert_eq!(
        validate_order(
            &r,
            &input(&[
                ("link", "x.io/p"),
                ("quantity", "100"),
                ("runs", "0"),
                ("interval", "5")
            ])
        ),
        Err(OrderError::IncorrectRuns)
    );
}

#[test]
fn quantity_bounds_and_format_are_enforced() {
    let r = rules(ServiceType::Default, "0.90", 50, 10_000, true);
    let q = |v: &str| validate_order(&r, &input(&[("link", "x.io/p"), ("quantity", v)]));
    assert_eq!(q("10"), Err(OrderError::QuantityBelowMin(50)));
    assert_eq!(q("10001"), Err(OrderError::QuantityAboveMax(10_000)));
    assert_eq!(q("1.5"), Err(OrderError::IncorrectQuantity));
    assert_eq!(q("-100"), Err(OrderError::IncorrectQuantity));
    assert_eq!(
        q("99999999999999999999999"),
        Err(OrderError::IncorrectQuantity)
    );
    assert!(q(" 100 ").is_ok());
    assert_eq!(
        validate_order(&r, &input(&[("link", "x.io/p")])),
        Err(OrderError::IncorrectQuantity)
    );
    assert_eq!(
        validate_order(&r, &input(&[("quantity", "100")])),
        Err(OrderError::IncorrectLink)
    );
    assert_eq!(
        validate_order(&r, &input(&[("link", "a b"), ("quantity", "100")])),
        Err(crate::link::LinkError::Characters.into())
    );
}

#[test]
fn custom_comments_count_non_empty_lines_and_ignore_quantity() {
    let r = rules(ServiceType::CustomComments, "8", 1, 1500, false);
    let spec = validate_order(
        &r,
        &input(&[
            ("link", "https://x.io/p"),
            ("quantity", "10"),
            ("comments", "good pic\ngreat photo\r\n:)\n\n"),
        ]),
    )
    .expect("valid");
    assert_eq!(spec.extras.comments, vec!["good pic", "great photo", ":)"]);
    assert_eq!(
        (spec.quantity, spec.charge.to_string()),
        (3, "0.024".to_string())
    );
    assert_eq!(
        validate_order(&r, &input(&[("link", "x.io/p"), ("comments", "\n \n")])),
        Err(OrderError::IncorrectField("comments"))
    );
}

#[test]
fn package_costs_its_rate() {
    let r = rules(ServiceType::Package, "5.00", 1, 1, false);
    let spec = validate_order(
        &r,
        &input(&[("link", "https://x.io/u"), ("quantity", "777")]),
    )
    .expect("valid");
    assert_eq!(
        (spec.quantity, spec.charge.to_string()),
        (1, "5.00".to_string())
    );
}

#[test]
fn subscriptions_need_no_link_and_check_their_fields() {
    let r = rules(ServiceType::Subscriptions, "1", 100, 1000, false);
    let ok = input(&[
        ("username", "someuser"),
        ("min", "100"),
        ("max", "110"),
        ("posts", "0"),
        ("delay", "30"),
        ("expiry", "11/11/2030"),
    ]);
    let spec = validate_order(&r, &ok).expect("valid");
    assert_eq!(spec.link, None);
    let sub = spec.extras.subscription.expect("subscription");
    assert_eq!(
        (sub.min, sub.max, sub.posts, sub.delay, sub.expiry),
        (100, 110, Some(0), 30, Some((11, 11, 2030)))
    );
    assert_eq!(spec.total_quantity, 110);
    let mut bad = ok.clone();
    bad.delay = Some("7".into());
    assert_eq!(
        validate_order(&r, &bad),
        Err(OrderError::IncorrectField("delay"))
    );
    let mut bad = ok.clone();
    bad.expiry = Some("31/02/2030".into());
    assert_eq!(
        validate_order(&r, &bad),
        Err(OrderError::IncorrectField("expiry"))
    );
    let mut bad = ok;
    bad.min = Some("50".into());
    assert_eq!(
        validate_order(&r, &bad),
        Err(OrderError::QuantityBelowMin(100))
    );
}

#[test]
fn mentions_split_usernames_on_commas_and_strip_hash_from_hashtags() {
    let r = rules(ServiceType::MentionsWithHashtags, "1", 10, 100, false);
    let spec = validate_order(
        &r,
        &input(&[
            ("link", "x.io/p"),
            ("quantity", "10"),
            ("usernames", "test, testing"),
            ("hashtags", "#a\nb"),
        ]),
    )
    .expect("valid");
    assert_eq!(spec.extras.usernames, vec!["test", "testing"]);
    assert_eq!(spec.extras.hashtags, vec!["a", "b"]);
    let list = rules(ServiceType::MentionsCustomList, "1", 1, 100, false);
    let spec = validate_order(
        &list,
        &input(&[("link", "x.io/p"), ("usernames", "a\nb\nc")]),
    )
    .expect("valid");
    assert_eq!(spec.quantity, 3);
}

#[test]
fn poll_and_web_traffic_check_their_parameters() {
    let poll = rules(ServiceType::Poll, "1", 10, 10_000, false);
    assert!(validate_order(
        &poll,
        &input(&[
            ("link", "x.io/p"),
            ("quantity", "100"),
            ("answer_number", "7")
        ])
    )
    .is_ok());
    assert_eq!(
        validate_order(&poll, &input(&[("link", "x.io/p"), ("quantity", "100")])),
        Err(OrderError::IncorrectField("answer_number"))
    );
    let web = rules(ServiceType::WebTraffic, "1", 10, 10_000, true);
    assert_eq!(
        validate_order(
            &web,
            &input(&[
                ("link", "x.io/p"),
                ("quantity", "100"),
                ("type_of_traffic", "1")
            ])
        ),
        Err(OrderError::IncorrectField("google_keyword"))
    );
    assert!(validate_order(
        &web,
        &input(&[
            ("link", "x.io/p"),
            ("quantity", "100"),
            ("type_of_traffic", "1"),
            ("google_keyword", "k"),
            ("device", "5")
        ])
    )
    .is_ok());
    assert_eq!(
        validate_order(
            &web,
            &input(&[("link", "x.io/p"), ("quantity", "100"), ("device", "6")])
        ),
        Err(OrderError::IncorrectField("device"))
    );
}

#[test]
fn every_type_with_a_full_input_validates() {
    let full = input(&[
        ("link", "https://x.io/y"),
        ("quantity", "100"),
        ("comments", "a\nb"),
        ("usernames", "u1\nu2"),
        ("hashtags", "h"),
        ("hashtag", "h"),
        ("username", "u"),
        ("media", "https://m"),
        ("answer_number", "1"),
        ("groups", "g"),
        ("min", "10"),
        ("max", "100"),
    ]);
    for t in ServiceType::ALL {
        let r = rules(t, "1", 1, 10_000, false);
        let spec = validate_order(&r, &full).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert!(spec.charge.is_positive(), "{t}");
    }
}

proptest! {
    #[test]
    fn validation_never_panics_and_accepted_orders_respect_bounds(
        t in 0usize..16, q in proptest::option::of(".{0,12}"), link in proptest::option::of(".{0,20}"),
        runs in proptest::option::of("[0-9]{0,4}"), interval in proptest::option::of("[0-9]{0,4}"),
        comments in proptest::option::of("(.{0,8}\n){0,4}"),
    ) {
        let r = rules(ServiceType::ALL[t], "0.9", 5, 5_000, true);
        let inp = OrderInput { link, quantity: q, runs, interval, comments: comments.clone(), usernames: comments, ..Default::default() };
        if let Ok(spec) = validate_order(&r, &inp) {
            prop_assert!(spec.charge.micros() >= 0);
            prop_assert!(spec.total_quantity >= spec.quantity);
            if !r.service_type.is_package() {
                prop_assert!(spec.quantity >= 5 && spec.quantity <= 5_000);
            }
        }
    }
}
