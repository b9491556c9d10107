//! seL4's domain scheduler (15.0+ runtime schedules) and the `seL4_DomainSet_*` invocations.
//!
//! The kernel has [`NUM_DOMAINS`] domains; every TCB belongs to one (`Tcb::domain`) and the
//! scheduler only picks threads of the current domain (idle if none is ready). Which domain
//! is current comes from a schedule of [`NUM_DOMAIN_SCHEDULES`] entries `(domain, duration)`
//! kept packed like seL4's `dschedule_t` (domain in the top 8 bits, duration in the low 56).
//! An all-zero entry is an end marker. When the current entry's time is up the kernel moves
//! to the next entry; past the array's end or at an end marker it wraps to the start index.
//! Durations are timer ticks, which are µs in this kernel.
//!
//! At boot entry 0 is `(0, DOMAIN_MAX_DURATION)` and every other entry an end marker, so a
//! system that never touches the schedule runs in domain 0 only, as seL4 does.

use kernel_hal::{Machine, PAddr};
use sel4_abi::{Label, DOMAIN_MAX_DURATION, NUM_DOMAIN_SCHEDULES};

use crate::cap::Cap;
use crate::error::{KResult, SyscallError};
use crate::kernel::{Kernel, SchedulerAction};
use crate::object::{Tcb, ThreadState};
use crate::syscall::InvocationArgs;

/// Number of schedule entries as a `usize`.
const SCHED_LEN: usize = NUM_DOMAIN_SCHEDULES as usize;

/// Global domain-scheduler state (`ksCurDomain`, `ksDomSchedule`, `ksDomScheduleIdx`,
/// `ksDomScheduleStart`, and the end of the current entry's time).
#[derive(Clone, Debug)]
pub struct DomainState {
    /// The current domain (`ksCurDomain`).
    pub cur: u64,
    /// Packed schedule entries (`ksDomSchedule`); 0 = end marker.
    pub schedule: [u64; SCHED_LEN],
    /// Index of the running entry (`ksDomScheduleIdx`).
    pub idx: usize,
    /// Index the schedule starts at and wraps back to (`ksDomScheduleStart`).
    pub start: usize,
    /// Time (µs) at which the running entry ends.
    pub end_us: u64,
    /// `ScheduleSetStart` asked for an immediate switch to `start`.
    pub restart: bool,
}

impl Default for DomainState {
    fn default() -> Self {
        let mut schedule = [0; SCHED_LEN];
        schedule[0] = pack(0, DOMAIN_MAX_DURATION);
        DomainState {
            cur: 0,
            schedule,
            idx: 0,
            start: 0,
            end_us: DOMAIN_MAX_DURATION,
            restart: false,
        }
    }
}

/// Pack `(domain, duration)` into one schedule word.
pub fn pack(domain: u64, duration: u64) -> u64 {
    (domain << 56) | (duration & DOMAIN_MAX_DURATION)
}

/// The domain of a packed schedule word.
pub fn entry_domain(e: u64) -> u64 {
    e >> 56
}

/// The duration of a packed schedule word.
pub fn entry_duration(e: u64) -> u64 {
    e & DOMAIN_MAX_DURATION
}

/// The domain of thread `t` (read without copying the TCB).
pub fn tcb_domain<M: Machine>(k: &Kernel<M>, t: PAddr) -> u64 {
    crate::kmem::read_word(
        &k.machine,
        t + core::mem::offset_of!(Tcb<M::Context>, domain) as u64,
    )
}

/// Whether the running entry's time is up (or a restart was requested).
pub fn domain_expired<M: Machine>(k: &Kernel<M>) -> bool {
    k.domains.restart || crate::sched::cur_time(k) >= k.domains.end_us
}

/// seL4 `nextDomain`: move to the next schedule entry (or to the start index after an end
/// marker, past the end of the array, or after `ScheduleSetStart`) and start its time.
pub fn next_domain<M: Machine>(k: &mut Kernel<M>) {
    let d = &mut k.domains;
    let mut i = if d.restart { d.start } else { d.idx + 1 };
    if i >= SCHED_LEN || d.schedule[i] == 0 {
        i = d.start;
    }
    d.restart = false;
    d.idx = i;
    let e = d.schedule[i];
    d.cur = entry_domain(e);
    // seL4 `nextDomain` starts the work-unit count afresh.
    k.work_units = 0;
    let now = k.machine.now_us();
    k.domains.end_us = now.saturating_add(entry_duration(e));
}

/// The deadline (µs) the timer must fire at for the next domain switch, if it is within
/// reach (the boot schedule's single maximal entry never needs a timer).
pub fn domain_deadline<M: Machine>(k: &Kernel<M>) -> Option<u64> {
    domain_deadline_at(k, k.machine.now_us())
}

/// [`domain_deadline`] at time `now` (µs).
pub fn domain_deadline_at<M: Machine>(k: &Kernel<M>, now: u64) -> Option<u64> {
    (k.domains.end_us.saturating_sub(now) <= 1 << 40).then_some(k.domains.end_us)
}

/// seL4 `setDomain`: move `t` to domain `d`. Our ready queues are shared by all domains
/// (the scheduler filters by domain), so a queued thread stays queued.
fn set_domain<M: Machine>(k: &mut Kernel<M>, t: PAddr, d: u64) {
    k.tcb_mut(t, d, |x, v| x.domain = v);
    if t == k.cur_thread {
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

/// A decoded `seL4_DomainSet_*` invocation.
#[derive(Clone, Copy, Debug)]
enum DomainInv {
    Set {
        tcb: PAddr,
        domain: u64,
    },
    Configure {
        index: usize,
        domain: u64,
        duration: u64,
    },
    SetStart {
        index: usize,
    },
}

fn index_range_error() -> SyscallError {
    SyscallError::RangeError {
        min: 0,
        max: NUM_DOMAIN_SCHEDULES - 1,
    }
}

/// Decode (checks only, seL4's order and error codes).
fn decode<M: Machine>(k: &Kernel<M>, a: &InvocationArgs) -> KResult<DomainInv> {
    match Label::from_u64(a.label) {
        Some(Label::DomainSetSet) => {
            if a.length < 1 {
                return Err(SyscallError::TruncatedMessage);
            }
            let domain = k.arg(a, 0);
            if domain >= k.config.num_domains {
                return Err(SyscallError::InvalidArgument(0));
            }
            let (c, _) = a
                .extra
                .get(&k.machine, 0)
                .ok_or(SyscallError::TruncatedMessage)?;
            let Cap::Thread { ptr } = c else {
                return Err(SyscallError::InvalidArgument(1));
            };
            Ok(DomainInv::Set { tcb: ptr, domain })
        }
        Some(Label::DomainScheduleConfigure) => {
            // index, domain, and one word of seL4_Time on 64-bit.
            if a.length < 3 {
                return Err(SyscallError::TruncatedMessage);
            }
            let index = k.arg(a, 0);
            let domain = k.arg(a, 1);
            let duration = k.arg(a, 2);
            if index >= NUM_DOMAIN_SCHEDULES {
                return Err(index_range_error());
            }
            if domain >= k.config.num_domains {
                return Err(SyscallError::RangeError {
                    min: 0,
                    max: k.config.num_domains - 1,
                });
            }
            if duration > DOMAIN_MAX_DURATION {
                return Err(SyscallError::InvalidArgument(2));
            }
            if duration == 0 && domain != 0 {
                return Err(SyscallError::InvalidArgument(1));
            }
            let index = index as usize;
            if index == k.domains.start && duration == 0 {
                return Err(SyscallError::InvalidArgument(2));
            }
            Ok(DomainInv::Configure {
                index,
                domain,
                duration,
            })
        }
        Some(Label::DomainScheduleSetStart) => {
            if a.length < 1 {
                return Err(SyscallError::TruncatedMessage);
            }
            let index = k.arg(a, 0);
            if index >= NUM_DOMAIN_SCHEDULES {
                return Err(index_range_error());
            }
            let index = index as usize;
            if k.domains.schedule[index] == 0 {
                return Err(SyscallError::InvalidArgument(0));
            }
            Ok(DomainInv::SetStart { index })
        }
        _ => Err(SyscallError::IllegalOperation),
    }
}

fn invoke<M: Machine>(k: &mut Kernel<M>, inv: DomainInv) {
    match inv {
        DomainInv::Set { tcb, domain } => set_domain(k, tcb, domain),
        DomainInv::Configure {
            index,
            domain,
            duration,
        } => k.domains.schedule[index] = pack(domain, duration),
        DomainInv::SetStart { index } => {
            // End the running entry now and switch to the new start at the next schedule.
            k.domains.start = index;
            k.domains.restart = true;
            k.sched_action = SchedulerAction::ChooseNew;
        }
    }
}

/// Decode and perform a `seL4_DomainSet_*` invocation on a Domain cap.
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    let inv = decode(k, a)?;
    k.set_thread_state_raw(a.thread, ThreadState::Restart);
    invoke(k, inv);
    Ok(())
}
