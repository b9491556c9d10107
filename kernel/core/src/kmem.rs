//! Typed access to kernel objects in physical memory: the only module of the core that
//! uses `unsafe`.
//!
//! Kernel objects live in the physical memory they were retyped from, as in seL4. Every
//! read and write of object memory goes through the functions here, which reach memory only
//! through [`kernel_hal::PhysMem::window`].
//!
//! # Invariants relied upon
//! * The window returned for a range is valid for reads and writes of that many bytes for
//!   the duration of the call, and no Rust reference to that memory exists (the core never
//!   creates references into object memory; it only copies values in and out here).
//! * [`load`] of a [`KernelObject`] type `T` is only done at an address where a `T` was
//!   previously written by [`store`] (or that was zeroed, for types valid when all-zero).
//!   The capability system guarantees this: a cap of a given type only ever points at an
//!   object of that type, which retype initialised.
#![allow(unsafe_code)]

use kernel_hal::{PAddr, PhysMem, UserContext};

use crate::object::{Endpoint, Notification, Refill, Reply, StoredSchedContext, Tcb};

/// A type that may be copied in and out of object memory.
///
/// # Safety
/// The type must be `#[repr(C)]` (or a primitive) and must be valid for the bit patterns
/// that the kernel stores at the addresses it is loaded from (see the module invariants).
/// Types made only of integers and arrays of integers are valid for every bit pattern.
pub unsafe trait KernelObject: Copy + 'static {}

// SAFETY: integers are valid for every bit pattern.
unsafe impl KernelObject for u64 {}
// SAFETY: integers are valid for every bit pattern.
unsafe impl KernelObject for u8 {}
// SAFETY: integers are valid for every bit pattern.
unsafe impl KernelObject for u32 {}
// SAFETY: arrays of integers are valid for every bit pattern.
unsafe impl KernelObject for [u64; 4] {}
// SAFETY: #[repr(C)], integer fields only.
unsafe impl KernelObject for Endpoint {}
// SAFETY: #[repr(C)], integer fields only.
unsafe impl KernelObject for Notification {}
// SAFETY: #[repr(C)], integer fields only.
unsafe impl KernelObject for Reply {}
// SAFETY: #[repr(C)], integer fields only.
unsafe impl KernelObject for StoredSchedContext {}
// SAFETY: #[repr(C)], integer fields only.
unsafe impl KernelObject for Refill {}
// SAFETY: #[repr(C)]; the context field is an arch `UserContext` (plain registers). A
// `Tcb<C>` is only loaded from a TCB object, which retype initialised with `Tcb::new()`
// (module invariants), so the context bytes are always a valid `C`.
unsafe impl<C: UserContext> KernelObject for Tcb<C> {}
// SAFETY: #[repr(C)], integer fields only.
unsafe impl KernelObject for sel4_abi::BootInfo {}

fn window<M: PhysMem + ?Sized>(m: &M, pa: PAddr, len: usize) -> *mut u8 {
    match m.window(pa, len) {
        Some(p) => p,
        // A cap or kernel pointer outside the window means kernel state is corrupt.
        None => panic!("kmem: physical range {pa:#x}+{len:#x} outside the kernel window"),
    }
}

/// Whether `len` bytes at `pa` are in the kernel window.
pub fn in_window<M: PhysMem + ?Sized>(m: &M, pa: PAddr, len: usize) -> bool {
    m.window(pa, len).is_some()
}

/// Copy a `T` out of object memory at `pa`.
pub fn load<T: KernelObject, M: PhysMem + ?Sized>(m: &M, pa: PAddr) -> T {
    let p = window(m, pa, core::mem::size_of::<T>());
    // SAFETY: the window is valid for size_of::<T>() bytes (PhysMem contract); unaligned
    // read tolerates any placement; a valid T lies there (module invariants).
    unsafe { core::ptr::read_unaligned(p as *const T) }
}

/// Copy `v` into object memory at `pa`.
pub fn store<T: KernelObject, M: PhysMem + ?Sized>(m: &M, pa: PAddr, v: &T) {
    let p = window(m, pa, core::mem::size_of::<T>());
    // SAFETY: the window is valid for writes of size_of::<T>() bytes and no reference to
    // it exists (module invariants).
    unsafe { core::ptr::write_unaligned(p as *mut T, *v) }
}

/// Load, modify and store a `T` at `pa`, returning what `f` returns.
pub fn update<T: KernelObject, M: PhysMem + ?Sized, R>(
    m: &M,
    pa: PAddr,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    let mut v: T = load(m, pa);
    let r = f(&mut v);
    store(m, pa, &v);
    r
}

/// Copy the saved registers out of the TCB context field at `pa` (without copying the rest
/// of the TCB).
pub fn load_context<C: UserContext, M: PhysMem + ?Sized>(m: &M, pa: PAddr) -> C {
    let p = window(m, pa, core::mem::size_of::<C>());
    // SAFETY: the window is valid for size_of::<C>() bytes; `pa` is the context field of a
    // TCB, which retype initialised and only `store`/`store_context` write, so a valid `C`
    // lies there (the same invariant the `Tcb<C>` impl of `KernelObject` relies on).
    unsafe { core::ptr::read_unaligned(p as *const C) }
}

/// Copy `c` into the TCB context field at `pa` (without touching the rest of the TCB).
pub fn store_context<C: UserContext, M: PhysMem + ?Sized>(m: &M, pa: PAddr, c: &C) {
    let p = window(m, pa, core::mem::size_of::<C>());
    // SAFETY: the window is valid for writes of size_of::<C>() bytes and no reference to
    // it exists (module invariants).
    unsafe { core::ptr::write_unaligned(p as *mut C, *c) }
}

/// Read the word at `pa` (one load when the window address is 8-byte aligned, as object
/// fields are; targets without unaligned access otherwise read it byte by byte). The aligned
/// access is volatile only so that the compiler cannot merge the two branches into the
/// byte-wise unaligned form.
#[inline]
pub fn read_word<M: PhysMem + ?Sized>(m: &M, pa: PAddr) -> u64 {
    let p = window(m, pa, 8) as *const u64;
    if p.is_aligned() {
        // SAFETY: the window is valid for 8 bytes (PhysMem contract), `p` is aligned, and
        // every bit pattern is a valid u64.
        unsafe { p.read_volatile() }
    } else {
        // SAFETY: as above; an unaligned read tolerates any placement.
        unsafe { p.read_unaligned() }
    }
}

/// Write the word at `pa` (one store when the window address is 8-byte aligned; volatile for
/// the same reason as [`read_word`]).
#[inline]
pub fn write_word<M: PhysMem + ?Sized>(m: &M, pa: PAddr, v: u64) {
    let p = window(m, pa, 8) as *mut u64;
    if p.is_aligned() {
        // SAFETY: the window is valid for writes of 8 bytes, `p` is aligned, and no
        // reference to that memory exists (module invariants).
        unsafe { p.write_volatile(v) }
    } else {
        // SAFETY: as above; an unaligned write tolerates any placement.
        unsafe { p.write_unaligned(v) }
    }
}

/// Zero `len` bytes at `pa`.
pub fn zero<M: PhysMem + ?Sized>(m: &M, pa: PAddr, len: u64) {
    // Work in chunks so that a window only has to cover one chunk at a time.
    const CHUNK: u64 = 1 << 12;
    let mut off = 0;
    while off < len {
        let n = core::cmp::min(CHUNK - ((pa + off) % CHUNK), len - off) as usize;
        let p = window(m, pa + off, n);
        // SAFETY: the window is valid for writes of n bytes, no reference to it exists.
        unsafe { core::ptr::write_bytes(p, 0, n) };
        off += n as u64;
    }
}

/// Copy bytes out of physical memory at `pa` into `out`.
pub fn read_bytes<M: PhysMem + ?Sized>(m: &M, pa: PAddr, out: &mut [u8]) {
    let p = window(m, pa, out.len());
    // SAFETY: the window is valid for reads of out.len() bytes; `out` is a distinct Rust
    // buffer, so the ranges do not overlap.
    unsafe { core::ptr::copy_nonoverlapping(p as *const u8, out.as_mut_ptr(), out.len()) };
}

/// Copy `data` into physical memory at `pa`.
pub fn write_bytes<M: PhysMem + ?Sized>(m: &M, pa: PAddr, data: &[u8]) {
    let p = window(m, pa, data.len());
    // SAFETY: the window is valid for writes of data.len() bytes; `data` is a distinct Rust
    // buffer, so the ranges do not overlap.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
}
