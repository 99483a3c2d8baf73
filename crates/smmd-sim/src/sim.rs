//! The simulated provider's books: its orders and refills, and how each one looks at a given
//! simulated time. Delivery is computed, not stepped: an order's state at time `t` follows from
//! when it was placed, its service's start delay and speed, the outcome drawn for it from the
//! seed, and any cancel request — so reading it never needs a background task and a run with the
//! same seed and the same requests is the same run.
//!
//! Simulated time is `t0 + (clock − t0) × speedup`, from the injected [`Clock`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use smmd_domain::service::{validate_order, OrderInput, ServiceRules, ServiceType};
use smmd_domain::{Clock, Money};

use crate::config::{Faults, ServiceSpec, SimConfig};

/// A small, fast, well-mixed hash of two numbers (SplitMix64 finaliser): the source of every
/// per-order and per-request random choice.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A percentage roll: true in `pct` of 100 cases, decided by `h`.
pub fn roll(h: u64, pct: u32) -> bool {
    (h % 100) < u64::from(pct)
}

fn text_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// How an order will end, drawn at placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Complete,
    /// Stops after delivering this many units.
    Partial(i64),
    /// Canceled at its start without delivering.
    Cancel,
    /// Delivers this many units, then nothing more, ever (until canceled).
    Stuck(i64),
}

#[derive(Clone, Debug)]
struct SimOrder {
    spec: Arc<ServiceSpec>,
    link: String,
    total: i64,
    runs: i64,
    /// Simulated ms between drip-feed runs.
    interval_ms: i64,
    created: i64,
    charge: Money,
    start_count: i64,
    outcome: Outcome,
    /// When an honoured cancel takes effect (simulated ms).
    cancel_at: Option<i64>,
    /// Delivery speed, units per simulated minute (the service's, or its slow share).
    speed_per_min: i64,
}

#[derive(Clone, Debug)]
struct SimRefill {
    order: i64,
    created: i64,
    rejected: bool,
}

/// The upstream state of an order at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderView {
    /// Canonical wire status (`Pending`, `In progress`, `Completed`, `Partial`, `Canceled`).
    pub status: &'static str,
    pub charge: Money,
    pub start_count: i64,
    pub remains: i64,
    /// Units delivered so far.
    pub delivered: i64,
}

/// Counters of what callers sent, for tests and benchmarks (`GET /_sim/stats`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Requests per action (`add`, `status`, …; `invalid` for unknown actions or bad keys).
    pub calls: BTreeMap<String, u64>,
    /// Order ids asked for in `status` calls, summed.
    pub status_ids: u64,
    /// The most ids one `status` call asked for.
    pub max_status_ids: u64,
    /// Orders created by `add`.
    pub orders_created: u64,
    /// `add` calls for a link that already had an order here (a resend, for smmd's tests).
    pub duplicate_links: u64,
    /// Injected faults by kind.
    pub faults: BTreeMap<String, u64>,
    pub refills_created: u64,
    pub cancels_accepted: u64,
}

/// Why an action failed; `Display` is the PerfectPanel text (spec §6.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimError(pub String);

struct State {
    orders: Vec<SimOrder>,
    refills: Vec<SimRefill>,
    links: HashMap<String, u32>,
    spent: Money,
    stats: Stats,
}

/// One simulated provider. Shared as `Arc<Sim>` by its HTTP server and by tests.
pub struct Sim {
    pub config: SimConfig,
    clock: Arc<dyn Clock>,
    t0: i64,
    /// Funds put on the account (the configured balance, then what [`Sim::set_funds`] sets).
    balance: Mutex<Money>,
    /// The faults injected now (the configured ones, then what [`Sim::set_faults`] sets).
    faults: RwLock<Faults>,
    catalog: RwLock<Vec<(Arc<ServiceSpec>, ServiceRules)>>,
    state: Mutex<State>,
}

fn rules_of(s: &ServiceSpec) -> anyhow::Result<ServiceRules> {
    Ok(ServiceRules {
        service_type: ServiceType::parse(&s.service_type)
            .ok_or_else(|| anyhow::anyhow!("type {}", s.service_type))?,
        rate: Money::parse(&s.rate)?,
        min: s.min,
        max: s.max,
        dripfeed: s.dripfeed,
        // The simulator takes any link a panel forwards.
        platform: "other",
    })
}

/// An order whose link contains this gets stuck: it never starts, whatever the service's
/// shares, until it is canceled (a hook for tests and demos of the stuck-order ladder).
pub const STUCK_MARK: &str = "sim-stuck";

/// An `add` whose link contains this is refused with "Not enough funds on balance", as an
/// account run dry answers (a hook for tests and demos of offer failover).
pub const NO_FUNDS_MARK: &str = "sim-no-funds";

/// First order id handed out (so provider ids never look like smmd's own).
pub const FIRST_ORDER_ID: i64 = 100_001;

impl Sim {
    /// A fresh provider. Errors: an invalid configuration.
    pub fn new(config: SimConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Sim> {
        config.validate()?;
        let catalog = config
            .services
            .iter()
            .map(|s| Ok((Arc::new(s.clone()), rules_of(s)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Sim {
            balance: Mutex::new(Money::parse(&config.balance)?),
            faults: RwLock::new(config.faults.clone()),
            t0: clock.now_ms(),
            clock,
            catalog: RwLock::new(catalog),
            config,
            state: Mutex::new(State {
                orders: Vec::new(),
                refills: Vec::new(),
                links: HashMap::new(),
                spent: Money::ZERO,
                stats: Stats::default(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Simulated now (ms).
    pub fn now(&self) -> i64 {
        let real = self.clock.now_ms() - self.t0;
        self.t0 + real.saturating_mul(i64::from(self.config.speedup))
    }

    /// Counts one request of `action`.
    pub fn count_call(&self, action: &str) {
        *self
            .lock()
            .stats
            .calls
            .entry(action.to_string())
            .or_default() += 1;
    }

    /// Counts one injected fault.
    pub fn count_fault(&self, kind: &str) {
        *self
            .lock()
            .stats
            .faults
            .entry(kind.to_string())
            .or_default() += 1;
    }

    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// The catalog now (API v2 `services`).
    pub fn catalog(&self) -> Vec<Arc<ServiceSpec>> {
        let c = self.catalog.read().unwrap_or_else(|p| p.into_inner());
        c.iter().map(|(s, _)| s.clone()).collect()
    }

    /// Replaces the catalog, as a provider changing its services and prices does. Orders
    /// already placed keep the terms they were placed with. Errors: an invalid service.
    pub fn set_catalog(&self, services: Vec<ServiceSpec>) -> anyhow::Result<()> {
        let mut probe = self.config.clone();
        probe.services = services.clone();
        probe.validate()?;
        let next = services
            .into_iter()
            .map(|s| Ok((rules_of(&s)?, Arc::new(s))))
            .map(|r: anyhow::Result<_>| r.map(|(r, s)| (s, r)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = next;
        Ok(())
    }

    /// The catalog entry with API id `id` and its order rules.
    fn service(&self, id: i64) -> Option<(Arc<ServiceSpec>, ServiceRules)> {
        let c = self.catalog.read().unwrap_or_else(|p| p.into_inner());
        c.iter().find(|(s, _)| s.id == id).cloned()
    }

    /// API v2 `add`: validates like a panel (type parameters, min/max, drip-feed), debits the
    /// balance and draws the order's outcome from the seed. Returns the order id.
    pub fn add(&self, service_id: Option<&str>, input: &OrderInput) -> Result<i64, SimError> {
        let (spec, rules) = service_id
            .and_then(|s| s.trim().parse::<i64>().ok())
            .and_then(|id| self.service(id))
            .ok_or_else(|| SimError("Incorrect service ID".into()))?;
        let order = validate_order(&rules, input).map_err(|e| SimError(e.to_string()))?;
        if input
            .link
            .as_deref()
            .is_some_and(|l| l.contains(NO_FUNDS_MARK))
        {
            return Err(SimError("Not enough funds on balance".into()));
        }
        let now = self.now();
        let funds = self.funds_put();
        let mut st = self.lock();
        let spent = st
            .spent
            .checked_add(order.charge)
            .filter(|s| *s <= funds)
            .ok_or_else(|| SimError("Not enough funds on balance".into()))?;
        st.spent = spent;
        Ok(self.push_order(&mut st, &spec, &order, now))
    }

    /// Records one accepted order: draws its outcome from the seed and its id, counts it.
    fn push_order(
        &self,
        st: &mut State,
        spec: &Arc<ServiceSpec>,
        order: &smmd_domain::service::OrderSpec,
        now: i64,
    ) -> i64 {
        let id = FIRST_ORDER_ID + st.orders.len() as i64;
        let h = mix(self.config.seed, id as u64);
        let link = order.link.clone().unwrap_or_default();
        let outcome = if link.contains(STUCK_MARK) {
            Outcome::Stuck(0)
        } else if roll(h, spec.canceled_pct) {
            Outcome::Cancel
        } else if roll(h, spec.canceled_pct + spec.partial_pct) {
            // Stops somewhere between 10 % and 90 % of the total.
            let share = 10 + (h >> 16) % 81;
            Outcome::Partial((order.total_quantity * share as i64 / 100).max(1))
        } else if roll(h, spec.canceled_pct + spec.partial_pct + spec.stuck_pct) {
            // Stops somewhere between 0 % and 90 % of the total.
            let share = (h >> 24) % 91;
            Outcome::Stuck(order.total_quantity * share as i64 / 100)
        } else {
            Outcome::Complete
        };
        let speed = spec.speed_per_min as i64;
        let speed_per_min = if roll(mix(h, 0x5104), spec.slow_pct) {
            (speed * i64::from(spec.slow_speed_pct) / 100).max(1)
        } else {
            speed
        };
        let seen = st.links.entry(link.clone()).or_default();
        *seen += 1;
        if *seen > 1 {
            st.stats.duplicate_links += 1;
        }
        st.stats.orders_created += 1;
        st.orders.push(SimOrder {
            spec: spec.clone(),
            start_count: (text_hash(&link) % 10_000) as i64,
            link,
            total: order.total_quantity,
            runs: order.runs.unwrap_or(1).max(1),
            interval_ms: order.interval.unwrap_or(0) * 60_000,
            created: now,
            charge: order.charge,
            outcome,
            cancel_at: None,
            speed_per_min,
        });
        id
    }

    /// Creates `count` orders of service `service_id` for `quantity` units each at once, as if
    /// `add` had been called with links `https://bulk.sim/<n>`, without debiting the balance:
    /// the upstream side of benchmarks with many active orders. Returns their ids in order.
    /// Errors: an unknown service or an invalid quantity.
    pub fn seed_orders(
        &self,
        service_id: i64,
        count: usize,
        quantity: i64,
    ) -> anyhow::Result<Vec<i64>> {
        let (spec, rules) = self
            .service(service_id)
            .ok_or_else(|| anyhow::anyhow!("no service {service_id}"))?;
        let now = self.now();
        let mut st = self.lock();
        let mut ids = Vec::with_capacity(count);
        for n in 0..count {
            let input = OrderInput {
                link: Some(format!("https://bulk.sim/{service_id}/{n}")),
                quantity: Some(quantity.to_string()),
                ..OrderInput::default()
            };
            let order = validate_order(&rules, &input).map_err(|e| anyhow::anyhow!("{e}"))?;
            ids.push(self.push_order(&mut st, &spec, &order, now));
        }
        Ok(ids)
    }

    fn delivered_at(&self, o: &SimOrder, t: i64) -> i64 {
        let spec = &o.spec;
        let start = o.created + spec.start_delay_s as i64 * 1000;
        let per_run = o.total / o.runs;
        let mut sum = 0;
        for k in 0..o.runs {
            let run_start = start + k * o.interval_ms;
            let want = if k == o.runs - 1 {
                o.total - per_run * (o.runs - 1)
            } else {
                per_run
            };
            if t > run_start {
                let units = (t - run_start).saturating_mul(o.speed_per_min) / 60_000;
                sum += units.min(want);
            }
        }
        sum
    }

    /// The order's state at simulated time `t`.
    fn view_at(&self, o: &SimOrder, t: i64) -> OrderView {
        let spec = &o.spec;
        let start = o.created + spec.start_delay_s as i64 * 1000;
        let cap = match o.outcome {
            Outcome::Partial(n) | Outcome::Stuck(n) => n,
            _ => o.total,
        };
        let mut until = t;
        if let Some(c) = o.cancel_at {
            until = until.min(c);
        }
        let delivered = self.delivered_at(o, until).min(cap);
        let partial_charge = |delivered: i64| {
            o.charge
                .prorate_down(delivered, o.total.max(1))
                .unwrap_or(Money::ZERO)
        };
        let (status, charge, remains) = if o.outcome == Outcome::Cancel && t >= start {
            ("Canceled", Money::ZERO, o.total)
        } else if delivered >= o.total {
            ("Completed", o.charge, 0)
        } else if o.cancel_at.is_some_and(|c| t >= c) {
            if delivered == 0 {
                ("Canceled", Money::ZERO, o.total)
            } else {
                ("Partial", partial_charge(delivered), o.total - delivered)
            }
        } else if delivered >= cap && !matches!(o.outcome, Outcome::Stuck(_)) {
            ("Partial", partial_charge(delivered), o.total - delivered)
        } else if t < start || (delivered == 0 && matches!(o.outcome, Outcome::Stuck(_))) {
            ("Pending", o.charge, o.total)
        } else {
            ("In progress", o.charge, o.total - delivered)
        };
        OrderView {
            status,
            charge,
            start_count: o.start_count,
            remains,
            delivered,
        }
    }

    /// API v2 `status` for one order: `None` for an unknown id.
    pub fn status(&self, id: i64) -> Option<OrderView> {
        let t = self.now();
        let st = self.lock();
        let o = st.orders.get(usize::try_from(id - FIRST_ORDER_ID).ok()?)?;
        Some(self.view_at(o, t))
    }

    /// Counts a `status` call for `n` ids.
    pub fn count_status_ids(&self, n: usize) {
        let mut st = self.lock();
        st.stats.status_ids += n as u64;
        st.stats.max_status_ids = st.stats.max_status_ids.max(n as u64);
    }

    /// API v2 `cancel` for one order: accepted (the outcome shows later in `status`) or an error.
    pub fn cancel(&self, id: i64) -> Result<(), SimError> {
        let t = self.now();
        let mut st = self.lock();
        let idx = usize::try_from(id - FIRST_ORDER_ID)
            .ok()
            .filter(|i| *i < st.orders.len())
            .ok_or_else(|| SimError("Incorrect order ID".into()))?;
        let o = st.orders[idx].clone();
        let spec = &o.spec;
        if !spec.cancel {
            return Err(SimError("Cancel is not available for this service".into()));
        }
        let view = self.view_at(&o, t);
        if matches!(view.status, "Completed" | "Partial" | "Canceled") || o.cancel_at.is_some() {
            return Err(SimError("Order cannot be canceled".into()));
        }
        if !roll(
            mix(self.config.seed ^ 0xCA9C, id as u64),
            spec.cancel_honoured_pct,
        ) {
            return Err(SimError("Order cannot be canceled".into()));
        }
        st.orders[idx].cancel_at = Some(t + 5_000);
        st.stats.cancels_accepted += 1;
        Ok(())
    }

    /// API v2 `refill`: a refill id for a Completed or Partial order of a refill service.
    pub fn refill(&self, id: i64) -> Result<i64, SimError> {
        let t = self.now();
        let mut st = self.lock();
        let o = usize::try_from(id - FIRST_ORDER_ID)
            .ok()
            .and_then(|i| st.orders.get(i))
            .cloned()
            .ok_or_else(|| SimError("Incorrect order ID".into()))?;
        let spec = &o.spec;
        let view = self.view_at(&o, t);
        if !spec.refill || !matches!(view.status, "Completed" | "Partial") {
            return Err(SimError("Order not eligible for refill.".into()));
        }
        let rid = st.refills.len() as i64 + 1;
        let rejected = roll(
            mix(self.config.seed ^ 0x4EF1, rid as u64),
            spec.refill_rejected_pct,
        );
        st.refills.push(SimRefill {
            order: id,
            created: t,
            rejected,
        });
        st.stats.refills_created += 1;
        Ok(rid)
    }

    fn refill_state(&self, r: &SimRefill, t: i64, st: &State) -> &'static str {
        let o = &st.orders[(r.order - FIRST_ORDER_ID) as usize];
        let delay = o.spec.refill_delay_s as i64 * 1000;
        if t < r.created + delay / 3 {
            "Pending"
        } else if t < r.created + delay {
            "In progress"
        } else if r.rejected {
            "Rejected"
        } else {
            "Completed"
        }
    }

    /// API v2 `refill_status`: `None` for an unknown refill id.
    pub fn refill_status(&self, rid: i64) -> Option<&'static str> {
        let t = self.now();
        let st = self.lock();
        let r = st.refills.get(usize::try_from(rid - 1).ok()?)?;
        Some(self.refill_state(r, t, &st))
    }

    /// How many orders this provider holds for `link` (a test's check that no order was
    /// placed twice, here or across providers).
    pub fn orders_for_link(&self, link: &str) -> usize {
        self.lock().orders.iter().filter(|o| o.link == link).count()
    }

    /// The faults injected now.
    pub fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the injected faults (a burst of 5xx, then calm). Errors: shares over 100 %.
    pub fn set_faults(&self, faults: Faults) -> anyhow::Result<()> {
        let mut probe = self.config.clone();
        probe.faults = faults.clone();
        probe.validate()?;
        *self.faults.write().unwrap_or_else(|p| p.into_inner()) = faults;
        Ok(())
    }

    fn funds_put(&self) -> Money {
        *self.balance.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the money available for new orders to `available` (0 = every `add` is refused
    /// with "Not enough funds on balance"), as an account running dry or topped up does.
    pub fn set_funds(&self, available: Money) {
        let spent = self.lock().spent;
        let put = spent.checked_add(available).unwrap_or(available);
        *self.balance.lock().unwrap_or_else(|p| p.into_inner()) = put;
    }

    /// The current count of `link`: its base count plus everything delivered to it, minus drops
    /// after completion, which a completed refill restores (`GET /_sim/link`).
    pub fn link_count(&self, link: &str) -> i64 {
        let t = self.now();
        let st = self.lock();
        let mut count = (text_hash(link) % 10_000) as i64;
        for (i, o) in st.orders.iter().enumerate().filter(|(_, o)| o.link == link) {
            let v = self.view_at(o, t);
            count += v.delivered;
            let spec = &o.spec;
            if v.status != "Completed" || spec.drop_pct == 0 {
                continue;
            }
            let done = self.completed_at(o);
            let span = (spec.drop_after_s as i64 * 1000).max(1);
            let dropped_by = |at: i64| {
                let frac_num = (at - done).clamp(0, span);
                v.delivered * i64::from(spec.drop_pct) / 100 * frac_num / span
            };
            let id = FIRST_ORDER_ID + i as i64;
            let restored = st
                .refills
                .iter()
                .filter(|r| r.order == id && !r.rejected)
                .map(|r| r.created + spec.refill_delay_s as i64 * 1000)
                .filter(|done_at| *done_at <= t)
                .max();
            count -= dropped_by(t) - restored.map_or(0, dropped_by);
        }
        count
    }

    /// When a completing order reached its total (simulated ms).
    fn completed_at(&self, o: &SimOrder) -> i64 {
        let spec = &o.spec;
        let start = o.created + spec.start_delay_s as i64 * 1000;
        let per_run = o.total / o.runs;
        let last = o.total - per_run * (o.runs - 1);
        start
            + (o.runs - 1) * o.interval_ms
            + (last * 60_000 + o.speed_per_min - 1) / o.speed_per_min.max(1)
    }

    /// API v2 `balance`: the starting balance minus charges, plus refunds of orders that ended
    /// Partial or Canceled by now.
    pub fn balance(&self) -> Money {
        let t = self.now();
        let st = self.lock();
        let refunds = st
            .orders
            .iter()
            .map(|o| {
                let v = self.view_at(o, t);
                match v.status {
                    "Partial" | "Canceled" => o.charge.checked_sub(v.charge).unwrap_or(Money::ZERO),
                    _ => Money::ZERO,
                }
            })
            .fold(Money::ZERO, |a, b| a.checked_add(b).unwrap_or(a));
        self.funds_put()
            .checked_sub(st.spent)
            .and_then(|b| b.checked_add(refunds))
            .unwrap_or(Money::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smmd_domain::clock::ManualClock;

    fn new_sim(f: impl FnOnce(&mut SimConfig)) -> (Sim, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let mut c = SimConfig::default();
        for s in &mut c.services {
            s.partial_pct = 0;
            s.canceled_pct = 0;
        }
        f(&mut c);
        (Sim::new(c, clock.clone()).expect("sim"), clock)
    }

    fn input(link: &str, qty: i64) -> OrderInput {
        OrderInput {
            link: Some(link.into()),
            quantity: Some(qty.to_string()),
            ..OrderInput::default()
        }
    }

    #[test]
    fn delivery_moves_from_pending_to_completed_at_the_service_speed() {
        let (sim, clock) = new_sim(|_| {});
        // Service 2: start after 20 s, 1000 per minute.
        let id = sim
            .add(Some("2"), &input("https://x.io/1", 500))
            .expect("add");
        assert_eq!(sim.status(id).expect("s").status, "Pending");
        clock.advance_ms(20_000 + 15_000);
        let v = sim.status(id).expect("s");
        assert_eq!((v.status, v.remains), ("In progress", 250));
        clock.advance_ms(15_000);
        let v = sim.status(id).expect("s");
        assert_eq!(
            (v.status, v.remains, v.charge.to_string()),
            ("Completed", 0, "0.10".into())
        );
        assert_eq!(sim.status(id + 1), None);
    }

    #[test]
    fn stuck_orders_never_finish_until_canceled_and_slow_ones_finish_late() {
        let (sim, clock) = new_sim(|c| {
            c.services[1].stuck_pct = 30;
            c.services[1].slow_pct = 30;
            c.services[1].slow_speed_pct = 25;
        });
        // Service 2: start after 20 s, 1000 per minute: 1000 units take a minute at full speed.
        let ids: Vec<i64> = (0..200)
            .map(|n| {
                sim.add(Some("2"), &input(&format!("https://x.io/s{n}"), 1000))
                    .expect("add")
            })
            .collect();
        clock.advance_ms(20_000 + 60_000);
        let done_on_time = ids
            .iter()
            .filter(|id| sim.status(**id).expect("s").status == "Completed")
            .count();
        // Four minutes more: a quarter speed has finished too; stuck ones never do.
        clock.advance_ms(4 * 60_000);
        let active: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| sim.status(*id).expect("s").status != "Completed")
            .collect();
        let late = ids.len() - done_on_time - active.len();
        assert!((30..=90).contains(&active.len()), "stuck: {}", active.len());
        assert!((20..=80).contains(&late), "slow: {late}");
        clock.advance_ms(30 * 86_400_000);
        for id in &active {
            let v = sim.status(*id).expect("s");
            assert!(
                matches!(v.status, "Pending" | "In progress") && v.remains > 0,
                "a stuck order stays active: {v:?}"
            );
        }
        // A cancel ends a stuck order: Canceled with nothing delivered, else Partial.
        sim.cancel(active[0]).expect("cancel");
        clock.advance_ms(5_000);
        let v = sim.status(active[0]).expect("s");
        assert!(matches!(v.status, "Canceled" | "Partial"), "{v:?}");
        assert_eq!(v.remains, 1000 - v.delivered);
    }

    #[test]
    fn outcomes_follow_the_shares_and_the_seed() {
        let (sim, clock) = new_sim(|c| {
            c.services[1].partial_pct = 30;
            c.services[1].canceled_pct = 20;
        });
        let ids: Vec<i64> = (0..1000)
            .map(|i| {
                sim.add(Some("2"), &input(&format!("https://x.io/{i}"), 100))
                    .expect("add")
            })
            .collect();
        clock.advance_ms(3_600_000);
        let mut by = HashMap::new();
        for id in &ids {
            *by.entry(sim.status(*id).expect("s").status).or_insert(0) += 1;
        }
        let (c, p, k) = (by["Completed"], by["Partial"], by["Canceled"]);
        assert_eq!(c + p + k, 1000);
        assert!((150..250).contains(&k), "canceled {k}");
        assert!((250..350).contains(&p), "partial {p}");
        // Same seed, same requests: same outcomes.
        let (again, clock2) = new_sim(|c| {
            c.services[1].partial_pct = 30;
            c.services[1].canceled_pct = 20;
        });
        for i in 0..1000 {
            again
                .add(Some("2"), &input(&format!("https://x.io/{i}"), 100))
                .expect("add");
        }
        clock2.advance_ms(3_600_000);
        for id in &ids {
            assert_eq!(sim.status(*id), again.status(*id));
        }
    }

    #[test]
    fn partial_refunds_the_undelivered_share_to_the_balance() {
        let (sim, clock) = new_sim(|c| c.services[1].partial_pct = 100);
        let before = sim.balance();
        let id = sim
            .add(Some("2"), &input("https://x.io/p", 1000))
            .expect("add");
        clock.advance_ms(3_600_000);
        let v = sim.status(id).expect("s");
        assert_eq!(v.status, "Partial");
        assert!(v.remains > 0 && v.remains < 1000);
        let paid = before.checked_sub(sim.balance()).expect("paid");
        assert_eq!(paid, v.charge, "the balance keeps only what was delivered");
    }

    #[test]
    fn cancel_freezes_delivery_and_refused_cancels_are_errors() {
        let (sim, clock) = new_sim(|c| c.services[2].cancel = false);
        let id = sim
            .add(Some("2"), &input("https://x.io/c", 10_000))
            .expect("add");
        clock.advance_ms(20_000 + 60_000);
        sim.cancel(id).expect("cancel accepted");
        assert_eq!(
            sim.cancel(id),
            Err(SimError("Order cannot be canceled".into()))
        );
        clock.advance_ms(600_000);
        let v = sim.status(id).expect("s");
        assert_eq!(v.status, "Partial");
        assert!((1_000..=1_100).contains(&v.delivered), "{v:?}");
        let c = sim
            .add(
                Some("3"),
                &OrderInput {
                    link: Some("https://x.io/cm".into()),
                    comments: Some("a\nb".into()),
                    ..OrderInput::default()
                },
            )
            .expect("comments");
        assert!(sim.cancel(c).is_err(), "service 3 refuses cancels");
        let early = sim
            .add(Some("2"), &input("https://x.io/e", 100))
            .expect("add");
        sim.cancel(early).expect("before start");
        clock.advance_ms(10_000);
        assert_eq!(sim.status(early).expect("s").status, "Canceled");
    }

    #[test]
    fn drops_after_completion_and_refill_restores_them() {
        let (sim, clock) = new_sim(|c| {
            c.services[0].drop_pct = 10;
            c.services[0].drop_after_s = 3_600;
            c.services[0].refill_rejected_pct = 0;
            c.services[0].refill_delay_s = 600;
        });
        let link = "https://instagram.com/u";
        let base = sim.link_count(link);
        let id = sim.add(Some("1"), &input(link, 1000)).expect("add");
        assert!(sim.refill(id).is_err(), "not eligible before completion");
        clock.advance_ms(60_000 + 5 * 60_000);
        assert_eq!(sim.status(id).expect("s").status, "Completed");
        assert_eq!(sim.link_count(link), base + 1000);
        clock.advance_ms(3_600_000);
        assert_eq!(sim.link_count(link), base + 900, "10 % dropped");
        let rid = sim.refill(id).expect("refill");
        assert_eq!(sim.refill_status(rid), Some("Pending"));
        clock.advance_ms(300_000);
        assert_eq!(sim.refill_status(rid), Some("In progress"));
        clock.advance_ms(300_000);
        assert_eq!(sim.refill_status(rid), Some("Completed"));
        assert_eq!(
            sim.link_count(link),
            base + 1000,
            "refill restored the drop"
        );
    }

    #[test]
    fn an_empty_balance_refuses_orders() {
        let (sim, _) = new_sim(|c| c.balance = "0.10".into());
        sim.add(Some("2"), &input("https://x.io/a", 500))
            .expect("0.10 fits");
        assert_eq!(
            sim.add(Some("2"), &input("https://x.io/b", 500)),
            Err(SimError("Not enough funds on balance".into()))
        );
        assert_eq!(sim.stats().orders_created, 1);
    }

    #[test]
    fn drip_feed_delivers_run_by_run() {
        let (sim, clock) = new_sim(|_| {});
        let id = sim
            .add(
                Some("2"),
                &OrderInput {
                    link: Some("https://x.io/d".into()),
                    quantity: Some("100".into()),
                    runs: Some("3".into()),
                    interval: Some("10".into()),
                    ..OrderInput::default()
                },
            )
            .expect("add");
        clock.advance_ms(20_000 + 60_000);
        assert_eq!(sim.status(id).expect("s").delivered, 100, "first run only");
        clock.advance_ms(10 * 60_000);
        assert_eq!(sim.status(id).expect("s").delivered, 200);
        clock.advance_ms(10 * 60_000);
        assert_eq!(sim.status(id).expect("s").status, "Completed");
    }
}
