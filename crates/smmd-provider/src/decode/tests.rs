//! Unit tests of the API v2 answer decoding (spec §4, §6 and the C-numbered quirks).

use super::*;
use serde_json::json;

fn d(s: &str) -> Decimal {
    Decimal::from_str_exact(s).expect("decimal")
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn c1_services_with_strings_numbers_and_flags() {
    let v = parse_body(br#"[{"service":"308","name":"X","type":"default","category":"C","rate":0.02,"min":10,"max":"2147483647","refill":"1","cancel":0,"desc":"d"}]"#)
        .expect("json");
    let (list, skipped) = services_from(v.clone()).expect("services");
    assert!(skipped.is_empty());
    let s = &list[0];
    assert_eq!(s.id, "308");
    assert_eq!(s.service_type, Some(ServiceType::Default));
    assert_eq!(s.rate, d("0.02"));
    assert_eq!((s.min, s.max), (10, 2_147_483_647));
    assert_eq!(
        (s.refill, s.cancel, s.dripfeed),
        (Some(true), Some(false), None)
    );
    assert_eq!(s.description, "d");
}

#[test]
fn services_wrappers_empty_data_and_bad_entries() {
    let wrapped = json!({"data":[{"service":1,"rate":"1.5","type":"Custom_Comments"}]});
    let (list, _) = services_from(wrapped).expect("wrapped");
    assert_eq!(list[0].service_type, Some(ServiceType::CustomComments));
    let empty = json!({"status":"success","data":"Empty Data"});
    assert_eq!(services_from(empty).expect("empty").0.len(), 0);
    let partly = json!([{"service":1,"rate":"x"},{"service":2,"rate":"1","type":"Teleport"}]);
    let (list, skipped) = services_from(partly).expect("partly");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].service_type, None, "unknown type kept raw");
    assert_eq!(list[0].type_raw, "Teleport");
    assert_eq!(skipped.len(), 1);
    assert!(services_from(json!({"error":"Invalid API key"})).is_err());
}

#[test]
fn c2_add_success_shapes() {
    for (body, want) in [
        (r#"{"order":23501}"#, "23501"),
        (r#"{"order":"23501"}"#, "23501"),
        (r#"{"status":"success","order":151}"#, "151"),
    ] {
        let v = parse_body(body.as_bytes()).expect("json");
        assert_eq!(add_from(&v).expect(body), want);
    }
    assert!(add_from(&json!({"status":"success"})).is_err());
}

#[test]
fn c3_add_errors_and_envelopes() {
    let v = json!({"error":"Not enough funds on balance"});
    let Err(ShapeError::Api(m)) = add_from(&v) else {
        panic!("error expected")
    };
    assert_eq!(RejectKind::of(&m), RejectKind::InsufficientFunds);
    let v = json!({"status":"error","message":"Invalid Interval in minutes"});
    assert_eq!(
        add_from(&v),
        Err(ShapeError::Api("Invalid Interval in minutes".into()))
    );
    assert_eq!(
        RejectKind::of("Invalid Interval in minutes"),
        RejectKind::Other
    );
    assert_eq!(
        api_error(&json!({"success":false,"msg":"nope"})),
        Some("nope".into())
    );
    assert_eq!(
        api_error(&json!({"status":"fail","message":"x"})),
        Some("x".into())
    );
    assert_eq!(api_error(&json!({"order":1,"error":null})), None);
    assert_eq!(
        api_error(&json!({"status":"Fail","charge":"1"})),
        None,
        "a status member alone is not an error"
    );
}

#[test]
fn c5_money_is_exact_and_c7_unknown_counts() {
    let v = parse_body(br#"{"charge":0.08011655652,"start_count":"44","status":"Completed","remains":"0","currency":"USD"}"#).expect("json");
    let s = status_from(&v).expect("status");
    assert_eq!(s.charge, Some(d("0.08011655652")));
    assert_eq!(s.state, OrderState::Completed);
    assert_eq!((s.start_count, s.remains), (Some(44), Some(0)));
    let v = json!({"status":"Partial","charge":"1","remains":"Unknown","start_count":null});
    let s = status_from(&v).expect("status");
    assert_eq!((s.remains, s.start_count), (None, None));
    assert_eq!(s.currency, None);
    assert_eq!(count(&json!("-3")), Some(-3));
    assert_eq!(count(&json!(12.5)), None);
    assert_eq!(count(&json!(12.0)), Some(12));
}

#[test]
fn c6_status_normalisation() {
    for (raw, want) in [
        ("In Progress", OrderState::InProgress),
        ("inprogress", OrderState::InProgress),
        ("in_progress", OrderState::InProgress),
        (" In  progress ", OrderState::InProgress),
        ("processing", OrderState::Processing),
        ("Cancelled", OrderState::Canceled),
        ("Refunded", OrderState::Canceled),
        ("Fail", OrderState::Failed),
        ("Awaiting", OrderState::Pending),
        ("Teleported", OrderState::Unknown("Teleported".into())),
    ] {
        assert_eq!(OrderState::parse(raw), want, "{raw}");
    }
}

#[test]
fn c8_multi_status_items_and_c9_top_level_error() {
    let v = json!({"5":"Incorrect order ID","6":{"order":6,"status":"Completed","charge":"1","start_count":0,"remains":0}});
    let got = statuses_from(&v, &ids(&["5", "6", "7"])).expect("multi");
    assert_eq!(got["5"], Item::Error("Incorrect order ID".into()));
    assert!(matches!(&got["6"], Item::Found(s) if s.state == OrderState::Completed));
    assert_eq!(got["7"], Item::Missing);
    let e = statuses_from(&json!({"error":"Invalid API key"}), &ids(&["error", "1"]));
    assert_eq!(e, Err(ShapeError::Api("Invalid API key".into())));
    let nested = json!({"1":{"error":"Incorrect order ID"}});
    assert_eq!(
        statuses_from(&nested, &ids(&["1"])).expect("nested")["1"],
        Item::Error("Incorrect order ID".into())
    );
}

#[test]
fn c10_refill_single_shapes() {
    assert_eq!(refill_from(&json!({"refill":"1"})), Ok("1".into()));
    assert_eq!(
        refill_from(&json!({"success":"Your order will be refill asap","refill":12345})),
        Ok("12345".into())
    );
    assert!(refill_from(&json!({"error":"Order not eligible for refill."})).is_err());
    let multi = json!([{"order":1,"refill":1},{"order":3,"refill":{"error":"Incorrect order ID"}}]);
    let got = refills_from(&multi, &ids(&["1", "3", "4"])).expect("multi");
    assert_eq!(got["1"], Item::Found("1".into()));
    assert_eq!(got["3"], Item::Error("Incorrect order ID".into()));
    assert_eq!(got["4"], Item::Missing);
}

#[test]
fn c11_refill_status_array_or_keyed_object() {
    let array = json!([{"refill":1,"status":"Completed"},{"refill":2,"status":"Rejected"},{"refill":3,"status":{"error":"Refill not found"}}]);
    let keyed = json!({"1":{"status":"Completed"},"2":{"status":"Rejected"}});
    for v in [&array, &keyed] {
        let got = refill_statuses_from(v, &ids(&["1", "2"])).expect("refills");
        assert_eq!(got["1"], Item::Found(RefillState::Completed));
        assert_eq!(got["2"], Item::Found(RefillState::Rejected));
    }
    let got = refill_statuses_from(&array, &ids(&["3"])).expect("refills");
    assert_eq!(got["3"], Item::Error("Refill not found".into()));
    let single = refill_statuses_from(&json!({"status":"In progress"}), &ids(&["9"]));
    assert_eq!(
        single.expect("single")["9"],
        Item::Found(RefillState::InProgress)
    );
}

#[test]
fn c12_cancel_accepts_1_true_and_string() {
    let v = json!([{"order":2,"cancel":1},{"order":3,"cancel":true},{"order":4,"cancel":"1"},{"order":9,"cancel":{"error":"Incorrect order ID"}}]);
    let got = cancels_from(&v, &ids(&["2", "3", "4", "9", "10"])).expect("cancel");
    for id in ["2", "3", "4"] {
        assert_eq!(got[id], Item::Found(()), "{id}");
    }
    assert_eq!(got["9"], Item::Error("Incorrect order ID".into()));
    assert_eq!(got["10"], Item::Missing);
    let ok = cancels_from(&json!({"status":"success"}), &ids(&["2"])).expect("single");
    assert_eq!(ok["2"], Item::Found(()));
}

#[test]
fn c13_balance_shapes() {
    let b = balance_from(&json!({"balance":"100.84292","currency":"USD"})).expect("b");
    assert_eq!(
        (b.amount, b.currency.as_deref()),
        (d("100.84292"), Some("USD"))
    );
    let b = balance_from(&json!({"balance":100.84})).expect("b");
    assert_eq!((b.amount, b.currency), (d("100.84"), None));
    let b = balance_from(&json!({"status":"success","balance":12.3,"currency":"USD"})).expect("b");
    assert_eq!(b.amount, d("12.3"));
    assert!(balance_from(&json!({"Balance":"1"})).is_ok(), "key case");
}

#[test]
fn c14_c15_c18_bodies() {
    let html = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>";
    assert!(matches!(parse_body(html), Err(BodyError::Html(s)) if s.contains("Just a moment")));
    assert_eq!(
        parse_body(b"\xEF\xBB\xBF{\"balance\":\"4.00\"}"),
        Ok(json!({"balance":"4.00"}))
    );
    assert_eq!(parse_body(b"  \n"), Err(BodyError::Empty));
    assert_eq!(parse_body(b""), Err(BodyError::Empty));
    assert!(matches!(
        parse_body(b"{\"order\": 12"),
        Err(BodyError::Malformed(_))
    ));
    let notice = b"<br />\n<b>Notice</b>: Undefined index: x in <b>/api.php</b><br />\n{\"balance\":\"1.5\",\"currency\":\"USD\"}";
    assert_eq!(
        parse_body(notice),
        Ok(json!({"balance":"1.5","currency":"USD"}))
    );
}

#[test]
fn decimals_refuse_what_is_not_a_number() {
    assert_eq!(decimal(&json!("1,234.56")), None);
    assert_eq!(decimal(&json!("")), None);
    assert_eq!(decimal(&json!(" 12.30 ")), Some(d("12.3")));
    assert_eq!(decimal(&json!(1e-7)), Some(d("0.0000001")));
    assert_eq!(flag(Some(&json!("yes"))), Some(true));
    assert_eq!(flag(Some(&json!("maybe"))), None);
    assert_eq!(flag(None), None);
}
