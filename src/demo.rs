//! The demo store: the seeds' bank, order and user examples, interleaved in global order,
//! optionally scaled up with generated streams of the same domains.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};

use crate::store::{ExpectedVersion, NewEvent, Result, Store};

/// Alice's account: opened, +100, −30, +50 → balance 120.
pub const ALICE_STREAM: &str = "Account-acc-1";
/// The seed order: ends with total 127.5 after the SAVE20 discount.
pub const ORDER_STREAM: &str = "Order-123";

/// The reducers for the demo's categories, as shipped in `assets/reducers/`.
pub const REDUCERS: [(&str, &str); 3] = [
    ("Account.jq", include_str!("../assets/reducers/Account.jq")),
    ("Order.jq", include_str!("../assets/reducers/Order.jq")),
    ("User.jq", include_str!("../assets/reducers/User.jq")),
];

/// The seed events, in global order.
fn seed() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            ALICE_STREAM,
            "AccountOpened",
            json!({"accountId": "acc-1", "ownerName": "Alice"}),
        ),
        (
            "User-user-1",
            "UserCreated",
            json!({"userId": "user-1", "name": "Alice Martin", "email": "alice@example.com"}),
        ),
        (
            "Account-acc-2",
            "AccountOpened",
            json!({"accountId": "acc-2", "ownerName": "Bob"}),
        ),
        (
            ALICE_STREAM,
            "MoneyDeposited",
            json!({"accountId": "acc-1", "amount": 100}),
        ),
        (
            ORDER_STREAM,
            "OrderCreated",
            json!({"orderId": "123", "customerId": "cust-456", "status": "pending", "total": 0}),
        ),
        (
            ORDER_STREAM,
            "ItemAdded",
            json!({"items": {"sku-kb": {"name": "Mechanical keyboard", "quantity": 1, "price": 120}}, "total": 120}),
        ),
        (
            "Account-acc-2",
            "MoneyDeposited",
            json!({"accountId": "acc-2", "amount": 250}),
        ),
        (
            ORDER_STREAM,
            "ItemAdded",
            json!({"items": {"sku-cable": {"name": "USB-C cable", "quantity": 2, "price": 12.5}}, "total": 145}),
        ),
        (
            ALICE_STREAM,
            "MoneyWithdrawn",
            json!({"accountId": "acc-1", "amount": 30}),
        ),
        (
            ORDER_STREAM,
            "ItemAdded",
            json!({"items": {"sku-mouse": {"name": "Wireless mouse", "quantity": 1, "price": 30}}, "total": 175}),
        ),
        (
            "User-user-2",
            "UserCreated",
            json!({"userId": "user-2", "name": "Bob Stone", "email": "bob@example.com"}),
        ),
        (
            ORDER_STREAM,
            "ItemRemoved",
            json!({"sku": "sku-cable", "total": 150}),
        ),
        (
            ORDER_STREAM,
            "ShippingUpdated",
            json!({"shipping": {"method": "express", "cost": 7.5, "city": "Lisbon"}, "total": 157.5}),
        ),
        (
            "User-user-1",
            "UserUpdated",
            json!({"email": "alice@work.example"}),
        ),
        (
            ORDER_STREAM,
            "DiscountApplied",
            json!({"code": "SAVE20", "percent": 20, "amount": 30, "total": 127.5}),
        ),
        (
            ALICE_STREAM,
            "MoneyDeposited",
            json!({"accountId": "acc-1", "amount": 50}),
        ),
        (
            "Account-acc-2",
            "MoneyWithdrawn",
            json!({"accountId": "acc-2", "amount": 75}),
        ),
        (
            ORDER_STREAM,
            "OrderCompleted",
            json!({"status": "completed"}),
        ),
    ]
}

/// How many events the seed alone has; `--events` below this writes the seed whole.
pub fn seed_len() -> usize {
    seed().len()
}

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The one very long stream `--hot` adds: a busy bank account.
pub const HOT_STREAM: &str = "Account-hot";

/// Writes the demo into a new store at `path`: the seed, then generated streams of about
/// 50 events each until the store holds `events` events. `hot` of those events go to one
/// long account stream ([`HOT_STREAM`]), spread evenly through the global order.
pub fn write_demo(path: &std::path::Path, events: usize, hot: usize) -> Result<Store> {
    let mut store = Store::create(path)?;
    let mut gen = Generator::default();
    {
        let mut w = store.writer()?;
        for (stream, ty, data) in seed() {
            let e = gen.event(stream, ty, data, Duration::minutes(1));
            w.append(stream, ExpectedVersion::Any, &[e])?;
        }
        let extra = events.saturating_sub(seed_len());
        let hot = hot.min(extra);
        let rest = extra - hot;
        let streams = (rest / 50).max(1);
        let (mut k, mut h) = (0, 0);
        for n in 0..extra {
            let is_hot = (n + 1) * hot / extra.max(1) > n * hot / extra.max(1);
            let (stream, ty, data, v) = if is_hot {
                h += 1;
                let (ty, data) = generated_event(0, h, usize::MAX);
                (HOT_STREAM.to_string(), ty, data, h)
            } else {
                let i = k % streams;
                let len = rest / streams + usize::from(i < rest % streams);
                let v = k / streams + 1;
                k += 1;
                let (ty, data) = generated_event(i, v, len);
                (generated_stream_id(i), ty, data, v)
            };
            let e = gen.event(&stream, ty, data, Duration::seconds(10));
            w.append(&stream, ExpectedVersion::Exact(v as i64 - 1), &[e])?;
        }
        // Three consumers: one caught up, one stuck on an order event, one behind.
        let at = |p: i64, secs: i64| {
            crate::time::format_stored(base_time() + Duration::minutes(p) + Duration::seconds(secs))
        };
        w.save_checkpoint(
            "account-balances",
            "projection",
            "Account",
            17,
            Some(&at(17, 2)),
        )?;
        w.save_checkpoint("order-emails", "processor", "Order", 10, Some(&at(10, 3)))?;
        w.save_checkpoint("audit-log", "subscription", "$all", 16, None)?;
        w.commit()?;
    }
    Ok(store)
}

#[derive(Default)]
struct Generator {
    position: u64,
    elapsed: Duration,
    last_in_stream: std::collections::HashMap<String, String>,
}

impl Generator {
    /// Fills in a deterministic id, a timestamp and correlation/causation metadata: each
    /// stream is one conversation whose events are caused by the one before.
    fn event(&mut self, stream: &str, ty: &str, data: Value, step: Duration) -> NewEvent {
        self.position += 1;
        self.elapsed += step;
        let id = format!("00000000-0000-4000-8000-{:012x}", self.position);
        let correlation = format!("corr-{stream}");
        let causation = self
            .last_in_stream
            .insert(stream.to_string(), id.clone())
            .unwrap_or_else(|| correlation.clone());
        let user = if stream.contains("acc-2") || stream.ends_with("user-2") {
            "user-2"
        } else {
            "user-1"
        };
        NewEvent {
            event_id: Some(id),
            timestamp: Some(crate::time::format_stored(base_time() + self.elapsed)),
            metadata: json!({"correlationId": correlation, "causationId": causation, "userId": user, "tenantId": "demo"}),
            ..NewEvent::new(ty, data)
        }
    }
}

fn generated_stream_id(i: usize) -> String {
    match i % 3 {
        0 => format!("Account-gen-{i:06}"),
        1 => format!("Order-gen-{i:06}"),
        _ => format!("User-gen-{i:06}"),
    }
}

/// A cheap deterministic spread of amounts.
fn amount(i: usize, v: usize) -> u64 {
    ((i * 7919 + v * 104_729) % 490 + 10) as u64
}

fn generated_event(i: usize, v: usize, len: usize) -> (&'static str, Value) {
    let id = format!("gen-{i:06}");
    match (i % 3, v) {
        (0, 1) => (
            "AccountOpened",
            json!({"accountId": id, "ownerName": format!("Owner {i}")}),
        ),
        (0, _) if v % 3 == 0 => (
            "MoneyWithdrawn",
            json!({"accountId": id, "amount": amount(i, v) / 4}),
        ),
        (0, _) => (
            "MoneyDeposited",
            json!({"accountId": id, "amount": amount(i, v)}),
        ),
        (1, 1) => (
            "OrderCreated",
            json!({"orderId": id, "customerId": format!("cust-{}", i % 997), "status": "pending", "total": 0}),
        ),
        (1, _) if v == len => ("OrderCompleted", json!({"status": "completed"})),
        (1, _) => match v % 5 {
            0 => (
                "ShippingUpdated",
                json!({"shipping": {"method": "standard", "cost": 4.5}}),
            ),
            1 => ("ItemRemoved", json!({"sku": format!("sku-{}", v - 1)})),
            4 => ("DiscountApplied", json!({"code": "WELCOME5", "percent": 5})),
            _ => (
                "ItemAdded",
                json!({"items": {format!("sku-{v}"): {"name": format!("Item {v}"), "quantity": 1 + v % 3, "price": amount(i, v)}}}),
            ),
        },
        (_, 1) => (
            "UserCreated",
            json!({"userId": id, "name": format!("User {i}"), "email": format!("user{i}@example.com")}),
        ),
        _ => (
            "UserUpdated",
            json!({"email": format!("user{i}+{v}@example.com")}),
        ),
    }
}
