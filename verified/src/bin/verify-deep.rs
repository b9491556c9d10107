//! `verify-deep`: the model checker at a deeper bound than the CI test (`make verify-deep`).
//!
//! Usage: `verify-deep [DEPTH]` (default 4).

use kernel_verified::explore::explore;
use kernel_verified::model::{two_threads, Menu, SpecModel};

fn main() {
    let depth: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(4);
    let mut m = SpecModel { sys: two_threads(9), menu: Menu::all() };
    match explore(&mut m, depth) {
        Ok(st) => println!(
            "spec model: {} states, {} transitions ({} unmodelled), depth {}{} in {:.1?}",
            st.states,
            st.transitions,
            st.unmodelled,
            st.depth,
            if st.exhausted { " (state space exhausted)" } else { "" },
            st.elapsed
        ),
        Err(v) => {
            eprintln!("VIOLATION: {}\ntrace:", v.message);
            for a in &v.trace {
                eprintln!("  {a:?}");
            }
            std::process::exit(1);
        }
    }
}
