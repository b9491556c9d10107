//! Endpoint object layout (16 bytes, `seL4_EndpointBits` = 4).

use kernel_hal::PAddr;

/// An endpoint's queue state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointState {
    /// No thread queued.
    Idle = 0,
    /// Threads queued to send.
    Send = 1,
    /// Threads queued to receive.
    Recv = 2,
}

/// An endpoint: a queue of TCBs (linked through their `ep_next`/`ep_prev` fields).
///
/// `tail_state` packs the tail TCB's physical address (TCBs are 2 KiB aligned) with the
/// [`EndpointState`] in bits 1..0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Endpoint {
    /// First queued TCB (0 = none).
    pub head: u64,
    /// Last queued TCB | state.
    pub tail_state: u64,
}

const _: () = assert!(core::mem::size_of::<Endpoint>() <= 1 << sel4_abi::object::ENDPOINT_BITS);

impl Endpoint {
    /// The queue state.
    pub fn state(&self) -> EndpointState {
        match self.tail_state & 3 {
            1 => EndpointState::Send,
            2 => EndpointState::Recv,
            _ => EndpointState::Idle,
        }
    }
    /// The tail TCB (0 = none).
    pub fn tail(&self) -> PAddr {
        self.tail_state & !3
    }
    /// Set tail and state together.
    pub fn set_tail_state(&mut self, tail: PAddr, s: EndpointState) {
        self.tail_state = (tail & !3) | s as u64;
    }
}
