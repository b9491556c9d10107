//! What the initialiser adds to sel4-root's runtime (entry, stack and panic handler come from
//! there; the entry calls `root_main` in `apply`): a heap, the console macro, and stopping.

// Links sel4-root's `_start` and panic handler.
use sel4_root as _;

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

/// Heap for decoding the spec and bookkeeping (bump allocator; nothing is freed).
const HEAP_SIZE: usize = 1 << 20;

#[repr(C, align(4096))]
struct Heap([u8; HEAP_SIZE]);

static mut HEAP: Heap = Heap([0; HEAP_SIZE]);
static HEAP_NEXT: AtomicUsize = AtomicUsize::new(0);

struct Bump;

// SAFETY: `alloc` hands out disjoint, suitably aligned ranges of `HEAP` (the offset only grows,
// under an atomic compare-exchange) and returns null when it is exhausted; `dealloc` is a no-op.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = core::ptr::addr_of_mut!(HEAP) as usize;
        let mut cur = HEAP_NEXT.load(Ordering::Relaxed);
        loop {
            let start = (base + cur).next_multiple_of(layout.align()) - base;
            let Some(end) = start.checked_add(layout.size()) else { return core::ptr::null_mut() };
            if end > HEAP_SIZE {
                return core::ptr::null_mut();
            }
            match HEAP_NEXT.compare_exchange(cur, end, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return (base + start) as *mut u8,
                Err(c) => cur = c,
            }
        }
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Bump = Bump;

/// Prints to the kernel debug console.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!(sel4_sys::syscall::DebugWriter, $($arg)*);
    }};
}

/// Stops this thread for good.
pub fn halt() -> ! {
    let _ = sel4_sys::ops::tcb_suspend(sel4_sys::init_caps::TCB);
    loop {
        sel4_sys::syscall::yield_now();
    }
}
