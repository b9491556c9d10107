//! [`KernelGlobal`]: a kernel global that is only ever touched by one core with interrupts
//! masked, handed out as `&mut` through a closure and guarded against re-entrance.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A global value accessed only through [`KernelGlobal::with`].
///
/// # Invariants
/// The kernel runs on one core with interrupts masked, so accesses never race; nested
/// `with` calls on the same global (which would create two `&mut`) panic instead.
pub struct KernelGlobal<T> {
    busy: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: access is serialised by the single-core, interrupts-masked kernel and the `busy`
// flag rules out overlapping `&mut` borrows.
unsafe impl<T: Send> Sync for KernelGlobal<T> {}

impl<T> KernelGlobal<T> {
    /// A global holding `v`.
    pub const fn new(v: T) -> Self {
        KernelGlobal {
            busy: AtomicBool::new(false),
            value: UnsafeCell::new(v),
        }
    }

    /// Run `f` with exclusive access to the value. Panics if called re-entrantly.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        if self.busy.swap(true, Ordering::Acquire) {
            panic!("KernelGlobal accessed re-entrantly");
        }
        // SAFETY: `busy` was false, so no other `&mut` to the value exists (see Invariants).
        let r = f(unsafe { &mut *self.value.get() });
        self.busy.store(false, Ordering::Release);
        r
    }

    /// A raw pointer to the value, e.g. a context handed to the trap assembly. Using it
    /// while a `with` borrow is live is the caller's responsibility.
    pub fn as_ptr(&self) -> *mut T {
        self.value.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_gives_exclusive_access() {
        static G: KernelGlobal<u32> = KernelGlobal::new(1);
        G.with(|v| *v += 1);
        assert_eq!(G.with(|v| *v), 2);
    }

    #[test]
    #[should_panic(expected = "re-entrantly")]
    fn reentrance_panics() {
        static G: KernelGlobal<u32> = KernelGlobal::new(1);
        G.with(|_| G.with(|_| ()));
    }
}
