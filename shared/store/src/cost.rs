//! Per-request accounting of DynamoDB work: calls, items read, capacity consumed.
//!
//! The HTTP layer runs each request inside [`measure`]; every call the store makes adds to the
//! request's [`Cost`], which is logged and (locally) returned in a response header.

use std::cell::RefCell;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    pub calls: u32,
    pub items_read: u32,
    pub read_units: f64,
    pub write_units: f64,
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "calls={} items_read={} rcu={} wcu={}",
            self.calls, self.items_read, self.read_units, self.write_units
        )
    }
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, o: Cost) {
        self.calls += o.calls;
        self.items_read += o.items_read;
        self.read_units += o.read_units;
        self.write_units += o.write_units;
    }
}

tokio::task_local! {
    static COST: RefCell<Cost>;
}

/// Runs `fut`, returning its output and the DynamoDB work it did.
pub async fn measure<F: Future>(fut: F) -> (F::Output, Cost) {
    COST.scope(RefCell::new(Cost::default()), async move {
        let out = fut.await;
        let cost = COST.with(|c| *c.borrow());
        (out, cost)
    })
    .await
}

/// Adds work measured elsewhere (a spawned task's [`measure`]) to the current request's cost.
pub fn add_cost(c: Cost) {
    let _ = COST.try_with(|cur| *cur.borrow_mut() += c);
}

/// Whether a call reads or writes, to attribute a capacity total that is not split.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Read,
    Write,
}

/// Adds one DynamoDB call to the current request's cost.
pub(crate) fn record<'a>(
    kind: Kind,
    items_read: usize,
    caps: impl IntoIterator<Item = &'a aws_sdk_dynamodb::types::ConsumedCapacity>,
) {
    let _ = COST.try_with(|c| {
        let mut c = c.borrow_mut();
        c.calls += 1;
        c.items_read += items_read as u32;
        for cap in caps {
            let (r, w) = (cap.read_capacity_units(), cap.write_capacity_units());
            c.read_units += r.unwrap_or(0.0);
            c.write_units += w.unwrap_or(0.0);
            if r.is_none() && w.is_none() {
                let total = cap.capacity_units().unwrap_or(0.0);
                match kind {
                    Kind::Read => c.read_units += total,
                    Kind::Write => c.write_units += total,
                }
            }
        }
    });
}
