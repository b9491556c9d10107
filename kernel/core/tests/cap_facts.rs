//! Per-cap facts seL4 fixes and the rest of the suite only reaches indirectly: the tag
//! `seL4_DebugCapIdentify` reports on each architecture, the physical region a cap names
//! (`cap_get_capIsPhysical` plus the object sizes), and which caps are null.

use kernel_core::cap::{Cap, Mapping, ZombieKind};
use sel4_abi::bootinfo::cap_tag as t;
use sel4_abi::object as o;
use sel4_abi::{Arch, CapRights};

const ARCHES: [Arch; 3] = [Arch::Aarch64, Arch::Riscv64, Arch::X86_64];

/// One cap of every kind (page tables at each level), at distinct aligned addresses.
fn every_cap() -> Vec<Cap> {
    let m = Some(Mapping {
        asid: 1,
        vaddr: 0x40_0000,
    });
    let mut v = vec![
        Cap::Null,
        Cap::Untyped {
            paddr: 0x10_0000,
            size_bits: 16,
            free_index: 0,
            is_device: false,
        },
        Cap::Endpoint {
            ptr: 0x20_0000,
            badge: 3,
            rights: CapRights::ALL,
        },
        Cap::Notification {
            ptr: 0x21_0000,
            badge: 0,
            rights: CapRights::ALL,
        },
        Cap::Reply {
            ptr: 0x22_0000,
            can_grant: true,
        },
        Cap::CNode {
            ptr: 0x30_0000,
            radix: 4,
            guard_size: 0,
            guard: 0,
        },
        Cap::Thread { ptr: 0x31_0000 },
        Cap::IrqControl,
        Cap::IrqHandler { irq: 33 },
        Cap::Zombie {
            ptr: 0x32_0000,
            kind: ZombieKind::Tcb,
            remaining: 5,
        },
        Cap::Zombie {
            ptr: 0x34_0000,
            kind: ZombieKind::CNode { radix: 6 },
            remaining: 64,
        },
        Cap::Domain,
        Cap::SchedContext {
            ptr: 0x36_0000,
            size_bits: 8,
        },
        Cap::SchedControl { core: 0 },
        Cap::Frame {
            paddr: 0x40_0000,
            size_bits: 21,
            rights: CapRights::ALL,
            device: false,
            mapped: m,
        },
        Cap::VSpace {
            paddr: 0x60_0000,
            asid: Some(1),
        },
        Cap::AsidControl,
        Cap::AsidPool {
            paddr: 0x61_0000,
            base: 0,
        },
        Cap::IoPortControl,
        Cap::IoPort {
            first: 0x3f8,
            last: 0x3ff,
        },
        Cap::Smc { badge: 0x8400_0000 },
        Cap::Vcpu { ptr: 0x62_0000 },
    ];
    for level in 0..4 {
        v.push(Cap::PageTable {
            paddr: 0x70_0000 + (level as u64) * 0x1000,
            level,
            mapped: None,
        });
    }
    v
}

#[test]
fn debug_cap_identify_tags_follow_sel4_per_architecture() {
    for arch in ARCHES {
        for c in every_cap() {
            let want = match c {
                Cap::Null => t::NULL,
                Cap::Untyped { .. } => t::UNTYPED,
                Cap::Endpoint { .. } => t::ENDPOINT,
                Cap::Notification { .. } => t::NOTIFICATION,
                Cap::Reply { .. } => t::REPLY,
                Cap::CNode { .. } => t::CNODE,
                Cap::Thread { .. } => t::THREAD,
                Cap::IrqControl => t::IRQ_CONTROL,
                Cap::IrqHandler { .. } => t::IRQ_HANDLER,
                Cap::Zombie { .. } => t::ZOMBIE,
                Cap::Domain => t::DOMAIN,
                Cap::SchedContext { .. } => t::SCHED_CONTEXT,
                Cap::SchedControl { .. } => t::SCHED_CONTROL,
                Cap::Frame { .. } => t::FRAME,
                // x86_64 names its paging levels: PML4 (the VSpace), PDPT (level 1), page
                // directory (level 2), page table (level 3). RISC-V has no separate VSpace
                // type: its root is a page table.
                Cap::PageTable { level: 1, .. } if arch == Arch::X86_64 => t::X86_PDPT,
                Cap::PageTable { level: 2, .. } if arch == Arch::X86_64 => t::X86_PAGE_DIRECTORY,
                Cap::PageTable { .. } => t::PAGE_TABLE,
                Cap::VSpace { .. } if arch == Arch::Riscv64 => t::PAGE_TABLE,
                Cap::VSpace { .. } => t::VSPACE,
                Cap::AsidControl => t::ASID_CONTROL,
                Cap::AsidPool { .. } => t::ASID_POOL,
                // x86 io_port_control_cap and io_port_cap.
                Cap::IoPortControl => 31,
                Cap::IoPort { .. } => 19,
                // arm_smc_cap.
                Cap::Smc { .. } => t::SMC,
                // arm vcpu_cap (aarch64 hypervisor builds).
                Cap::Vcpu { .. } => 15,
            };
            assert_eq!(c.debug_tag(arch), want, "{arch:?} {c:?}");
        }
    }
}

#[test]
fn physical_region_of_every_cap() {
    for c in every_cap() {
        let want = match c {
            Cap::Untyped { paddr, .. } => Some((paddr, 1 << 16)),
            Cap::Endpoint { ptr, .. } => Some((ptr, 1 << o::ENDPOINT_BITS)),
            Cap::Notification { ptr, .. } => Some((ptr, 1 << o::NOTIFICATION_BITS)),
            Cap::Reply { ptr, .. } => Some((ptr, 1 << o::REPLY_BITS)),
            Cap::CNode { ptr, .. } => Some((ptr, 1 << (4 + o::SLOT_BITS))),
            Cap::Thread { ptr } => Some((ptr, 1 << o::TCB_BITS)),
            // A zombie still covers the object it is finalising.
            Cap::Zombie {
                ptr,
                kind: ZombieKind::Tcb,
                ..
            } => Some((ptr, 1 << o::TCB_BITS)),
            Cap::Zombie {
                ptr,
                kind: ZombieKind::CNode { radix },
                ..
            } => Some((ptr, 1 << (radix as u32 + o::SLOT_BITS))),
            Cap::SchedContext { ptr, .. } => Some((ptr, 1 << 8)),
            Cap::Frame { paddr, .. } => Some((paddr, 1 << 21)),
            Cap::PageTable { paddr, .. } => Some((paddr, 1 << o::PAGE_TABLE_BITS)),
            Cap::VSpace { paddr, .. } => Some((paddr, 1 << o::VSPACE_BITS)),
            Cap::AsidPool { paddr, .. } => Some((paddr, 1 << o::ASID_POOL_BITS)),
            Cap::Vcpu { ptr } => Some((ptr, 1 << o::VCPU_BITS)),
            // Not physical: no memory behind them.
            _ => None,
        };
        assert_eq!(c.region(), want, "{c:?}");
        assert_eq!(c.object_ptr(), want.map(|r| r.0), "{c:?}");
    }
}

#[test]
fn only_the_null_cap_is_null_and_it_survives_encoding() {
    for c in every_cap() {
        assert_eq!(c.is_null(), c == Cap::Null, "{c:?}");
        assert_eq!(Cap::decode(c.encode()), c, "round trip {c:?}");
    }
    assert_eq!(Cap::decode([0, 0]), Cap::Null);
}

#[test]
fn rights_of_caps_that_carry_them() {
    let ep = Cap::Endpoint {
        ptr: 0x1000,
        badge: 0,
        rights: CapRights::RW,
    };
    assert_eq!(ep.rights(), CapRights::RW);
    // A reply cap has Grant only with seL4's capReplyCanGrant set.
    let granting = Cap::Reply {
        ptr: 0x2000,
        can_grant: true,
    };
    let plain = Cap::Reply {
        ptr: 0x2000,
        can_grant: false,
    };
    assert_eq!(granting.rights(), CapRights::ALL);
    assert_eq!(plain.rights(), CapRights(CapRights::ALL.0 & !CapRights::GRANT));
    // Caps without rights behave as if they had all of them.
    assert_eq!(Cap::Thread { ptr: 0x3000 }.rights(), CapRights::ALL);
}

/// seL4 `updateCapData`: an unbadged endpoint or notification takes the badge unless the
/// operation preserves data (Mutate); a badged one, or preserve, yields the null cap.
#[test]
fn badging_rules_of_update_data() {
    for make in [
        |b| Cap::Endpoint {
            ptr: 0x1000,
            badge: b,
            rights: CapRights::ALL,
        },
        |b| Cap::Notification {
            ptr: 0x1000,
            badge: b,
            rights: CapRights::ALL,
        },
    ] {
        assert_eq!(make(0).update_data(false, 7), make(7));
        assert_eq!(make(0).update_data(true, 7), Cap::Null);
        assert_eq!(make(3).update_data(false, 7), Cap::Null);
        assert_eq!(make(3).update_data(true, 7), Cap::Null);
    }
}

/// seL4 `sameRegionAs` for untyped and frame parents: a child must lie entirely inside,
/// last byte included; one byte out is another region.
#[test]
fn region_containment_is_exact_at_both_ends() {
    let ut = Cap::Untyped {
        paddr: 0x10000,
        size_bits: 12,
        free_index: 0,
        is_device: false,
    };
    let ep = |ptr| Cap::Endpoint {
        ptr,
        badge: 0,
        rights: CapRights::ALL,
    };
    assert!(ut.same_region_as(&ep(0x10000)));
    assert!(ut.same_region_as(&ep(0x10ff0)), "last 16 bytes");
    assert!(!ut.same_region_as(&ep(0x11000)), "just past the end");
    assert!(!ut.same_region_as(&ep(0xfff0)), "just before the start");
    let frame = |paddr, size_bits| Cap::Frame {
        paddr,
        size_bits,
        rights: CapRights::ALL,
        device: false,
        mapped: None,
    };
    let big = frame(0x20_0000, 21);
    assert!(big.same_region_as(&frame(0x20_0000, 12)));
    assert!(big.same_region_as(&frame(0x3f_f000, 12)), "last page");
    assert!(big.same_region_as(&frame(0x20_0000, 21)));
    assert!(!big.same_region_as(&frame(0x40_0000, 12)), "page after the end");
    assert!(!big.same_region_as(&frame(0x1f_f000, 12)), "page before the start");
    assert!(!big.same_region_as(&frame(0x0, 30)), "a larger frame around it");
    assert!(!frame(0x3f_f000, 12).same_region_as(&big));
    // The same object: same base, size and kind of memory.
    assert!(big.same_object_as(&frame(0x20_0000, 21)));
    assert!(!big.same_object_as(&frame(0x20_0000, 12)), "same base, other size");
    let dev = Cap::Frame {
        paddr: 0x20_0000,
        size_bits: 21,
        rights: CapRights::ALL,
        device: true,
        mapped: None,
    };
    assert!(!big.same_object_as(&dev), "device vs RAM");
}

/// seL4 `isCapRevocable`: caps made from IRQControl/IOPortControl, badged copies and
/// untypeds are originals; plain copies are not.
#[test]
fn which_derived_caps_are_originals() {
    let port = Cap::IoPort {
        first: 0x3f8,
        last: 0x3ff,
    };
    assert!(Cap::is_revocable(&port, &Cap::IoPortControl));
    assert!(!Cap::is_revocable(&port, &port));
    let irq = Cap::IrqHandler { irq: 5 };
    assert!(Cap::is_revocable(&irq, &Cap::IrqControl));
    assert!(!Cap::is_revocable(&irq, &irq));
    let ep = |badge| Cap::Endpoint {
        ptr: 0x1000,
        badge,
        rights: CapRights::ALL,
    };
    assert!(Cap::is_revocable(&ep(5), &ep(0)));
    assert!(!Cap::is_revocable(&ep(5), &ep(5)));
    assert!(!Cap::is_revocable(&Cap::Thread { ptr: 0x3000 }, &Cap::Thread { ptr: 0x3000 }));
}
