//! The affiliate program through the pages: the referral link sets its cookie once and counts
//! the click; a sign-up with the cookie makes the referral (flagged when the visitor comes
//! from the network the affiliate logs in from); a code of the visitor's own mailbox is
//! ignored with a message; a referred customer's order earns a commission that the Affiliate
//! page shows.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use smmd_domain::{Clock, Money, UserId};
use smmd_store::{ReferralStatus, Role};

use crate::helpers::TestApp;
use crate::smm::account;

fn app_of(app: &TestApp) -> smmd_app::App<'_> {
    smmd_app::App::new(app.store.as_ref(), &app.clock as &dyn Clock)
}

/// Signs up `email` with `cookie` (the referral cookie or none): the new user, where the form
/// sent the browser and the cookies it set.
async fn sign_up(app: &TestApp, email: &str, cookie: &str) -> (UserId, String, Vec<String>) {
    let resp = app
        .client
        .post(app.url("/signup"))
        .header(COOKIE, cookie)
        .form(&[("email", email), ("password", "password123")])
        .send()
        .await
        .expect("sign up");
    assert_eq!(resp.status(), 303, "{email}");
    let location = resp.headers()[LOCATION].to_str().expect("l").to_string();
    let set: Vec<String> = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let user = app
        .store
        .user_credentials(email)
        .await
        .expect("read")
        .expect("signed up")
        .user;
    (user.id, location, set)
}

pub async fn a_referral_link_signs_up_customers_whose_orders_pay_the_affiliate(app: TestApp) {
    let aff = account(&app, "a.b@gmail.com", Role::User, "0").await;
    let code = smmd_app::affiliates::account(app_of(&app), aff.id)
        .await
        .expect("account")
        .code;
    // The link, typed in lower case: on to sign-up with the cookie, the click counted.
    let visit = app
        .client
        .get(app.url(&format!("/?ref={}", code.to_lowercase())))
        .send()
        .await
        .expect("visit");
    assert_eq!(visit.status(), 303);
    assert_eq!(visit.headers()[LOCATION], "/signup");
    let set = visit.headers()[SET_COOKIE].to_str().expect("c").to_string();
    assert!(
        set.starts_with(&format!("smmd_ref={code};")) && set.contains("Max-Age=2592000"),
        "{set}"
    );
    let ref_cookie = format!("smmd_ref={code}");
    // First touch: with the cookie already set, another link changes nothing and counts nothing.
    let again = app
        .client
        .get(app.url("/?ref=ZZZZZZZZ"))
        .header(COOKIE, &ref_cookie)
        .send()
        .await
        .expect("again");
    assert!(again.headers().get(SET_COOKIE).is_none());
    let unknown = app
        .client
        .get(app.url("/?ref=ZZZZZZZZ"))
        .send()
        .await
        .expect("unknown");
    assert!(
        unknown.headers().get(SET_COOKIE).is_none(),
        "unknown codes set nothing"
    );
    let clicks = app
        .store
        .affiliate_by_code(&code)
        .await
        .expect("r")
        .expect("a")
        .clicks;
    assert_eq!(clicks, 1);
    let (status, page) = crate::pages::get(&app, "/signup", &ref_cookie).await;
    assert!(
        status == 200 && page.contains(&code),
        "the form says who invited"
    );

    // A clean referral: the affiliate has not logged in from this network.
    let (carol, _, set) = sign_up(&app, "carol@x.io", &ref_cookie).await;
    assert!(set.iter().any(|c| c.starts_with("smmd_ref=;")), "{set:?}");
    let r = app
        .store
        .referral(carol)
        .await
        .expect("r")
        .expect("referral");
    assert_eq!((r.affiliate_id, r.status), (aff.id, ReferralStatus::Clean));
    // The affiliate's own mailbox under another spelling: an account, but no referral.
    let (own, location, _) = sign_up(&app, "ab+second@googlemail.com", &ref_cookie).await;
    assert!(location.contains("refer+yourself"), "{location}");
    assert_eq!(app.store.referral(own).await.expect("r"), None);
    // Once the affiliate logs in from this network, a sign-up from it is flagged.
    let (aff_cookie, _) = app.session("a.b@gmail.com").await;
    let login = app
        .client
        .post(app.url("/login"))
        .form(&[("email", "a.b@gmail.com"), ("password", "password123")])
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 303);
    let (dave, _, _) = sign_up(&app, "dave@x.io", &ref_cookie).await;
    let r = app
        .store
        .referral(dave)
        .await
        .expect("r")
        .expect("referral");
    assert_eq!(
        (r.status, r.flags.clone()),
        (ReferralStatus::Flagged, vec!["same_network".to_string()])
    );

    // Carol orders 1,000 at 1.00: the affiliate's commission is 5 %, pending while it runs.
    let ids = crate::smm::catalog(&app).await;
    app.credit(carol, Money::parse("10").expect("m"), "seed:carol")
        .await;
    let key = smmd_app::accounts::rotate_api_key(app_of(&app), carol)
        .await
        .expect("key");
    let placed = app
        .v2(&format!(
            "key={key}&action=add&service={}&link=https%3A%2F%2Finstagram.com%2Fp%2Fcarol&quantity=1000",
            ids[0]
        ))
        .await;
    let order = placed.json["order"].as_i64().expect("order");
    let c = app
        .store
        .commission_of_order(smmd_domain::OrderId(order))
        .await
        .expect("r")
        .expect("commission");
    assert_eq!(
        (c.affiliate_id, c.amount.to_string()),
        (aff.id, "0.05".to_string())
    );
    let (status, page) = crate::pages::get(&app, "/affiliate", &aff_cookie).await;
    assert_eq!(status, 200);
    for want in [
        format!("/?ref={code}"),
        format!("#{order}"),
        "Order running".to_string(),
        "0.05".to_string(),
    ] {
        assert!(page.contains(&want), "{want} missing from the page");
    }
    assert!(
        page.contains(r#"id="aff-signups">2<"#),
        "two sign-ups made referrals"
    );
    assert!(page.contains(r#"id="aff-paying">1<"#), "one paying");
    app.assert_ledger_consistent().await;
}

/// The `Set-Cookie` value for `name` among `set`, if the response set it.
fn set_value<'a>(set: &'a [String], name: &str) -> Option<&'a str> {
    set.iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
}

/// The device cookie (docs/affiliates.md, self-referral): a log-in or sign-up without one gets a
/// random one (a malformed one is replaced, a good one kept), each log-in notes it, and a
/// sign-up with the affiliate's code from a browser the affiliate logged in with is flagged
/// `same_device` even from another network; another browser there makes a clean referral.
pub async fn a_sign_up_from_the_affiliate_s_browser_is_flagged_same_device(app: TestApp) {
    // Client addresses come from X-Forwarded-For so the visitor is on another network.
    let Some(app) =
        crate::helpers::spawn_app_with(app.backend(), |c| c.server.trust_forwarded_for = true)
            .await
    else {
        return;
    };
    let aff = account(&app, "aff@x.io", Role::User, "0").await;
    let code = smmd_app::affiliates::account(app_of(&app), aff.id)
        .await
        .expect("account")
        .code;
    let login = |cookie: String| {
        app.client
            .post(app.url("/login"))
            .header(COOKIE, cookie)
            .form(&[("email", "aff@x.io"), ("password", "password123")])
            .send()
    };
    let set_of = |resp: &reqwest::Response| -> Vec<String> {
        resp.headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    };
    let first = login("smmd_dev=../../etc".to_string())
        .await
        .expect("login");
    assert_eq!(first.status(), 303);
    let set = set_of(&first);
    let device = set_value(&set, "smmd_dev")
        .expect("a device cookie")
        .to_string();
    assert!(
        device.len() == 32 && device.bytes().all(|b| b.is_ascii_hexdigit()),
        "{device}"
    );
    let again = login(format!("smmd_dev={device}")).await.expect("login");
    assert_eq!(
        set_value(&set_of(&again), "smmd_dev"),
        None,
        "a good cookie is kept"
    );
    let since = app.clock.now_ms() - smmd_app::affiliates::RECENT_LOGIN_DAYS * 86_400_000;
    assert_eq!(
        app.store
            .login_devices(aff.id, since)
            .await
            .expect("devices"),
        vec![device.clone()]
    );

    let visit = |email: &'static str, cookie: String, from: &'static str| {
        app.client
            .post(app.url("/signup"))
            .header(COOKIE, cookie)
            .header("x-forwarded-for", from)
            .form(&[("email", email), ("password", "password123")])
            .send()
    };
    let shared = visit(
        "erin@x.io",
        format!("smmd_ref={code}; smmd_dev={device}"),
        "203.0.113.9",
    )
    .await
    .expect("sign up");
    assert_eq!(shared.status(), 303);
    let other = visit("fay@x.io", format!("smmd_ref={code}"), "198.51.100.9")
        .await
        .expect("sign up");
    let fay_device = set_value(&set_of(&other), "smmd_dev")
        .expect("a new browser gets a device cookie")
        .to_string();
    assert_ne!(fay_device, device);
    for (email, want) in [
        (
            "erin@x.io",
            (ReferralStatus::Flagged, vec!["same_device".to_string()]),
        ),
        ("fay@x.io", (ReferralStatus::Clean, vec![])),
    ] {
        let user = app
            .store
            .user_credentials(email)
            .await
            .expect("read")
            .expect("signed up")
            .user;
        let r = app
            .store
            .referral(user.id)
            .await
            .expect("r")
            .expect("referral");
        assert_eq!(
            (r.affiliate_id, r.status, r.flags),
            (aff.id, want.0, want.1),
            "{email}"
        );
    }
    // The admins were alerted of erin's flag (event `referral.flagged`), not of fay.
    let erin = app
        .store
        .user_credentials("erin@x.io")
        .await
        .expect("read")
        .expect("erin")
        .user;
    let flagged: Vec<String> = app
        .store
        .open_alerts()
        .await
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == "referral_flagged")
        .map(|a| a.subject)
        .collect();
    assert_eq!(flagged, [smmd_domain::alert::referral_subject(erin.id)]);
    // The sign-up is the new account's first log-in: its address and device are noted.
    let fay = app
        .store
        .user_credentials("fay@x.io")
        .await
        .expect("read")
        .expect("fay")
        .user;
    assert_eq!(
        app.store.login_devices(fay.id, since).await.expect("d"),
        vec![fay_device]
    );
    assert_eq!(
        app.store.login_addresses(fay.id, since).await.expect("a"),
        vec!["198.51.100.9".to_string()]
    );
}
