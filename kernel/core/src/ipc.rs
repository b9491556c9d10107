//! IPC entry points: endpoint send/receive, notifications, replies and fault delivery.
//!
//! These are the hooks the syscall and invocation layers call. The current bodies are
//! minimal and behave like seL4 with no partner present: a non-blocking send is dropped, a
//! signal is recorded in the notification word, a non-blocking receive returns badge 0 with
//! an empty message. Blocking operations and fault delivery are to be implemented here.

use kernel_hal::{Machine, PAddr, Reg};
use sel4_abi::{CapRights, MessageInfo};

use crate::fault::Fault;
use crate::kernel::Kernel;
use crate::kmem;
use crate::object::{Notification, NotificationState};

/// seL4 `sendIPC`: `thread` sends on endpoint `ep` with the cap's `badge` and rights.
/// `blocking`/`do_call` come from the syscall; `can_donate` allows SC donation (MCS).
#[allow(clippy::too_many_arguments)]
pub fn send_ipc<M: Machine>(
    _k: &mut Kernel<M>,
    _thread: PAddr,
    _ep: PAddr,
    _badge: u64,
    _rights: CapRights,
    _blocking: bool,
    _do_call: bool,
    _can_donate: bool,
) {
    // No receiver handling yet: the message is dropped, as for a non-blocking send.
}

/// seL4 `sendSignal`: OR `badge` into the notification word (waking a waiter is TODO).
pub fn send_signal<M: Machine>(k: &mut Kernel<M>, ntfn: PAddr, badge: u64) {
    kmem::update::<Notification, _, _>(&k.machine, ntfn, |n| {
        if n.get_state() != NotificationState::Waiting {
            n.word |= badge;
            n.state = NotificationState::Active as u64;
        }
    });
}

/// seL4 `doReplyTransfer` (MCS): `sender` replies through reply object `reply`.
pub fn do_reply_transfer<M: Machine>(_k: &mut Kernel<M>, _sender: PAddr, _reply: PAddr, _grant: bool) {
    // Replying on an empty reply object succeeds and does nothing.
}

/// seL4 `handleRecv`: the current thread receives on the cap in its cap register
/// (`blocking`: Recv/Wait vs NB*, `with_reply`: Recv vs Wait).
pub fn handle_recv<M: Machine>(k: &mut Kernel<M>, _blocking: bool, _with_reply: bool) {
    let t = k.cur_thread;
    // Minimal behaviour: nothing pending, deliver badge 0 and an empty message.
    k.set_reg(t, Reg::Cap, 0);
    k.set_reg(t, Reg::MsgInfo, MessageInfo::new(0, 0, 0, 0).to_word());
}

/// Deliver fault `f` of thread `t` to its fault handler. Returns false if there is no
/// handler to deliver to (the caller then makes `t` Inactive).
pub fn send_fault_ipc<M: Machine>(_k: &mut Kernel<M>, _t: PAddr, _f: &Fault) -> bool {
    false
}

/// seL4 `cancelIPC`: remove `t` from whatever IPC queue it is blocked in.
pub fn cancel_ipc<M: Machine>(_k: &mut Kernel<M>, _t: PAddr) {}

/// seL4 `cancelAllIPC`: restart every thread queued on endpoint `ep` (endpoint finalise).
pub fn cancel_all_ipc<M: Machine>(_k: &mut Kernel<M>, _ep: PAddr) {}

/// seL4 `cancelAllSignals`: restart every thread waiting on `ntfn` (notification finalise).
pub fn cancel_all_signals<M: Machine>(_k: &mut Kernel<M>, _ntfn: PAddr) {}

/// seL4 `cancelBadgedSends`: restart senders on `ep` that used `badge`.
pub fn cancel_badged_sends<M: Machine>(_k: &mut Kernel<M>, _ep: PAddr, _badge: u64) {}

/// Unbind a notification from its TCB (notification finalise / TCB finalise).
pub fn unbind_notification<M: Machine>(k: &mut Kernel<M>, ntfn: PAddr) {
    let tcb = kmem::load::<Notification, _>(&k.machine, ntfn).bound_tcb;
    if tcb != 0 {
        k.update_tcb(tcb, |t| t.bound_notification = 0);
        kmem::update::<Notification, _, _>(&k.machine, ntfn, |n| n.bound_tcb = 0);
    }
}

/// Reply-object finalise (MCS `reply_remove`/`reply_clear`).
pub fn reply_finalise<M: Machine>(_k: &mut Kernel<M>, _reply: PAddr) {}
