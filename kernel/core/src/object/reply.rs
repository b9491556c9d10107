//! Reply object layout (MCS, 32 bytes, `seL4_ReplyBits` = 5).

/// A reply object: links a caller blocked on reply to the call stack of scheduling
/// contexts (`replyPrev`/`replyNext` in seL4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Reply {
    /// The caller TCB waiting for this reply (0 = none).
    pub tcb: u64,
    /// Previous reply object on the SC call stack (0 = none).
    pub prev: u64,
    /// Next element: a reply object, or the SC at the head of the stack (see `next_is_sc`).
    pub next: u64,
    /// 1 if `next` is a SchedContext (the stack head), 0 if it is a reply object.
    pub next_is_sc: u64,
}

const _: () = assert!(core::mem::size_of::<Reply>() <= 1 << sel4_abi::object::REPLY_BITS);
