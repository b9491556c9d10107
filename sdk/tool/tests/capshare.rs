//! Capability sharing through the tool: the `cap_sharing.system` fixture's `<cnode>`s and
//! `<cspace>` caps end up in the spec at the root-CNode slots, with CNode guards, while PDs
//! without a `<cspace>` keep their single Microkit CNode.

mod common;

use common::*;
use microkit_spec::{layout as L, ObjectKind, Spec};
use microkit_tool::args::Config;
use microkit_tool::{board, layout, report, spec, system};

fn obj(s: &Spec, name: &str) -> u32 {
    s.objects
        .iter()
        .position(|o| o.name == name)
        .unwrap_or_else(|| panic!("no object {name}")) as u32
}

/// (slot, object name, badge or guard) of the caps in CNode `cnode`, sorted.
fn slots(s: &Spec, cnode: u32) -> Vec<(u64, String, u64)> {
    let mut v: Vec<_> = s
        .caps
        .iter()
        .filter(|c| c.cnode == cnode)
        .map(|c| {
            (
                c.slot,
                s.objects[c.cap.object as usize].name.clone(),
                c.cap.badge,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn cap_sharing_places_extra_caps_in_root_cnodes() {
    let dir = tmpdir("capshare");
    populate(&dir, EM_AARCH64);
    for p in ["scheduler.elf", "plain.elf"] {
        std::fs::write(dir.join(p), pd_elf(EM_AARCH64)).expect("write pd");
    }
    let b = board::find("qemu_virt_aarch64").expect("board");
    let path = fixture("ok/cap_sharing.system");
    let sys = system::load(&path, b, std::slice::from_ref(&dir)).expect("valid system");
    let lay = layout::compute(&sys, b, Config::Debug);
    let dirs = system::search_dirs(&path, std::slice::from_ref(&dir));
    let built = spec::build(&sys, &lay, b, Config::Debug, &dirs).expect("spec builds");
    let s = &built.spec;

    let mailbox = obj(s, "cnode_shared_mailbox");
    assert_eq!(
        s.objects[mailbox as usize].kind,
        ObjectKind::CNode { radix: 6 }
    );
    assert_eq!(
        s.objects[obj(s, "cnode_shared_spare") as usize].kind,
        ObjectKind::CNode { radix: 1 }
    );

    let sched = s.pds.iter().find(|p| p.name == "scheduler").expect("pd");
    assert_eq!(sched.cspace, obj(s, "cspace_root_scheduler"));
    assert_eq!(sched.cspace_guard_size, 0);
    let g = |radix: u64| L::USER_CNODE_DEPTH - radix;
    let want: Vec<(u64, String, u64)> = [
        (0, "cnode_scheduler", L::MICROKIT_CNODE_GUARD_BITS),
        (1, "tcb_worker", 0),
        (2, "sc_worker", 0),
        (3, "vspace_worker", 0),
        // worker has a <cspace> too, so its CSpace is its 64-slot root.
        (4, "cspace_root_worker", g(6)),
        (5, "cnode_shared_mailbox", g(6)),
        (62, "tcb_scheduler", 0),
        (63, "cspace_root_scheduler", g(6)),
    ]
    .iter()
    .map(|(a, b, c)| (*a, b.to_string(), *c))
    .collect();
    assert_eq!(slots(s, sched.cspace), want);
    // Microkit's own caps stay in the 512-slot CNode, reached through root slot 0.
    let mk = slots(s, obj(s, "cnode_scheduler"));
    assert!(mk
        .iter()
        .any(|(slot, name, _)| *slot == L::INPUT_CAP && name == "ntfn_scheduler"));
    assert!(mk
        .iter()
        .any(|(slot, name, _)| *slot == L::BASE_OUTPUT_NOTIFICATION_CAP && name == "ntfn_worker"));

    let plain = s.pds.iter().find(|p| p.name == "plain").expect("pd");
    assert_eq!(plain.cspace, obj(s, "cnode_plain"));
    assert_eq!(plain.cspace_guard_size, (64 - L::PD_CNODE_BITS) as u8);

    // The report lists them.
    let text = report::render("cap_sharing.system", &sys, &lay, b, Config::Debug);
    assert!(
        text.contains("    5: shared cnode 'mailbox' (cptr 0x1400000000000000)"),
        "{text}"
    );
    assert!(text.contains("   62: TCB of PD 'scheduler'"), "{text}");
}
