//! Bounded, deterministic fuzzing that runs in plain `cargo test`: structure-aware mutations
//! of every fixture plus random bytes and pathological nesting. Asserts that the parser never
//! panics and that every error carries a real location and the `file:line:col: error:` form.

mod common;

use std::cell::RefCell;
use std::time::{Duration, Instant};

use sdf::{Arch, TargetConfig};

/// Small xorshift generator: fixed seed, no dependencies, same sequence everywhere.
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
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "61",
    "62",
    "63",
    "64",
    "254",
    "255",
    "0x",
    "0x1000",
    "0x1001",
    "0x200000",
    "0x20_0000",
    "0xffffffffffffffff",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "0xfffffffffffff000",
    "true",
    "false",
    "True",
    "yes",
    "r",
    "w",
    "x",
    "rw",
    "rwx",
    "wx",
    "",
    "level",
    "edge",
    "low",
    "high",
    "0:0.0",
    "255:31.7",
    "1:2",
    "a",
    "b",
    "m",
    "client",
    "server",
    "producer",
    "ring_buf",
    "\u{e9}\u{1F600}",
    "&amp;",
    "0x3f8",
    "0x8000_0000_0000",
    "0x3fffffe000",
    "0x7ffffffff000",
    "   7 ",
    "0x1_000_000_000",
    "+5",
];

const ELEMENTS: &[&str] = &[
    "<protection_domain name=\"z\"><program_image path=\"z\" /></protection_domain>",
    "<protection_domain name=\"a\" id=\"1\"><program_image path=\"z\" /></protection_domain>",
    "<memory_region name=\"m\" size=\"0x1000\" />",
    "<memory_region name=\"big\" size=\"0x200000\" phys_addr=\"0x0\" />",
    "<map mr=\"m\" vaddr=\"0x1000\" />",
    "<map mr=\"big\" vaddr=\"0x7fffffe00000\" perms=\"rx\" />",
    "<irq irq=\"33\" id=\"1\" />",
    "<irq pin=\"1\" vector=\"3\" id=\"2\" />",
    "<irq pcidev=\"0:1.0\" handle=\"0\" vector=\"4\" id=\"3\" />",
    "<ioport id=\"0\" addr=\"0x3f8\" size=\"8\" />",
    "<setvar symbol=\"s\" region_paddr=\"m\" />",
    "<channel><end pd=\"a\" id=\"9\" /><end pd=\"z\" id=\"9\" pp=\"true\" /></channel>",
    "<virtual_machine name=\"vm\"><vcpu id=\"0\" /></virtual_machine>",
    "<template name=\"t\" id=\"2\"><map mr=\"m\" vaddr=\"0x2000\" perms=\"rwx\" /></template>",
    "<program_image path=\"p\" />",
    "<end pd=\"a\" id=\"0\" />",
    "<domains />",
    "<!-- comment -->",
    "<![CDATA[text]]>",
    "<?pi data?>",
    "<!DOCTYPE system [<!ENTITY e \"x\">]>",
    "text",
    "&e;",
    "<",
    "</system>",
];

const ARCHES: [Arch; 3] = [Arch::Aarch64, Arch::Riscv64, Arch::X86_64];

thread_local! {
    static CURRENT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Parses `text` on every arch, checking the no-panic / located-error contract.
/// Returns how many architectures accepted it and how many rejected it as malformed XML.
fn check(text: &str) -> (u32, u32) {
    let (mut ok, mut xml) = (0, 0);
    CURRENT.with(|c| c.replace(text.to_string()));
    for arch in ARCHES {
        // AArch64 with hypervisor support so virtual machines are parsed too; the others without.
        let cfg = TargetConfig {
            hypervisor: arch == Arch::Aarch64,
            ..TargetConfig::for_arch(arch)
        };
        match sdf::parse_with_prefill("fuzz.system", text, &cfg, &common::prefill) {
            Ok(sys) => {
                ok += 1;
                assert!(!sys.protection_domains.is_empty());
                assert!(sys.protection_domains.len() <= sdf::MAX_PDS);
            }
            Err(e) => {
                if matches!(*e.kind, sdf::ErrorKind::Xml(_)) {
                    xml += 1;
                }
                assert!(
                    e.loc.line >= 1 && e.loc.col >= 1,
                    "error without a location: {e}\ninput:\n{text}"
                );
                let prefix = format!("fuzz.system:{}:{}: error: ", e.loc.line, e.loc.col);
                let shown = e.to_string();
                assert!(
                    shown.starts_with(&prefix) && shown.len() > prefix.len(),
                    "bad message `{shown}`"
                );
            }
        }
    }
    (ok, xml)
}

fn mutate(rng: &mut Rng, base: &str) -> String {
    let mut lines: Vec<String> = base.lines().map(str::to_string).collect();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = rng.below(lines.len());
        // Mostly value edits, which keep the XML well-formed and reach the validator.
        match rng.below(20) {
            // Replace one attribute value.
            0..=9 | 18 | 19 => {
                let line = &lines[i];
                let quotes: Vec<usize> = line.match_indices('"').map(|(p, _)| p).collect();
                if quotes.len() >= 2 {
                    let k = rng.below(quotes.len() / 2) * 2;
                    let (a, b) = (quotes[k], quotes[k + 1]);
                    let v = *rng.pick(VALUES);
                    lines[i] = format!("{}{}{}", &line[..=a], v, &line[b..]);
                }
            }
            10 => {
                let j = rng.below(lines.len());
                let dup = lines[j].clone();
                lines.insert(i, dup);
            }
            11 => {
                lines.remove(i);
            }
            12 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            13 | 14 => lines.insert(i, (*rng.pick(ELEMENTS)).to_string()),
            // Flip, insert or delete one byte (kept valid UTF-8 via lossy conversion).
            15 => {
                let mut bytes = lines[i].clone().into_bytes();
                let pos = rng.below(bytes.len() + 1);
                match rng.below(3) {
                    0 if pos < bytes.len() => bytes[pos] ^= 1 << rng.below(8),
                    1 => bytes.insert(pos, (rng.next() & 0xff) as u8),
                    _ if pos < bytes.len() => {
                        bytes.remove(pos);
                    }
                    _ => {}
                }
                lines[i] = String::from_utf8_lossy(&bytes).into_owned();
            }
            // Rename an attribute or element.
            16 => {
                let names = [
                    "name", "id", "pd", "mr", "vaddr", "size", "irq", "pp", "system", "end", "map",
                    "foo",
                ];
                if let Some(p) = lines[i].find(|c: char| c.is_ascii_alphabetic()) {
                    let end = lines[i][p..]
                        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                        .map_or(lines[i].len(), |e| p + e);
                    let n = *rng.pick(&names[..]);
                    lines[i] = format!("{}{}{}", &lines[i][..p], n, &lines[i][end..]);
                }
            }
            // Truncate the document.
            _ => lines.truncate(i),
        }
    }
    lines.join("\n")
}

#[test]
fn mutated_fixtures_never_panic_and_errors_are_located() {
    std::panic::set_hook(Box::new(|info| {
        CURRENT.with(|c| {
            eprintln!(
                "parser panicked: {info}\n--- input ---\n{}\n-------------",
                c.borrow()
            )
        });
    }));
    let mut bases = Vec::new();
    for dir in ["ok", "err"] {
        for p in common::system_files(&common::fixtures().join(dir)) {
            bases.push(std::fs::read_to_string(p).expect("fixture"));
        }
    }
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let deadline = Instant::now() + Duration::from_secs(15);
    let (mut runs, mut accepted, mut malformed) = (0u64, 0u64, 0u64);
    // Fixed iteration count; the deadline only bounds slow (debug) builds.
    while runs < 400_000 && Instant::now() < deadline {
        let base = bases[rng.below(bases.len())].clone();
        let (ok, xml) = check(&mutate(&mut rng, &base));
        accepted += u64::from(ok);
        malformed += u64::from(xml);
        runs += 1;
    }
    eprintln!("fuzz: {runs} mutated inputs x 3 architectures: {accepted} accepted, {malformed} malformed XML, rest rejected by validation");
    assert!(runs >= 1_000, "too few fuzz iterations ran ({runs})");
    // The mutations must reach past the XML layer, or the test proves little.
    let parses = runs * 3;
    // At least 40% must get past the XML layer and at least 1% must be fully valid.
    let deep = parses - malformed;
    assert!(
        deep * 5 > parses * 2 && accepted * 100 > parses,
        "mutations too shallow: {accepted} accepted, {malformed} malformed of {parses}"
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..3_000 {
        let len = rng.below(400);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
        check(&String::from_utf8_lossy(&bytes));
        // Random soup of XML-ish tokens.
        let mut s = String::from("<system>");
        for _ in 0..rng.below(30) {
            s.push_str(ELEMENTS[rng.below(ELEMENTS.len())]);
        }
        check(&s);
    }
}

#[test]
fn pathological_inputs_are_rejected_cleanly() {
    check("");
    check("\u{feff}");
    check("<system/>");
    check(&"<a>".repeat(100_000));
    let deep_pd = format!(
        "<system>{}{}</system>",
        "<protection_domain name=\"p\" id=\"1\"><program_image path=\"x\" />".repeat(20_000),
        "</protection_domain>".repeat(20_000)
    );
    check(&deep_pd);
    let many = format!(
        "<system>{}</system>",
        "<memory_region name=\"m\" size=\"0x1000\" />".repeat(20_000)
    );
    check(&many);
    let huge_attr = format!(
        "<system><protection_domain name=\"{}\" /></system>",
        "n".repeat(1_000_000)
    );
    check(&huge_attr);
    check("<!DOCTYPE system [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]><system>&b;</system>");
}
