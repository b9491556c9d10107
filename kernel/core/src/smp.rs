//! Multicore support (`docs/smp.md`): the big kernel lock, defined in `kernel-hal` so that
//! the arch trap layer can take it on every kernel entry, and re-exported here for the core.

pub use kernel_hal::smp::{with_kernel_lock, TicketLock, BIG_KERNEL_LOCK};
