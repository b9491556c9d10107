//! Notification object layout (64 bytes under MCS, `seL4_NotificationBits` = 6).

/// A notification's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationState {
    /// Nothing pending, nobody waiting.
    Idle = 0,
    /// Threads waiting (queue non-empty).
    Waiting = 1,
    /// A signal is pending (`word` non-zero).
    Active = 2,
}

/// A notification: a badge word, a wait queue, an optional bound TCB and bound SC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Notification {
    /// [`NotificationState`] as a number.
    pub state: u64,
    /// The pending badge bits (`ntfnMsgIdentifier`).
    pub word: u64,
    /// First waiting TCB (0 = none); TCBs link through `ep_next`/`ep_prev`.
    pub queue_head: u64,
    /// Last waiting TCB (0 = none).
    pub queue_tail: u64,
    /// The TCB bound with `TCB_BindNotification` (0 = none).
    pub bound_tcb: u64,
    /// The SchedContext bound with `SchedContext_Bind` (0 = none).
    pub sched_context: u64,
}

const _: () =
    assert!(core::mem::size_of::<Notification>() <= 1 << sel4_abi::object::NOTIFICATION_BITS);

impl Notification {
    /// The state.
    pub fn get_state(&self) -> NotificationState {
        match self.state {
            1 => NotificationState::Waiting,
            2 => NotificationState::Active,
            _ => NotificationState::Idle,
        }
    }
}
