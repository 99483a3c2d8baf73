//! What a simulated provider looks like: its catalog, how each service delivers, and which
//! faults it injects. Read from TOML (`smmd-sim --config FILE`) or built in code; every share is
//! a whole percentage (0–100) so runs are exact and repeatable with the same `seed`.

use serde::{Deserialize, Serialize};

/// The whole simulated provider.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Seeds every random choice (outcomes, drops, faults): same seed and same requests, same run.
    pub seed: u64,
    /// Time acceleration: simulated seconds per real second (1 = real time, 60 = an hour a minute).
    pub speedup: u32,
    /// The API key callers must send.
    pub api_key: String,
    /// Account currency (ISO code).
    pub currency: String,
    /// Starting account balance, a decimal string in `currency`; orders debit it.
    pub balance: String,
    /// Response latency, uniformly drawn in `latency_min_ms..=latency_max_ms` (real ms).
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
    pub faults: Faults,
    pub services: Vec<ServiceSpec>,
}

/// Injected faults, each a share of requests (percent). Faults marked *after* execute the
/// request and then lose the answer (the order exists upstream: the ambiguous case); *before*
/// faults refuse the request without executing it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// *After*: executes, then answers only after `timeout_ms` (longer than the caller waits).
    pub timeout_pct: u32,
    pub timeout_ms: u64,
    /// *After*: executes, then answers HTTP 502 with an HTML body.
    pub http_5xx_pct: u32,
    /// *After*: executes, then answers a truncated JSON body.
    pub malformed_pct: u32,
    /// *Before*: a Cloudflare-style "Just a moment…" HTML page with HTTP 503.
    pub html_pct: u32,
    /// *Before*: HTTP 429 with `{"error":"Too many requests"}`.
    pub http_429_pct: u32,
    /// Success answers in a quirky but valid dialect (spec §6): numbers as JSON numbers instead of
    /// strings, ids as strings, `In Progress` / `Cancelled`, `{"status":"success","order":…}`.
    pub quirks_pct: u32,
    /// Unknown ids in multi-status as a bare string (`"7": "Incorrect order ID"`).
    pub bare_error_pct: u32,
    /// Errors as `{"status":"error","message":…}` instead of `{"error":…}`.
    pub envelope_pct: u32,
}

/// One service of the catalog and how its orders behave.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSpec {
    pub id: i64,
    pub name: String,
    /// API v2 type (`Default`, `Package`, `Custom Comments`, …).
    #[serde(rename = "type")]
    pub service_type: String,
    pub category: String,
    /// Price per 1000 (per package for package types), decimal string, account currency.
    pub rate: String,
    pub min: i64,
    pub max: i64,
    pub refill: bool,
    pub cancel: bool,
    pub dripfeed: bool,
    /// Simulated seconds between `add` and the start of delivery.
    pub start_delay_s: u64,
    /// Units delivered per simulated minute.
    pub speed_per_min: u64,
    /// Share of orders that stop early and end `Partial`.
    pub partial_pct: u32,
    /// Share of orders that end `Canceled` at their start without delivering.
    pub canceled_pct: u32,
    /// Share of orders that get stuck: delivery stops for good somewhere between 0 % and 90 %
    /// of the total and the order stays `Pending` / `In progress` until it is canceled.
    pub stuck_pct: u32,
    /// Share of orders that deliver slowly, at `slow_speed_pct` % of `speed_per_min`; they still
    /// complete.
    pub slow_pct: u32,
    pub slow_speed_pct: u32,
    /// Share of cancel requests honoured (the rest are refused).
    pub cancel_honoured_pct: u32,
    /// Share of delivered units that disappear after completion.
    pub drop_pct: u32,
    /// Simulated seconds over which the drop happens after completion.
    pub drop_after_s: u64,
    /// Share of refills that end `Rejected`.
    pub refill_rejected_pct: u32,
    /// Simulated seconds from a refill request to its outcome.
    pub refill_delay_s: u64,
}

impl Default for ServiceSpec {
    fn default() -> ServiceSpec {
        ServiceSpec {
            id: 0,
            name: String::new(),
            service_type: "Default".into(),
            category: "Default".into(),
            rate: "1.00".into(),
            min: 10,
            max: 100_000,
            refill: false,
            cancel: true,
            dripfeed: false,
            start_delay_s: 60,
            speed_per_min: 100,
            partial_pct: 0,
            canceled_pct: 0,
            stuck_pct: 0,
            slow_pct: 0,
            slow_speed_pct: 50,
            cancel_honoured_pct: 100,
            drop_pct: 0,
            drop_after_s: 86_400,
            refill_rejected_pct: 0,
            refill_delay_s: 600,
        }
    }
}

impl Default for SimConfig {
    /// A small realistic catalog in real time, no faults.
    fn default() -> SimConfig {
        let svc =
            |id: i64, name: &str, ty: &str, category: &str, rate: &str, min: i64, max: i64| {
                ServiceSpec {
                    id,
                    name: name.into(),
                    service_type: ty.into(),
                    category: category.into(),
                    rate: rate.into(),
                    min,
                    max,
                    ..ServiceSpec::default()
                }
            };
        let mut followers = svc(
            1,
            "Instagram Followers [Real, 30 days refill]",
            "Default",
            "Instagram Followers",
            "0.60",
            50,
            10_000,
        );
        followers.refill = true;
        followers.dripfeed = true;
        followers.speed_per_min = 200;
        followers.partial_pct = 10;
        followers.canceled_pct = 5;
        followers.drop_pct = 10;
        followers.drop_after_s = 3_600;
        followers.refill_rejected_pct = 10;
        let mut likes = svc(
            2,
            "Instagram Likes [Fast]",
            "Default",
            "Instagram Likes",
            "0.20",
            20,
            50_000,
        );
        likes.dripfeed = true;
        likes.speed_per_min = 1_000;
        likes.start_delay_s = 20;
        likes.partial_pct = 10;
        likes.canceled_pct = 10;
        let mut comments = svc(
            3,
            "Instagram Custom Comments",
            "Custom Comments",
            "Instagram Comments",
            "5.00",
            1,
            1_500,
        );
        comments.speed_per_min = 10;
        comments.cancel = false;
        let mut views = svc(
            4,
            "YouTube Views [Non-drop, 60 days refill]",
            "Default",
            "YouTube",
            "0.80",
            100,
            1_000_000,
        );
        views.refill = true;
        views.speed_per_min = 2_000;
        views.drop_pct = 2;
        let package = svc(
            5,
            "YouTube Channel Starter Package",
            "Package",
            "YouTube",
            "3.00",
            1,
            1,
        );
        let poll = svc(
            6,
            "Telegram Poll Votes",
            "Poll",
            "Telegram",
            "0.70",
            10,
            10_000,
        );
        let mut auto_likes = svc(
            7,
            "Instagram Auto Likes (Subscription)",
            "Subscriptions",
            "Instagram Likes",
            "0.25",
            100,
            1_000,
        );
        auto_likes.cancel = false;
        let mut traffic = svc(
            8,
            "Website Traffic [Worldwide]",
            "Web Traffic",
            "Website Traffic",
            "0.30",
            100,
            100_000,
        );
        traffic.dripfeed = true;
        traffic.speed_per_min = 500;
        SimConfig {
            seed: 42,
            speedup: 1,
            api_key: "sim-key".into(),
            currency: "USD".into(),
            balance: "10000.00".into(),
            latency_min_ms: 0,
            latency_max_ms: 0,
            faults: Faults::default(),
            services: vec![
                followers, likes, comments, views, package, poll, auto_likes, traffic,
            ],
        }
    }
}

impl SimConfig {
    /// Reads a TOML document; missing keys take the defaults above.
    pub fn from_toml(text: &str) -> anyhow::Result<SimConfig> {
        let c: SimConfig = toml::from_str(text)?;
        c.validate()?;
        Ok(c)
    }

    /// The configuration as TOML (for `smmd-sim --print-config`).
    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string_pretty(self)?)
    }

    /// Refuses shares above 100, inverted ranges, bad amounts and duplicate service ids.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.speedup >= 1, "speedup must be at least 1");
        anyhow::ensure!(
            self.latency_min_ms <= self.latency_max_ms,
            "latency_min_ms must not exceed latency_max_ms"
        );
        smmd_domain::Money::parse(&self.balance)
            .map_err(|e| anyhow::anyhow!("balance {:?}: {e}", self.balance))?;
        let f = &self.faults;
        let total = f.timeout_pct + f.http_5xx_pct + f.malformed_pct + f.html_pct + f.http_429_pct;
        anyhow::ensure!(total <= 100, "fault shares add up to {total} %, over 100 %");
        for p in [f.quirks_pct, f.bare_error_pct, f.envelope_pct] {
            anyhow::ensure!(p <= 100, "a share is over 100 %");
        }
        let mut ids = std::collections::HashSet::new();
        for s in &self.services {
            anyhow::ensure!(ids.insert(s.id), "service id {} appears twice", s.id);
            anyhow::ensure!(
                smmd_domain::service::ServiceType::parse(&s.service_type).is_some(),
                "service {}: unknown type {:?}",
                s.id,
                s.service_type
            );
            smmd_domain::Money::parse(&s.rate)
                .map_err(|e| anyhow::anyhow!("service {} rate {:?}: {e}", s.id, s.rate))?;
            anyhow::ensure!(0 <= s.min && s.min <= s.max, "service {}: min > max", s.id);
            anyhow::ensure!(
                s.partial_pct + s.canceled_pct + s.stuck_pct <= 100,
                "service {}: partial + canceled + stuck over 100 %",
                s.id
            );
            for p in [
                s.cancel_honoured_pct,
                s.drop_pct,
                s.refill_rejected_pct,
                s.slow_pct,
                s.slow_speed_pct,
            ] {
                anyhow::ensure!(p <= 100, "service {}: a share is over 100 %", s.id);
            }
            anyhow::ensure!(
                s.slow_speed_pct > 0,
                "service {}: slow_speed_pct must be > 0",
                s.id
            );
            anyhow::ensure!(
                s.speed_per_min > 0,
                "service {}: speed_per_min must be > 0",
                s.id
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_round_trips_through_toml() {
        let c = SimConfig::default();
        let back = SimConfig::from_toml(&c.to_toml().expect("toml")).expect("parse");
        assert_eq!(back.services.len(), c.services.len());
        assert_eq!(back.services[0].rate, c.services[0].rate);
    }

    #[test]
    fn bad_configurations_are_refused_with_a_reason() {
        for (toml, why) in [
            ("speedup = 0", "speedup"),
            ("balance = \"lots\"", "balance"),
            ("[faults]\ntimeout_pct = 60\nhtml_pct = 60", "over 100"),
            ("latency_min_ms = 10\nlatency_max_ms = 5", "latency"),
            ("[[services]]\nid = 1\ntype = \"Teleport\"", "unknown type"),
            ("[[services]]\nid = 1\n[[services]]\nid = 1", "twice"),
            ("[[services]]\nid = 1\nmin = 10\nmax = 5", "min > max"),
            ("[[services]]\nid = 1\nspeed_per_min = 0", "speed_per_min"),
            ("colour = \"blue\"", "unknown field"),
        ] {
            let err = SimConfig::from_toml(toml).expect_err(toml).to_string();
            assert!(err.contains(why), "{toml}: {err}");
        }
    }
}
