//! The money-facing sections of the configuration: `[payments]` (how customers add funds) and
//! `[currencies]` (display currencies' exchange-rate feed). Validated with the rest in
//! [`super::Config::validate`].

use serde::{Deserialize, Serialize};

/// Adding funds (`[payments]`): manual payment requests that an admin approves.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentsConfig {
    /// The ways customers can pay, offered on the Add funds page.
    pub methods: Vec<String>,
    /// Shown on the Add funds page: where to send the money and what reference to give.
    pub instructions: String,
    /// Smallest request (panel currency, decimal).
    pub min_amount: String,
    /// Largest request (panel currency, decimal).
    pub max_amount: String,
    /// Shows an instant "test top-up" button that credits funds without a payment. `smmd demo`
    /// turns it on; never turn it on for real customers.
    pub test_top_up: bool,
}

impl PaymentsConfig {
    /// The limits as the payment use cases take them.
    pub fn terms(&self) -> smmd_app::wallet::PaymentTerms<'_> {
        smmd_app::wallet::PaymentTerms {
            min_amount: &self.min_amount,
            max_amount: &self.max_amount,
            methods: &self.methods,
        }
    }
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            methods: vec!["Bank transfer".into(), "USDT (TRC-20)".into()],
            instructions: "Send the amount, then tell us how you paid and your payment reference. \
                           Funds are added when an admin confirms the payment."
                .into(),
            min_amount: "1.00".into(),
            max_amount: "10000.00".into(),
            test_top_up: false,
        }
    }
}

/// Display currencies (`[currencies]`): where the `rates.ecb` job reads reference rates and how
/// far a day may move one. Money is never converted: customers only *see* `≈` amounts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct CurrenciesConfig {
    /// The ECB daily feed (`eurofxref-daily.xml` format); empty = no feed (rates pinned by
    /// hand only).
    pub feed_url: String,
    /// The largest accepted move from the feed's last rate, in basis points (1000 = 10 %);
    /// a bigger one is held and alerts.
    pub max_jump_bp: i64,
    /// How long the feed may take to answer (seconds).
    pub timeout_seconds: u64,
}

impl Default for CurrenciesConfig {
    fn default() -> Self {
        CurrenciesConfig {
            feed_url: smmd_jobs::rates::ECB_DAILY_URL.into(),
            max_jump_bp: 1_000,
            timeout_seconds: 20,
        }
    }
}

impl CurrenciesConfig {
    /// What the `rates.ecb` job runs with.
    pub fn settings(&self) -> smmd_jobs::rates::RatesSettings {
        smmd_jobs::rates::RatesSettings {
            feed_url: self.feed_url.trim().to_string(),
            max_jump_bp: self.max_jump_bp,
            timeout: std::time::Duration::from_secs(self.timeout_seconds.clamp(1, 300)),
        }
    }
}
