//! Typed access to kernel objects in physical memory: the only module of the core that
//! uses `unsafe`.
//!
//! Kernel objects live in the physical memory they were retyped from, as in seL4. Every
//! read and write of object memory goes through the functions here, which reach memory only
//! through [`kernel_hal::PhysMem::window`].
//!
//! Two disciplines of access are offered:
//! * **Copies** ([`load`], [`store`], [`update`], the word and byte functions): a value is
//!   copied out of object memory or into it. Cheap for small objects (endpoints, reply
//!   objects, notifications, cap slots) and for single words; for a TCB (over 1 KiB with
//!   the register file) a whole-object copy costs about one instruction per byte, so hot
//!   paths do not copy TCBs.
//! * **Scoped references** ([`with_ref`], [`with_mut`]): a `&T` or `&mut T` that points
//!   straight into object memory is handed to a function for the duration of one call,
//!   so touching one field of a TCB costs one load or store.
//!
//! # Invariants relied upon
//! * The window returned for a range is valid for reads and writes of that many bytes for
//!   the duration of the call.
//! * Outside a scoped access no Rust reference into object memory exists: the copy
//!   functions only move values in and out through raw pointers.
//! * A scoped access is **exclusive**: while the `&T`/`&mut T` of [`with_ref`]/[`with_mut`]
//!   lives, nothing else reads or writes object memory. This is enforced by the shape of
//!   the function that receives the reference: it is a plain `fn` pointer (a closure that
//!   captures nothing), so it cannot reach the kernel, its machine or any other path into
//!   object memory, and its extra argument must be a [`Value`] (plain data, sealed to this
//!   module). The core keeps no global path to object memory either, and the kernel runs
//!   on one core with interrupts masked, so no other code runs during the call (a panic
//!   inside it ends the kernel).
//! * **No escaping references**: the function is generic over the reference's lifetime
//!   (`for<'a> fn(&'a T) -> R`, `for<'a> fn(&'a mut T, A) -> R`), so its result `R` cannot
//!   borrow from the object.
//! * **Aligned**: every typed access ([`load`], [`store`], the word functions, scoped
//!   references) checks that the pointer is aligned for its type and panics otherwise.
//!   Objects are aligned to their size by retype and every word the kernel addresses lies
//!   at a multiple of 8 inside one (IPC buffers are 512-byte aligned), so a misaligned
//!   address means corrupt kernel state. Aligned accesses also matter for speed: on a
//!   target with strict alignment (the AArch64 kernel) an unaligned `u64` read compiles
//!   to eight byte loads. Only [`read_bytes`]/[`write_bytes`]/[`zero`] take any address.
//! * **Checked handles** ([`Obj`], from [`obj`]): the window check and alignment check of
//!   one object done once, for several accesses to it along a hot path (the fastpath reads
//!   a TCB and writes it later). A handle borrows the [`PhysMem`] shared, and a window
//!   pointer stays valid while the memory is borrowed: the kernel's window is a fixed
//!   mapping of physical memory, and the simulator's memory is never reallocated (only
//!   `&mut` access could). Each access through a handle follows the rules above (copies
//!   through raw pointers; scoped references with a capture-free `fn`), so a handle adds
//!   no new way for two references to one object to coexist.
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
// SAFETY: arrays of integers are valid for every bit pattern.
unsafe impl KernelObject for [u64; 2] {}
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
// SAFETY: #[repr(C)]; not valid for every bit pattern (enum and `Option` fields), but only
// ever loaded from the kernel-owned region `Kernel::init_nodes` fills with valid values and
// `Kernel::switch_node` stores valid values to; no capability names that memory.
#[cfg(feature = "smp")]
unsafe impl KernelObject for crate::node::NodeState {}
// SAFETY: #[repr(C)]; the context field is an arch `UserContext` (plain registers). A
// `Tcb<C>` is only loaded from a TCB object, which retype initialised with `Tcb::new()`
// (module invariants), so the context bytes are always a valid `C`.
unsafe impl<C: UserContext> KernelObject for Tcb<C> {}
// SAFETY: #[repr(C)], integer fields only.
unsafe impl KernelObject for sel4_abi::BootInfo {}

#[inline(always)]
fn window<M: PhysMem + ?Sized>(m: &M, pa: PAddr, len: usize) -> *mut u8 {
    match m.window(pa, len) {
        Some(p) => p,
        // A cap or kernel pointer outside the window means kernel state is corrupt.
        None => outside_window(pa, len),
    }
}

/// The panic of [`window`], out of line so the hot paths only carry a compare and a branch.
#[cold]
#[inline(never)]
fn outside_window(pa: PAddr, len: usize) -> ! {
    panic!("kmem: physical range {pa:#x}+{len:#x} outside the kernel window")
}

/// The panic of [`aligned_window`], out of line like [`outside_window`].
#[cold]
#[inline(never)]
fn misaligned(pa: PAddr) -> ! {
    // Objects are aligned to their size by retype: a misaligned one is corrupt state.
    panic!("kmem: object at {pa:#x} misaligned")
}

/// Whether `len` bytes at `pa` are in the kernel window.
pub fn in_window<M: PhysMem + ?Sized>(m: &M, pa: PAddr, len: usize) -> bool {
    m.window(pa, len).is_some()
}

/// Plain data that may be passed into a scoped access ([`with_ref`], [`with_mut`]): no
/// references, so nothing that could reach object memory. Sealed: implemented here only.
pub trait Value: Copy + 'static + sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
}

macro_rules! plain_values {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Value for $t {}
    )*};
}
plain_values!((), bool, u8, u16, u32, u64, usize, i64);
impl<T: Value, const N: usize> sealed::Sealed for [T; N] {}
impl<T: Value, const N: usize> Value for [T; N] {}
impl<A: Value, B: Value> sealed::Sealed for (A, B) {}
impl<A: Value, B: Value> Value for (A, B) {}
impl<A: Value, B: Value, C: Value> sealed::Sealed for (A, B, C) {}
impl<A: Value, B: Value, C: Value> Value for (A, B, C) {}
impl<A: Value, B: Value, C: Value, D: Value> sealed::Sealed for (A, B, C, D) {}
impl<A: Value, B: Value, C: Value, D: Value> Value for (A, B, C, D) {}
impl sealed::Sealed for crate::object::ThreadState {}
impl Value for crate::object::ThreadState {}

/// The window pointer for a `T` at `pa`, checked to be aligned for `T`.
#[inline(always)]
fn aligned_window<T, M: PhysMem + ?Sized>(m: &M, pa: PAddr) -> *mut T {
    let p = window(m, pa, core::mem::size_of::<T>()) as *mut T;
    if !p.is_aligned() {
        misaligned(pa);
    }
    p
}

/// Call `f` with a shared reference to the `T` at `pa`, without copying the object:
/// reading one field costs one load. See the module invariants (scoped access).
#[inline(always)]
pub fn with_ref<T: KernelObject, R, M: PhysMem + ?Sized>(
    m: &M,
    pa: PAddr,
    f: for<'a> fn(&'a T) -> R,
) -> R {
    let p = aligned_window::<T, M>(m, pa);
    // SAFETY: `p` is valid for reads of a `T` (window contract), aligned (checked), and a
    // valid `T` lies there (module invariants). The reference lives only during `f`, which
    // cannot reach object memory (a capture-free `fn` without arguments), so nothing
    // writes the object while it lives, and `f`'s result cannot borrow from it.
    f(unsafe { &*p })
}

/// Call `f` with an exclusive reference to the `T` at `pa` (and `arg`), without copying
/// the object: writing one field costs one store. See the module invariants (scoped access).
#[inline(always)]
pub fn with_mut<T: KernelObject, A: Value, R, M: PhysMem + ?Sized>(
    m: &M,
    pa: PAddr,
    arg: A,
    f: for<'a> fn(&'a mut T, A) -> R,
) -> R {
    let p = aligned_window::<T, M>(m, pa);
    // SAFETY: `p` is valid for reads and writes of a `T` (window contract), aligned
    // (checked), and a valid `T` lies there (module invariants); `f` may only store valid
    // `T` field values through the reference. The reference is the only one to the object
    // while it lives: `f` cannot reach object memory by any other path (a capture-free
    // `fn` with a `Value` argument), no other scoped access is active (none can be opened
    // inside `f`), and `f`'s result cannot borrow from it.
    f(unsafe { &mut *p }, arg)
}

/// A `T` in object memory whose window and alignment were checked once ([`obj`]): its
/// accesses cost a load or store each, without a further check. See the module invariants
/// (checked handles).
pub struct Obj<'m, T> {
    p: *mut T,
    _mem: core::marker::PhantomData<&'m ()>,
}

impl<T> Clone for Obj<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Obj<'_, T> {}

/// The checked handle of the `T` at `pa` (panics, as the other accesses do, if it is
/// outside the window or misaligned). It lives as long as the shared borrow of `m`.
#[inline(always)]
pub fn obj<T: KernelObject, M: PhysMem + ?Sized>(m: &M, pa: PAddr) -> Obj<'_, T> {
    Obj {
        p: aligned_window::<T, M>(m, pa),
        _mem: core::marker::PhantomData,
    }
}

impl<T: KernelObject> Obj<'_, T> {
    /// [`with_ref`] through the handle.
    #[inline(always)]
    pub fn with_ref<R>(self, f: for<'a> fn(&'a T) -> R) -> R {
        // SAFETY: `p` was checked to be in the window and aligned when the handle was made,
        // and stays valid while the memory is borrowed, which the handle's lifetime ensures
        // (module invariants); a valid `T` lies there. As in [`with_ref`], the reference
        // lives only during `f`, which cannot reach object memory, and cannot escape.
        f(unsafe { &*self.p })
    }

    /// [`with_mut`] through the handle.
    #[inline(always)]
    pub fn with_mut<A: Value, R>(self, arg: A, f: for<'a> fn(&'a mut T, A) -> R) -> R {
        // SAFETY: `p` is valid for reads and writes of an aligned, valid `T` (checked when
        // the handle was made, kept valid by its lifetime: module invariants). As in
        // [`with_mut`], the reference is the only one to the object while `f` runs (a
        // capture-free `fn` with a `Value` argument opens no other access), and cannot escape.
        f(unsafe { &mut *self.p }, arg)
    }

    /// [`load`] through the handle.
    #[inline(always)]
    pub fn load(self) -> T {
        // SAFETY: valid, aligned `T` (checked when the handle was made, kept valid by its
        // lifetime); no reference to it exists outside a scoped access.
        unsafe { self.p.read() }
    }

    /// [`store`] through the handle.
    #[inline(always)]
    pub fn store(self, v: &T) {
        // SAFETY: valid for writes of an aligned `T` (checked when the handle was made, kept
        // valid by its lifetime); no reference to it exists outside a scoped access.
        unsafe { self.p.write(*v) }
    }
}

/// Copy a `T` out of object memory at `pa` (aligned for `T`, see the module invariants).
#[inline]
pub fn load<T: KernelObject, M: PhysMem + ?Sized>(m: &M, pa: PAddr) -> T {
    let p = aligned_window::<T, M>(m, pa);
    // SAFETY: the window is valid for size_of::<T>() bytes (PhysMem contract), `p` is
    // aligned (checked) and a valid T lies there (module invariants).
    unsafe { p.read() }
}

/// Copy `v` into object memory at `pa` (aligned for `T`, see the module invariants).
#[inline]
pub fn store<T: KernelObject, M: PhysMem + ?Sized>(m: &M, pa: PAddr, v: &T) {
    let p = aligned_window::<T, M>(m, pa);
    // SAFETY: the window is valid for writes of size_of::<T>() bytes, `p` is aligned
    // (checked) and no reference to it exists (module invariants).
    unsafe { p.write(*v) }
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
    let p = aligned_window::<C, M>(m, pa);
    // SAFETY: the window is valid for size_of::<C>() bytes and `p` is aligned (checked);
    // `pa` is the context field of a TCB, which retype initialised and only
    // `store`/`store_context` write, so a valid `C` lies there (the same invariant the
    // `Tcb<C>` impl of `KernelObject` relies on).
    unsafe { p.read() }
}

/// Copy `c` into the TCB context field at `pa` (without touching the rest of the TCB).
pub fn store_context<C: UserContext, M: PhysMem + ?Sized>(m: &M, pa: PAddr, c: &C) {
    let p = aligned_window::<C, M>(m, pa);
    // SAFETY: the window is valid for writes of size_of::<C>() bytes, `p` is aligned
    // (checked) and no reference to it exists (module invariants).
    unsafe { p.write(*c) }
}

/// Read the word at `pa`.
#[inline]
pub fn read_word<M: PhysMem + ?Sized>(m: &M, pa: PAddr) -> u64 {
    load::<u64, M>(m, pa)
}

/// Write the word at `pa`.
#[inline]
pub fn write_word<M: PhysMem + ?Sized>(m: &M, pa: PAddr, v: u64) {
    store::<u64, M>(m, pa, &v)
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
