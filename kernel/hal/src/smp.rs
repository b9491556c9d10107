//! Multicore support shared by the core and the arches (phase 1 of `docs/smp.md`): the big
//! kernel lock. It lives here, below both, because the arch trap layer takes it on every
//! kernel entry.
//!
//! seL4's SMP kernel serialises all kernel work with one lock: every kernel entry (system
//! call, fault, interrupt) takes it before touching kernel state and releases it just before
//! returning to user mode, so kernel transitions stay sequential and the single-core
//! reasoning about them still holds. We do the same. The lock is a ticket lock: cores are
//! served in the order they asked, so none starves (seL4 uses a queue lock with the same
//! first-come, first-served order).
//!
//! Only kernels built with the platform crates' `smp` feature take the lock (the arch crates'
//! trap entry, under their own `smp` feature); the
//! uniprocessor kernel (the default) has no lock code on its entry paths at all, as seL4's
//! single-node build has none.

use core::sync::atomic::{AtomicU32, Ordering};

/// A first-come, first-served spin lock: [`TicketLock::lock`] takes the next ticket and
/// waits until it is served; [`TicketLock::unlock`] serves the next ticket.
///
/// It guards no data of its own (the kernel state it protects is reached through the
/// platform's globals); holding it is a protocol, checked by [`TicketLock::is_locked`] in
/// debug assertions. Tickets wrap around at 2^32, which is harmless while fewer than 2^32
/// cores wait at once.
pub struct TicketLock {
    /// The next ticket to hand out.
    next: AtomicU32,
    /// The ticket being served (its holder owns the lock).
    serving: AtomicU32,
}

impl TicketLock {
    /// An unlocked lock.
    pub const fn new() -> Self {
        TicketLock {
            next: AtomicU32::new(0),
            serving: AtomicU32::new(0),
        }
    }

    /// Wait until this caller holds the lock; returns its ticket. Acquire ordering: the
    /// previous holder's writes are visible afterwards.
    pub fn lock(&self) -> u32 {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        while self.serving.load(Ordering::Acquire) != ticket {
            wait_for_unlock();
        }
        ticket
    }

    /// Release the lock (the caller must hold it). Release ordering: this holder's writes are
    /// visible to the next one.
    pub fn unlock(&self) {
        debug_assert!(self.is_locked(), "unlock of a free ticket lock");
        // Only the holder writes `serving`, so a load and a store suffice.
        let s = self.serving.load(Ordering::Relaxed);
        self.serving.store(s.wrapping_add(1), Ordering::Release);
        wake_waiters();
    }

    /// Whether some core holds the lock (or waits for it).
    pub fn is_locked(&self) -> bool {
        self.next.load(Ordering::Relaxed) != self.serving.load(Ordering::Relaxed)
    }

    /// Cores waiting for the lock besides its holder (0 when free or held without waiters).
    pub fn waiters(&self) -> u32 {
        let n = self.next.load(Ordering::Relaxed);
        let s = self.serving.load(Ordering::Relaxed);
        n.wrapping_sub(s).saturating_sub(1)
    }
}

impl Default for TicketLock {
    fn default() -> Self {
        Self::new()
    }
}

/// The big kernel lock of an SMP kernel: taken on every kernel entry, released on the way
/// back to user mode (and around waiting for interrupts when a core idles).
pub static BIG_KERNEL_LOCK: TicketLock = TicketLock::new();

/// Run `f` holding the big kernel lock (boot-time work of a secondary core, such as its
/// bring-up line on the debug console).
pub fn with_kernel_lock<R>(f: impl FnOnce() -> R) -> R {
    BIG_KERNEL_LOCK.lock();
    let r = f();
    BIG_KERNEL_LOCK.unlock();
    r
}

/// A waiter's pause between two looks at the lock. On AArch64 `wfe`: the core sleeps until an
/// event (the `sev` of [`wake_waiters`], or any interrupt or event), instead of hammering the
/// lock's line; under QEMU it also hands the host CPU to the other vCPUs, one of which holds
/// the lock. No wake-up is lost: an `sev` between the waiter's look and its `wfe` leaves the
/// event register set, and that `wfe` returns at once.
#[inline(always)]
fn wait_for_unlock() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `wfe` only suspends this core until the next event; no memory or register
    // effect.
    unsafe {
        core::arch::asm!("wfe", options(nomem, nostack, preserves_flags))
    };
    #[cfg(not(target_arch = "aarch64"))]
    core::hint::spin_loop();
}

/// The unlocker's half of [`wait_for_unlock`] (AArch64 `sev` after the releasing store, which
/// the `dsb` orders before the event).
#[inline(always)]
fn wake_waiters() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `dsb ish` + `sev` only order memory and signal an event to every core.
    unsafe {
        core::arch::asm!("dsb ish", "sev", options(nostack, preserves_flags))
    };
}
