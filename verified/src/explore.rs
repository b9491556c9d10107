//! A breadth-first exhaustive explorer with state deduplication (64-bit fingerprints of the
//! full state, as TLC does), generic over a transition system.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A transition system to explore.
pub trait Model {
    /// A state.
    type State: Clone + Hash;
    /// A transition label.
    type Action: Clone + Debug;
    /// Initial states.
    fn init(&self) -> Vec<Self::State>;
    /// Enabled actions in `s`.
    fn actions(&self, s: &Self::State) -> Vec<Self::Action>;
    /// Successor, or `None` if the action is outside what the model covers.
    fn next(&mut self, s: &Self::State, a: &Self::Action) -> Option<Self::State>;
    /// Checks on one transition (and the state it reaches).
    fn check(&mut self, pre: &Self::State, a: &Self::Action, post: &Self::State) -> Result<(), String>;
}

/// Statistics of a finished exploration.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Distinct states visited (initial states included).
    pub states: u64,
    /// Transitions executed and checked.
    pub transitions: u64,
    /// Transitions skipped as unmodelled.
    pub unmodelled: u64,
    /// Deepest level whose states were all expanded.
    pub depth: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Whether the search ran out of new states before the bound.
    pub exhausted: bool,
}

/// A violation with the action sequence that reaches it.
#[derive(Debug, Clone)]
pub struct Violation<A> {
    /// Actions from the initial state.
    pub trace: Vec<A>,
    /// What failed.
    pub message: String,
}

struct PathNode<A> {
    action: A,
    prev: Option<Rc<PathNode<A>>>,
}

fn path<A: Clone>(mut p: Option<Rc<PathNode<A>>>) -> Vec<A> {
    let mut v = Vec::new();
    while let Some(n) = p {
        v.push(n.action.clone());
        p = n.prev.clone();
    }
    v.reverse();
    v
}

/// A frontier entry: a state and the path that reached it.
type Frontier<S, A> = Vec<(S, Option<Rc<PathNode<A>>>)>;

fn fingerprint<S: Hash>(s: &S) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Explore every action sequence of length ≤ `max_depth` (deduplicating states), checking
/// each transition. Stops at the first violation.
pub fn explore<M: Model>(m: &mut M, max_depth: usize) -> Result<Stats, Violation<M::Action>> {
    let start = Instant::now();
    let mut seen = HashSet::new();
    let mut frontier: Frontier<M::State, M::Action> = Vec::new();
    let mut st = Stats::default();
    for s in m.init() {
        if seen.insert(fingerprint(&s)) {
            frontier.push((s, None));
        }
    }
    st.states = seen.len() as u64;
    for depth in 0..max_depth {
        let mut next_frontier = Vec::new();
        for (s, p) in &frontier {
            for a in m.actions(s) {
                let Some(n) = m.next(s, &a) else {
                    st.unmodelled += 1;
                    continue;
                };
                st.transitions += 1;
                if let Err(message) = m.check(s, &a, &n) {
                    let mut trace = path(p.clone());
                    trace.push(a);
                    return Err(Violation { trace, message });
                }
                // States at the last level are counted but not kept (nothing expands them).
                if seen.insert(fingerprint(&n)) && depth + 1 < max_depth {
                    next_frontier.push((n, Some(Rc::new(PathNode { action: a, prev: p.clone() }))));
                }
            }
        }
        st.depth = depth + 1;
        st.states = seen.len() as u64;
        if next_frontier.is_empty() && depth + 1 < max_depth {
            st.exhausted = true;
            break;
        }
        frontier = next_frontier;
    }
    st.elapsed = start.elapsed();
    Ok(st)
}

/// Depth-first variant for deep bounds: memory is one state per level plus 9 bytes per
/// distinct state. A state is expanded again only if it is reached with more remaining
/// depth than before, so the search is still exhaustive up to `max_depth`.
pub fn explore_dfs<M: Model>(m: &mut M, max_depth: usize) -> Result<Stats, Violation<M::Action>> {
    let start = Instant::now();
    let mut best: std::collections::HashMap<u64, u8> = std::collections::HashMap::new();
    let mut st = Stats::default();
    let mut trace: Vec<M::Action> = Vec::new();
    #[allow(clippy::too_many_arguments)]
    fn go<M: Model>(
        m: &mut M,
        s: &M::State,
        left: usize,
        best: &mut std::collections::HashMap<u64, u8>,
        st: &mut Stats,
        trace: &mut Vec<M::Action>,
        max_depth: usize,
    ) -> Result<(), Violation<M::Action>> {
        if left == 0 {
            return Ok(());
        }
        for a in m.actions(s) {
            let Some(n) = m.next(s, &a) else {
                st.unmodelled += 1;
                continue;
            };
            st.transitions += 1;
            trace.push(a.clone());
            if let Err(message) = m.check(s, &a, &n) {
                return Err(Violation { trace: trace.clone(), message });
            }
            let fp = fingerprint(&n);
            let rem = (left - 1) as u8;
            let expand = match best.get(&fp) {
                Some(r) if *r >= rem => false,
                _ => {
                    best.insert(fp, rem);
                    true
                }
            };
            if expand {
                st.depth = st.depth.max(max_depth - left + 1);
                go(m, &n, left - 1, best, st, trace, max_depth)?;
            }
            trace.pop();
        }
        Ok(())
    }
    for s in m.init() {
        best.insert(fingerprint(&s), max_depth as u8);
        go(m, &s, max_depth, &mut best, &mut st, &mut trace, max_depth)?;
    }
    st.states = best.len() as u64;
    st.elapsed = start.elapsed();
    Ok(st)
}
