//! Deleting caps and finalising objects (seL4 `cteDelete`, `finaliseCap`, `reduceZombie`,
//! `cteRevoke`), without recursion on the kernel stack.
//!
//! Deleting the last cap to a CNode or TCB turns it into a [`Cap::Zombie`] that counts the
//! object's slots still to be emptied. Emptying a slot that holds the last cap to another
//! CNode/TCB turns that slot into a zombie too, forming a chain: each zombie's current
//! slot (`remaining - 1`) leads to the next. [`delete_slot`] repeatedly walks the chain
//! from the top slot to its deepest zombie and makes one step of progress there, so the
//! kernel stack use is constant. A zombie found again on its own chain (a CNode holding
//! the last cap to itself, directly or through others) is skipped, as seL4 does for
//! cyclic zombies; it is emptied when its own count reaches zero.

use kernel_hal::Machine;

use crate::cap::{Cap, ZombieKind};
use crate::kernel::{IrqState, Kernel};
use crate::mdb::{self, get_cap, set_cap};
use crate::object::{Slot, TCB_SLOTS};
use crate::preempt::{preemption_point, Preemptible};

/// What finalising a cap left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finalised {
    /// Nothing more to do: the slot can be emptied.
    Done,
    /// The slot must hold this zombie until the object's slots are emptied.
    Zombie(Cap),
}

/// seL4 `finaliseCap`: clean up after the cap `cap` (the last one to its object when
/// `is_final`). Never recurses: objects with slots come back as zombies.
pub fn finalise_cap<M: Machine>(k: &mut Kernel<M>, cap: Cap, is_final: bool) -> Finalised {
    match cap {
        Cap::Endpoint { ptr, .. } if is_final => crate::ipc::cancel_all_ipc(k, ptr),
        Cap::Notification { ptr, .. } if is_final => {
            crate::ipc::unbind_notification(k, ptr);
            crate::ipc::cancel_all_signals(k, ptr);
            crate::sched::notification_finalise(k, ptr);
        }
        Cap::Reply { ptr, .. } if is_final => crate::ipc::reply_finalise(k, ptr),
        Cap::CNode { ptr, radix, .. } if is_final => {
            return Finalised::Zombie(Cap::Zombie {
                ptr,
                kind: ZombieKind::CNode { radix },
                remaining: 1u64 << radix,
            })
        }
        Cap::Thread { ptr } if is_final => {
            #[cfg(feature = "smp")]
            crate::node::remote_deschedule(k, ptr);
            crate::sched::tcb_finalise(k, ptr);
            // seL4's dissociateVCPUTCB (hypervisor kernels): the VCPU outlives the thread.
            crate::vcpu::dissociate_tcb(k, ptr);
            #[cfg(feature = "smp")]
            crate::node::forget_fpu_owner(k, ptr);
            // seL4's fpuThreadDelete: the FPU's registers no longer belong to a live thread.
            if k.fpu_owner == ptr {
                k.fpu_owner = 0;
            }
            return Finalised::Zombie(Cap::Zombie {
                ptr,
                kind: ZombieKind::Tcb,
                remaining: TCB_SLOTS,
            });
        }
        Cap::SchedContext { ptr, .. } if is_final => crate::sched::sc_finalise(k, ptr),
        Cap::IrqHandler { irq } if is_final && (irq as usize) < crate::kernel::MAX_IRQS => {
            let s = Slot::at(k.irq_node, irq);
            delete_one(k, s);
            k.machine.mask_irq(irq);
            k.irq_state[irq as usize] = IrqState::Inactive;
        }
        Cap::Frame { .. } | Cap::PageTable { .. } | Cap::VSpace { .. } | Cap::AsidPool { .. } => {
            crate::vspace::finalise_cap(k, cap, is_final)
        }
        Cap::IoPort { first, last } if is_final => crate::ioport::set_range(k, first, last, false),
        Cap::Vcpu { ptr } if is_final => crate::vcpu::dissociate_vcpu(k, ptr),
        Cap::Zombie { .. } => return Finalised::Zombie(cap),
        _ => {}
    }
    Finalised::Done
}

/// seL4 `cteDeleteOne`: delete a cap whose finalisation never needs zombies (endpoint,
/// notification, reply, frame, IRQ handler caps …). Other caps are deleted fully.
pub fn delete_one<M: Machine>(k: &mut Kernel<M>, s: Slot) {
    delete_slot(k, s)
}

fn zombie_slot(ptr: u64, _kind: ZombieKind, i: u64) -> Slot {
    // CNode slots start at the object; TCB slots start at the TCB too.
    Slot::at(ptr, i)
}

/// Whether `target` lies on the zombie chain from `top` down to (and including) `cur`.
fn on_chain<M: Machine>(k: &Kernel<M>, top: Slot, cur: Slot, target: Slot) -> bool {
    let mut p = top;
    // The chain is at most as long as the number of zombies; bound the walk defensively.
    for _ in 0..(1u64 << 40) {
        if p == target {
            return true;
        }
        if p == cur {
            return false;
        }
        match get_cap(&k.machine, p) {
            Cap::Zombie {
                ptr,
                kind,
                remaining,
            } if remaining > 0 => p = zombie_slot(ptr, kind, remaining - 1),
            _ => return false,
        }
    }
    false
}

/// Remove the cap in `s` from the derivation tree and empty the slot (seL4 `emptySlot`).
pub fn empty_slot<M: Machine>(k: &mut Kernel<M>, s: Slot) {
    if !get_cap(&k.machine, s).is_null() {
        mdb::remove(&k.machine, s);
    }
}

/// seL4 `cteDelete(slot, true)`: delete the cap in `top`, finalising its object if it is
/// the last cap (emptying CNodes and TCBs iteratively through zombies). Runs to completion:
/// for deletions the kernel does on its own (`cteDeleteOne`, replacing a TCB's caps); the
/// `CNode_Delete` invocation uses [`delete_slot_preemptible`].
pub fn delete_slot<M: Machine>(k: &mut Kernel<M>, top: Slot) {
    let r = delete_slot_with(k, top, |_| Ok(()));
    debug_assert!(
        r.is_ok(),
        "a deletion without preemption points was preempted"
    );
}

/// [`delete_slot`] with seL4's preemption point after every step of emptying a zombie
/// (`finaliseSlot`). When preempted, `top` holds a zombie recording how far the object's
/// slots have been emptied; deleting the slot again goes on from there.
pub fn delete_slot_preemptible<M: Machine>(k: &mut Kernel<M>, top: Slot) -> Preemptible {
    delete_slot_with(k, top, preemption_point)
}

fn delete_slot_with<M: Machine>(
    k: &mut Kernel<M>,
    top: Slot,
    point: fn(&mut Kernel<M>) -> Preemptible,
) -> Preemptible {
    loop {
        let cap = get_cap(&k.machine, top);
        match cap {
            Cap::Null => return Ok(()),
            Cap::Zombie { .. } => {
                if reduce_step(k, top) {
                    return Ok(());
                }
                point(k)?;
            }
            _ => {
                let fin = mdb::is_final(&k.machine, top);
                match finalise_cap(k, cap, fin) {
                    Finalised::Done => {
                        empty_slot(k, top);
                        return Ok(());
                    }
                    Finalised::Zombie(z) => set_cap(&k.machine, top, z),
                }
            }
        }
    }
}

/// One step of emptying the zombie chain rooted at `top`. Returns true when `top` itself
/// has been emptied.
fn reduce_step<M: Machine>(k: &mut Kernel<M>, top: Slot) -> bool {
    let mut cur = top;
    loop {
        let Cap::Zombie {
            ptr,
            kind,
            remaining,
        } = get_cap(&k.machine, cur)
        else {
            // Someone emptied it meanwhile: restart from the top.
            return get_cap(&k.machine, top).is_null();
        };
        if remaining == 0 {
            empty_slot(k, cur);
            return cur == top;
        }
        let end = zombie_slot(ptr, kind, remaining - 1);
        let dec = |k: &mut Kernel<M>| {
            set_cap(
                &k.machine,
                cur,
                Cap::Zombie {
                    ptr,
                    kind,
                    remaining: remaining - 1,
                },
            );
        };
        let c = get_cap(&k.machine, end);
        match c {
            Cap::Null => {
                dec(k);
                return false;
            }
            Cap::Zombie { .. } => {
                if on_chain(k, top, cur, end) {
                    // Cyclic: the zombie lives in an object being emptied on this chain.
                    dec(k);
                    return false;
                }
                cur = end;
            }
            _ => {
                let fin = mdb::is_final(&k.machine, end);
                match finalise_cap(k, c, fin) {
                    Finalised::Done => {
                        empty_slot(k, end);
                        return false;
                    }
                    Finalised::Zombie(z) => {
                        set_cap(&k.machine, end, z);
                        cur = end;
                    }
                }
            }
        }
    }
}

/// seL4 `cteRevoke`: delete every derivation-tree descendant of the cap in `s`, with a
/// preemption point after each (and inside each deletion that empties zombies). When
/// preempted, the descendants deleted so far are gone and the one being deleted may be a
/// zombie; revoking again deletes the rest.
pub fn revoke<M: Machine>(k: &mut Kernel<M>, s: Slot) -> Preemptible {
    while let Some(child) = mdb::first_child(&k.machine, s) {
        delete_slot_preemptible(k, child)?;
        if get_cap(&k.machine, s).is_null() {
            // The revoked cap itself lived inside a deleted object.
            return Ok(());
        }
        preemption_point(k)?;
    }
    Ok(())
}
