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
