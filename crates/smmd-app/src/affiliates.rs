//! The affiliate program's use cases (`docs/affiliates.md`): a user's affiliate account and
//! referral code, the referral a sign-up carries (first touch, with the self-referral checks),
//! the addresses log-ins come from, the release of held commissions and the figures of the
//! affiliate page. The rules are `smmd_domain::affiliate`; the money moves in the store.

use std::net::IpAddr;

use smmd_domain::affiliate::calendar::RunKind;
use smmd_domain::affiliate::referral::{self, Affiliate, Refused, SignUp};
use smmd_domain::clock::DAY_MS;
use smmd_domain::UserId;
use smmd_store::{
    AffiliateAccount, AffiliateStats, Commission, NewReferral, StoreError, StoreResult,
};

use crate::error::UseCaseError;
use crate::App;

pub use smmd_domain::affiliate::referral::RECENT_LOGIN_DAYS;
/// Codes drawn before giving up on a unique one (8 characters of 31: collisions are rare).
const CODE_TRIES: usize = 8;

/// The user's affiliate account, made with a fresh random code the first time.
///
/// Errors: the store's.
pub async fn account(app: App<'_>, user: UserId) -> Result<AffiliateAccount, UseCaseError> {
    let mut last = None;
    for _ in 0..CODE_TRIES {
        let mut bytes = [0u8; referral::CODE_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        match app
            .store
            .affiliate_account(user, &referral::code_from(bytes), app.now())
            .await
        {
            Err(StoreError::Conflict("affiliates.code")) => {
                last = Some(StoreError::Conflict("affiliates.code"))
            }
            other => return Ok(other?),
        }
    }
    Err(last
        .unwrap_or(StoreError::Conflict("affiliates.code"))
        .into())
}

/// What a sign-up brings from the referral link.
#[derive(Clone, Debug, Default)]
pub struct SignUpContext<'a> {
    /// The code of the referral cookie or form field, as sent.
    pub code: Option<&'a str>,
    /// The client's address.
    pub ip: Option<IpAddr>,
    /// The browser's device cookie.
    pub device: Option<&'a str>,
}

/// Why a sign-up's code made no referral (the account is still created).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// No affiliate has this code.
    UnknownCode,
    /// The code is the new account's own (the same mailbox as the affiliate's).
    OwnCode,
    /// The program is off.
    ProgramOff,
}

impl Ignored {
    /// What the person is told.
    pub fn message(self) -> &'static str {
        match self {
            Ignored::UnknownCode => {
                "The referral code was not found, so no one is credited for this sign-up."
            }
            Ignored::OwnCode => "You cannot refer yourself: the referral code was not used.",
            Ignored::ProgramOff => "The referral program is closed, so the code was not used.",
        }
    }
}

/// The referral a sign-up by `email` with `ctx` makes: `None` without a code, or with the
/// reason the code was ignored. Flags from the self-referral checks (same network as one of
/// the affiliate's log-ins in the last [`RECENT_LOGIN_DAYS`], same device, a burst of sign-ups
/// from one address in a day) make a flagged referral, whose commissions wait for review.
///
/// Errors: the store's.
pub async fn referral_for_signup(
    app: App<'_>,
    email: &str,
    ctx: &SignUpContext<'_>,
) -> StoreResult<Result<Option<NewReferral>, Ignored>> {
    let Some(text) = ctx.code.filter(|c| !c.trim().is_empty()) else {
        return Ok(Ok(None));
    };
    if !app.store.affiliate_settings().await?.enabled {
        return Ok(Err(Ignored::ProgramOff));
    }
    let Some(code) = referral::parse_code(text) else {
        return Ok(Err(Ignored::UnknownCode));
    };
    let Some(aff) = app.store.affiliate_by_code(&code).await? else {
        return Ok(Err(Ignored::UnknownCode));
    };
    let Some(owner) = app.store.user(aff.user_id).await? else {
        return Ok(Err(Ignored::UnknownCode));
    };
    let now = app.now();
    let recent: Vec<IpAddr> = app
        .store
        .login_addresses(aff.user_id, now - RECENT_LOGIN_DAYS * DAY_MS)
        .await?
        .iter()
        .filter_map(|ip| ip.parse().ok())
        .collect();
    let devices = app
        .store
        .login_devices(aff.user_id, now - RECENT_LOGIN_DAYS * DAY_MS)
        .await?;
    let ip = ctx.ip.filter(|ip| !ip.is_unspecified());
    let from_ip = match ip {
        Some(ip) => {
            app.store
                .referrals_from_address(aff.user_id, &ip.to_string(), now - DAY_MS)
                .await?
        }
        None => 0,
    };
    let verdict = referral::assess(
        &Affiliate {
            email: &owner.email,
            recent_ips: &recent,
            recent_devices: &devices,
        },
        &SignUp {
            email,
            ip,
            device: ctx.device,
            recent_from_ip: from_ip,
        },
    );
    Ok(match verdict {
        Err(Refused::SelfReferral) => Err(Ignored::OwnCode),
        Ok(flags) => Ok(Some(NewReferral {
            affiliate_id: aff.user_id,
            flags,
            ip: ip.map(|i| i.to_string()),
        })),
    })
}

/// Notes a log-in from `ip` with the browser's device cookie `device` (the same-network and
/// same-device checks read these); an unspecified address (no peer known) is not recorded.
pub async fn record_login(
    app: App<'_>,
    user: UserId,
    ip: Option<IpAddr>,
    device: Option<&str>,
) -> StoreResult<()> {
    let ip = ip
        .filter(|ip| !ip.is_unspecified())
        .map(|ip| ip.to_string());
    if ip.is_none() && device.is_none() {
        return Ok(());
    }
    app.store
        .record_login(user, ip.as_deref(), device, app.now())
        .await
}

/// The affiliate page: the account, its figures, the latest commissions and the next payout.
#[derive(Clone, Debug)]
pub struct Overview {
    pub account: AffiliateAccount,
    pub stats: AffiliateStats,
    pub commissions: Vec<Commission>,
    /// The next payout run this affiliate can be paid by, and when (epoch ms).
    pub next_payout: (RunKind, i64),
    pub rate_bp: i64,
    pub hold_days: i64,
    pub attribution_days: i64,
    /// The smallest balance a run pays.
    pub min_payout: smmd_domain::Money,
    /// Days a newly approved method waits, and between two method changes.
    pub cool_down_days: i64,
    /// Whether the next run would pay, and what blocks it.
    pub eligibility: crate::payouts::Eligibility,
    /// The payout methods, newest first (details masked when shown).
    pub methods: Vec<smmd_store::PayoutMethod>,
    /// Payout history, newest first.
    pub payouts: Vec<smmd_store::Payout>,
}

/// Everything the affiliate page shows, newest 50 commissions.
///
/// Errors: the store's.
pub async fn overview(app: App<'_>, user: UserId) -> Result<Overview, UseCaseError> {
    let account = account(app, user).await?;
    let settings = app.store.affiliate_settings().await?;
    let stats = app.store.affiliate_stats(user).await?;
    let commissions = app.store.commissions_of(user, None, 50).await?;
    let eligibility = crate::payouts::eligibility_now(app, user)
        .await?
        .ok_or(StoreError::NotFound)?;
    let next_payout = (eligibility.kind, eligibility.at);
    let methods = app.store.payout_methods_of(user).await?;
    let payouts = crate::payouts::my_payouts(app, user).await?;
    Ok(Overview {
        account,
        stats,
        commissions,
        next_payout,
        rate_bp: settings.rate_bp,
        hold_days: settings.hold_days,
        attribution_days: settings.attribution_days,
        min_payout: settings.min_payout,
        cool_down_days: settings.cool_down_days,
        eligibility,
        methods,
        payouts,
    })
}
