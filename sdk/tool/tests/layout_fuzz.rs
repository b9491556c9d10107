//! Bounded fuzzing of the stages after parsing: attribute values of the valid fixtures are
//! mutated with a fixed-seed generator; whenever the result still validates, the layout and
//! the report must be computed without panicking and stay consistent with libmicrokit's
//! slot blocks.

use std::path::Path;

use microkit_tool::args::Config;
use microkit_tool::{board, layout, report};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "5",
    "61",
    "62",
    "100",
    "200",
    "254",
    "true",
    "false",
    "0x1000",
    "0x2000",
    "0x200000",
    "0x4000_0000",
    "0x7ffffffff000",
    "0x3ffffff000",
    "rw",
    "r",
    "rx",
    "edge",
    "level",
    "low",
    "a",
    "server",
    "client_a",
    "producer",
    "m",
];

#[test]
fn layout_and_report_never_panic_on_valid_mutations() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdf/tests/fixtures/ok");
    let mut bases = Vec::new();
    for e in std::fs::read_dir(&dir).expect("fixtures") {
        let p = e.expect("entry").path();
        bases.push(std::fs::read_to_string(&p).expect("read"));
    }
    bases.sort();
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut valid = 0u32;
    for _ in 0..20_000 {
        let mut text = bases[rng.below(bases.len())].clone();
        for _ in 0..1 + rng.below(3) {
            let quotes: Vec<usize> = text.match_indices('"').map(|(p, _)| p).collect();
            if quotes.len() < 2 {
                break;
            }
            let k = rng.below(quotes.len() / 2) * 2;
            let v = VALUES[rng.below(VALUES.len())];
            text = format!("{}{}{}", &text[..=quotes[k]], v, &text[quotes[k + 1]..]);
        }
        for b in board::BOARDS {
            let Ok(sys) =
                sdf::parse_with_prefill("f.system", &text, &b.target_config(), &|_| Ok(100))
            else {
                continue;
            };
            valid += 1;
            let config = [Config::Debug, Config::Release, Config::Benchmark][rng.below(3)];
            let lay = layout::compute(&sys, b, config);
            assert_eq!(lay.pds.len(), sys.protection_domains.len());
            for pd in &lay.pds {
                let mut slots: Vec<u64> = pd.caps.iter().map(|c| c.slot).collect();
                slots.dedup();
                assert_eq!(
                    slots.len(),
                    pd.caps.len(),
                    "two caps in one slot in {}: {:?}",
                    pd.name,
                    pd.caps
                );
                assert!(pd
                    .caps
                    .iter()
                    .all(|c| c.slot < layout::slots::BASE_IOPORT + 64));
            }
            let text = report::render("f.system", &sys, &lay, b, config);
            assert!(text.starts_with("# Microkit system report"));
        }
    }
    assert!(
        valid > 1_000,
        "too few mutations stayed valid ({valid}) to exercise the layout"
    );
}
