//! Kernel object layouts in physical memory (`#[repr(C)]`, pointers stored as physical
//! addresses), with compile-time checks that each fits its seL4 object size.
//!
//! Behaviour lives elsewhere: CNode slots in [`crate::cspace`]/[`crate::mdb`], retype in
//! [`crate::untyped`]; threads, IPC and scheduling are built on these layouts.

pub mod cnode;
pub mod endpoint;
pub mod notification;
pub mod reply;
pub mod sched_context;
pub mod tcb;

pub use cnode::{Slot, SLOT_BYTES};
pub use endpoint::{Endpoint, EndpointState};
pub use notification::{Notification, NotificationState};
pub use reply::Reply;
pub use sched_context::{
    Refill, SchedContext, StoredSchedContext, SC_HEADER_BYTES as SCHED_CONTEXT_HEADER_BYTES,
};
pub use tcb::{Tcb, TcbSlot, ThreadState, TCB_SLOTS};
