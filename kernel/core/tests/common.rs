//! Shared helpers for the invocation tests.
#![allow(dead_code, unused_imports)]

pub use kernel_core::cap::Cap;
pub use kernel_core::mdb::get_cap;
pub use kernel_core::object::Slot;
pub use kernel_core::sim::harness::*;
pub use kernel_core::sim::SimMachine;
pub use kernel_core::Kernel;
pub use sel4_abi::bootinfo::slots;
pub use sel4_abi::{Arch, CapRights, Error, Label, ObjectKind};

pub type K = Kernel<SimMachine>;
pub const ROOT: u64 = slots::INIT_THREAD_CNODE;

pub fn boot() -> K {
    boot_sim(Arch::Aarch64)
}

pub fn root_ptr(k: &K) -> u64 {
    let Cap::CNode { ptr, .. } = k.cspace_root(k.cur_thread) else {
        panic!("no root")
    };
    ptr
}

pub fn cap_at(k: &K, i: u64) -> Cap {
    get_cap(&k.machine, Slot::at(root_ptr(k), i))
}

pub fn ty(k: &K, kind: ObjectKind) -> u64 {
    sel4_abi::object_type_number(k.arch, kind).unwrap()
}

/// First untyped slot of at least `bits` bytes that is RAM.
pub fn untyped(k: &K, bits: u8) -> u64 {
    let bi = bootinfo(k);
    (bi.untyped.start..bi.untyped.end)
        .find(|s| {
            let d = bi.untyped_list[(s - bi.untyped.start) as usize];
            d.is_device == 0 && d.size_bits >= bits
        })
        .expect("untyped")
}

pub fn device_untyped(k: &K) -> u64 {
    let bi = bootinfo(k);
    (bi.untyped.start..bi.untyped.end)
        .find(|s| bi.untyped_list[(s - bi.untyped.start) as usize].is_device == 1)
        .expect("device untyped")
}

pub fn empty(k: &K) -> u64 {
    bootinfo(k).empty.start
}

pub fn retype(k: &mut K, ut: u64, kind: ObjectKind, size: u64, dest: u64, n: u64) -> Reply {
    let t = ty(k, kind);
    call(
        k,
        ut,
        Label::UntypedRetype as u64,
        &[t, size, 0, 0, dest, n],
        &[ROOT],
    )
}

pub fn ok(r: &Reply) {
    assert_eq!(r.label, 0, "expected success, got {r:?}");
}

pub fn err(r: &Reply, e: Error, mrs: &[u64]) {
    assert_eq!(r.label, e as u64, "expected {e:?}, got {r:?}");
    assert_eq!(r.mrs, mrs, "error MRs for {e:?}");
}

pub fn copy(k: &mut K, dest: u64, src: u64, rights: u64) -> Reply {
    call(
        k,
        ROOT,
        Label::CNodeCopy as u64,
        &[dest, 64, src, 64, rights],
        &[ROOT],
    )
}

pub fn mint(k: &mut K, dest: u64, src: u64, rights: u64, data: u64) -> Reply {
    call(
        k,
        ROOT,
        Label::CNodeMint as u64,
        &[dest, 64, src, 64, rights, data],
        &[ROOT],
    )
}

pub fn delete(k: &mut K, slot: u64) -> Reply {
    call(k, ROOT, Label::CNodeDelete as u64, &[slot, 64], &[])
}

pub fn revoke(k: &mut K, slot: u64) -> Reply {
    call(k, ROOT, Label::CNodeRevoke as u64, &[slot, 64], &[])
}
