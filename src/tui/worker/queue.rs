//! The worker's waiting requests: only the newest of each kind is kept (a seek replaces
//! the seek before it), and they are served by kind, what the user looks at first.

use super::protocol::Req;

/// Request kinds in the order they are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Streams,
    Follow,
    ReloadReducer,
    Rows,
    ResolveTime,
    State,
    Diff,
    Blame,
    History,
    When,
    Density,
    Related,
    Consumers,
    Compare,
    ReadModel,
    Fixture,
    Stats,
    Types,
    Plot,
    Find,
    Pending,
    IndexTimes,
}

impl Kind {
    pub fn of(r: &Req) -> Kind {
        match r {
            Req::Streams => Kind::Streams,
            Req::Follow(_) => Kind::Follow,
            Req::ReloadReducer => Kind::ReloadReducer,
            Req::Rows { .. } => Kind::Rows,
            Req::ResolveTime { .. } => Kind::ResolveTime,
            Req::State { .. } => Kind::State,
            Req::Diff { .. } => Kind::Diff,
            Req::Blame { .. } => Kind::Blame,
            Req::History { .. } => Kind::History,
            Req::When { .. } => Kind::When,
            Req::Density { .. } => Kind::Density,
            Req::Pending(_) => Kind::Pending,
            Req::Find { .. } => Kind::Find,
            Req::Related { .. } => Kind::Related,
            Req::Consumers => Kind::Consumers,
            Req::Fixture { .. } => Kind::Fixture,
            Req::Compare { .. } => Kind::Compare,
            Req::ReadModel { .. } => Kind::ReadModel,
            Req::Stats { .. } => Kind::Stats,
            Req::Plot { .. } => Kind::Plot,
            Req::Types => Kind::Types,
            Req::IndexTimes(_) => Kind::IndexTimes,
        }
    }
}

#[derive(Debug, Default)]
pub struct RequestQueue {
    /// At most one request per kind, kept sorted by kind.
    waiting: Vec<(Kind, Req)>,
}

impl RequestQueue {
    /// Adds a request, replacing a waiting one of the same kind.
    pub fn push(&mut self, req: Req) {
        let kind = Kind::of(&req);
        match self.waiting.binary_search_by_key(&kind, |(k, _)| *k) {
            Ok(i) => self.waiting[i].1 = req,
            Err(i) => self.waiting.insert(i, (kind, req)),
        }
    }

    /// Puts back a request that was set aside, unless a newer one of its kind arrived.
    pub fn push_back_unless_newer(&mut self, req: Req) {
        if !self.has(Kind::of(&req)) {
            self.push(req);
        }
    }

    /// The most urgent waiting request.
    pub fn pop(&mut self) -> Option<Req> {
        (!self.waiting.is_empty()).then(|| self.waiting.remove(0).1)
    }

    pub fn has(&self, kind: Kind) -> bool {
        self.waiting.iter().any(|(k, _)| *k == kind)
    }

    /// Whether a replay should stop for what is waiting: anything served before a state,
    /// or a newer state.
    pub fn interrupts_replay(&self) -> bool {
        self.waiting.iter().any(|(k, _)| *k <= Kind::State)
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::worker::protocol::Target;

    fn state(key: i64) -> Req {
        Req::State {
            target: Target::All,
            key,
            skips: vec![],
        }
    }

    fn rows(from: i64) -> Req {
        Req::Rows {
            target: Target::All,
            from,
            to: from + 10,
        }
    }

    fn density() -> Req {
        Req::Density {
            target: Target::All,
            buckets: 4,
        }
    }

    #[test]
    fn the_newest_of_each_kind_wins() {
        let mut q = RequestQueue::default();
        q.push(state(1));
        q.push(state(2));
        q.push(state(3));
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some(state(3)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn requests_come_out_by_priority_whatever_their_order() {
        let mut q = RequestQueue::default();
        q.push(Req::Pending(5));
        q.push(density());
        q.push(state(7));
        q.push(rows(0));
        q.push(Req::Streams);
        let order: Vec<Kind> = std::iter::from_fn(|| q.pop())
            .map(|r| Kind::of(&r))
            .collect();
        assert_eq!(
            order,
            vec![
                Kind::Streams,
                Kind::Rows,
                Kind::State,
                Kind::Density,
                Kind::Pending
            ]
        );
    }

    #[test]
    fn every_kind_fits_at_once() {
        let all = vec![
            Req::Streams,
            Req::Follow(None),
            Req::ReloadReducer,
            rows(0),
            Req::ResolveTime {
                target: Target::All,
                at: chrono::DateTime::UNIX_EPOCH,
                step: None,
            },
            state(1),
            Req::Diff {
                target: Target::All,
                a: 1,
                b: 2,
                skips: vec![],
            },
            Req::Blame {
                target: Target::All,
                key: 1,
                skips: vec![],
            },
            Req::History {
                target: Target::All,
                paths: vec!["/n".into()],
                skips: vec![],
            },
            Req::When {
                target: Target::All,
                predicate: "true".into(),
                skips: vec![],
            },
            density(),
            Req::Related { position: 1 },
            Req::Stats {
                target: Target::All,
            },
            Req::Types,
            Req::Plot {
                target: Target::All,
                path: "/n".into(),
            },
            Req::Find {
                target: Target::All,
                find: crate::tui::worker::protocol::FindSpec::Text("x".into()),
                from: 1,
            },
            Req::Pending(0),
        ];
        let mut q = RequestQueue::default();
        for r in all.iter().rev() {
            q.push(r.clone());
        }
        assert_eq!(q.len(), all.len());
        let out: Vec<Req> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(out, all);
    }

    #[test]
    fn only_more_urgent_requests_or_a_new_seek_interrupt_a_replay() {
        let mut q = RequestQueue::default();
        q.push(density());
        q.push(Req::Pending(1));
        assert!(!q.interrupts_replay());
        q.push(state(4));
        assert!(q.interrupts_replay());
        q.pop();
        q.push(rows(3));
        assert!(q.interrupts_replay());
    }

    #[test]
    fn a_set_aside_replay_does_not_replace_a_newer_seek() {
        let mut q = RequestQueue::default();
        q.push(state(9));
        q.push_back_unless_newer(state(2));
        assert_eq!(q.pop(), Some(state(9)));
        q.push_back_unless_newer(state(2));
        assert_eq!(q.pop(), Some(state(2)));
    }
}
