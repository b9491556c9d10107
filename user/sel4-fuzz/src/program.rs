//! The fuzzer root task. Three kinds of thread share the root task's address space:
//!
//! * the **supervisor** (the root thread, priority 255) builds the world, receives every fault
//!   and every "worker is blocked" report on one endpoint, checks them, restarts the worker
//!   and the victims, rebuilds the worker's objects every [`EPOCH_CALLS`] calls, and prints
//!   the coverage table at the end;
//! * the **worker** (priority 100) makes the calls: call *i* is generated from
//!   `Rng::for_call(seed, i)` alone, either a templated invocation on one object kind or a raw
//!   system call with random number, cap, message and IPC buffer. It checks each reply (a
//!   valid `seL4_Error`, and the predicted error where there is one) and counts successes;
//! * **victims** (priority 150, restarted each epoch) fault on purpose in five ways, and a
//!   **sentinel** (priority 99) runs only when the worker cannot, and tells the supervisor.
//!
//! The worker's CSpace is a CNode `R` it holds no cap to (so it cannot move or delete what
//! is in it) with the control caps and one stable object of each kind, plus `P`, a CNode of
//! 256 slots it does own, refilled with fresh objects each epoch. Objects the worker makes
//! threads of ("puppets") run in a VSpace of their own with nothing of ours mapped.

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

use sel4_abi::label::arch_labels;
use sel4_abi::object::object_types;
use sel4_abi::{fault as af, Arch, ArchLabel, Error, FaultType, Label, ObjectKind, Syscall};
use sel4_fuzz::{
    arch_label, error_reply_shape_ok, junk_label, min_args, parse_u64, predicted_error,
    sanitize_port_write, Obj, Rng, NUM_OBJ, SAFE_PORTS,
};
use sel4_root::error::RootError;
use sel4_root::println;
use sel4_root::root::{Root, Sel4, CNODE, TCB, VSPACE};
use sel4_sys::abi::object_type;
use sel4_sys::arch::{raw, Regs};
use sel4_sys::invocation::{self as inv, Invocation};
use sel4_sys::ipc_buffer::ThreadBuffer;
use sel4_sys::message::cnode_cap_data;
use sel4_sys::{init_caps, syscall, CapRights, MessageInfo, ARCH};

/// Campaign seed and length, from the build (`SEL4_FUZZ_SEED`, `SEL4_FUZZ_CALLS`).
const SEED: u64 = parse_u64(env!("FUZZ_SEED"));
const CALLS: u64 = parse_u64(env!("FUZZ_CALLS"));
/// Calls between two rebuilds of the worker's objects.
const EPOCH_CALLS: u64 = 1000;

// ---------------------------------------------------------------- the worker's CSpace

/// log2 slots of R and P.
const R_BITS: u64 = 5;
const P_BITS: u64 = 8;
const P_SLOTS: u64 = 1 << P_BITS;
/// Guard of R in the worker's cspace root, so R and P together resolve 64 bits.
const R_GUARD_BITS: u64 = 64 - R_BITS - P_BITS;
/// Slots of R.
const R_P: u64 = 1;
const R_IRQ_CONTROL: u64 = 2;
const R_ASID_CONTROL: u64 = 3;
const R_ASID_POOL: u64 = 4;
const R_SCHED_CONTROL: u64 = 5;
const R_DOMAIN: u64 = 6;
const R_SMC: u64 = 7;
const R_IOPORT_CONTROL: u64 = 8;
const R_TCB: u64 = 9;
const R_SC: u64 = 10;
const R_EP: u64 = 11;
const R_NTFN: u64 = 12;
const R_REPLY: u64 = 13;
const R_UNTYPED: u64 = 14;
const R_FRAME: u64 = 15;
const R_PT: u64 = 16;
const R_VSPACE: u64 = 17;
const R_CNODE: u64 = 18;
const R_PD: u64 = 19;
const R_PDPT: u64 = 20;
const R_IOPORT: u64 = 21;
/// log2 slots of the small stable CNode R[R_CNODE].
const SMALL_CNODE_BITS: u64 = 4;

/// The worker's cptr of R slot `j` and of P slot `k`.
const fn rcap(j: u64) -> u64 {
    j << P_BITS
}
const fn pcap(k: u64) -> u64 {
    (R_P << P_BITS) | k
}
/// The worker's cptr of P (as a CNode to invoke, or a root for retype/IRQ/ASID destinations):
/// the lookup passes R's slot 1 (P) and ends in P's slot 0, which holds P again.
const P_ROOT: u64 = rcap(R_P);

/// The stable R slot of each object kind.
fn stable_slot(o: Obj) -> Option<u64> {
    Some(match o {
        Obj::Untyped => R_UNTYPED,
        Obj::Tcb => R_TCB,
        Obj::SchedContext => R_SC,
        Obj::SchedControl => R_SCHED_CONTROL,
        Obj::Endpoint => R_EP,
        Obj::Notification => R_NTFN,
        Obj::Reply => R_REPLY,
        Obj::IrqControl => R_IRQ_CONTROL,
        Obj::IoPortControl => R_IOPORT_CONTROL,
        Obj::IoPort => R_IOPORT,
        Obj::Frame => R_FRAME,
        Obj::PageTable => R_PT,
        Obj::PageDirectory => R_PD,
        Obj::Pdpt => R_PDPT,
        Obj::VSpace => R_VSPACE,
        Obj::AsidControl => R_ASID_CONTROL,
        Obj::AsidPool => R_ASID_POOL,
        Obj::Smc => R_SMC,
        Obj::Domain => R_DOMAIN,
        // A cptr through R's slot of a CNode goes on into that CNode, so no CNode is stable.
        Obj::None | Obj::CNode | Obj::IrqHandler | Obj::Raw => return None,
    })
}

// ---------------------------------------------------------------- shared state

const fn counters<const N: usize>() -> [AtomicU32; N] {
    [const { AtomicU32::new(0) }; N]
}

/// Index of the worker's current call, its syscall number and flags.
static CUR: AtomicU64 = AtomicU64::new(0);
static CUR_SYS: AtomicU64 = AtomicU64::new(0);
static CUR_FLAGS: AtomicU64 = AtomicU64::new(0);
/// Flag: the call must not raise a fault (all cptrs resolve, or the syscall never faults).
const NO_FAULT: u64 = 1;
/// Flag: the call must not block.
const NO_BLOCK: u64 = 2;
/// Index at which the current epoch started.
static EPOCH_AT: AtomicU64 = AtomicU64::new(u64::MAX);
/// What the worker believes is in each P slot (an `Obj` code).
static KINDS: [AtomicU8; P_SLOTS as usize] = [const { AtomicU8::new(0) }; P_SLOTS as usize];

/// Label buckets of the coverage table: generic and arch labels, then one for junk labels.
const LABEL_BUCKETS: usize = 64;
const JUNK_BUCKET: usize = LABEL_BUCKETS - 1;
/// Syscall buckets: -1..-33, then "unknown number".
const SYS_BUCKETS: usize = 34;
const UNKNOWN_SYS_BUCKET: usize = 33;

/// Successful invocations per (object kind, label).
static OK: [[AtomicU32; LABEL_BUCKETS]; NUM_OBJ] = [const { counters::<LABEL_BUCKETS>() }; NUM_OBJ];
/// Completed system calls on object kinds that are not invoked with labels (endpoints,
/// notifications, reply objects) per (object kind, syscall).
static OK_SYS: [[AtomicU32; SYS_BUCKETS]; NUM_OBJ] = [const { counters::<SYS_BUCKETS>() }; NUM_OBJ];
/// System calls made, per number.
static SYSCALLS: [AtomicU32; SYS_BUCKETS] = counters();
/// Reply labels of every Call that returned (0 = success, 1..10 = seL4_Error).
static REPLIES: [AtomicU32; 11] = counters();
/// Predictions checked (and met).
static PREDICTED: AtomicU32 = AtomicU32::new(0);
/// Worker faults per fault type, worker restarts after blocking, victim and puppet faults.
static WORKER_FAULTS: [AtomicU32; 7] = counters();
static BLOCKED: AtomicU32 = AtomicU32::new(0);
static VICTIM_FAULTS: [AtomicU32; 7] = counters();
static PUPPET_FAULTS: AtomicU32 = AtomicU32::new(0);
static EPOCHS: AtomicU32 = AtomicU32::new(0);

fn bump(c: &AtomicU32) {
    c.fetch_add(1, Relaxed);
}

fn kind(k: u64) -> Obj {
    Obj::from_u8(KINDS[(k % P_SLOTS) as usize].load(Relaxed))
}
fn set_kind(k: u64, o: Obj) {
    KINDS[(k % P_SLOTS) as usize].store(o as u8, Relaxed);
}

fn sys_bucket(n: i64) -> usize {
    if (-33..=-1).contains(&n) {
        (-n - 1) as usize
    } else {
        UNKNOWN_SYS_BUCKET
    }
}

// ---------------------------------------------------------------- stacks and threads

/// A thread stack in `.bss` (atomics, so it is writable memory without `unsafe`).
#[repr(C, align(16))]
struct Stack<const W: usize>([AtomicU64; W]);

impl<const W: usize> Stack<W> {
    const fn new() -> Self {
        Stack([const { AtomicU64::new(0) }; W])
    }
    fn top(&self) -> u64 {
        self.0.as_ptr() as u64 + (W as u64) * 8
    }
}

static WORKER_STACK: Stack<4096> = Stack::new();
static SENTINEL_STACK: Stack<512> = Stack::new();
static VICTIM_STACKS: [Stack<512>; NUM_VICTIMS] = [const { Stack::new() }; NUM_VICTIMS];

/// The first ports of [`SAFE_PORTS`] go to a cap the supervisor issues once; the worker issues
/// caps for the rest (seL4 refuses to issue a port twice).
const WORKER_PORTS: (u16, u16) = (SAFE_PORTS.0 + 0x10, SAFE_PORTS.1);

/// Where the worker's IPC buffer is mapped.
const WORKER_IPC: u64 = 0x3000_0000;
/// Address victims and nothing else touch (unmapped).
const FAULT_ADDR: u64 = 0xdead_b000;
/// Victims and their fault modes.
const NUM_VICTIMS: usize = 3;
const VICTIM_MODES: u64 = 5;
/// Syscall number the victims use for their unknown-syscall fault.
const VICTIM_SYSCALL: i64 = 0x7a11;
/// The cptr a victim calls for its cap fault (its CSpace resolves nothing).
const VICTIM_BAD_CPTR: u64 = 0x55;
/// Unknown syscall numbers the worker raises to talk to the supervisor (never drawn at
/// random: random numbers are replaced when they hit this range).
const MAGIC_BASE: i64 = 0x4655_5a5a_0000;
const MAGIC_EPOCH: i64 = MAGIC_BASE + 1;
const MAGIC_DONE: i64 = MAGIC_BASE + 2;
const MAGIC_FAIL: i64 = MAGIC_BASE + 3;
/// Label of the sentinel's Call.
const SENTINEL_LABEL: u64 = 0x5e47;

/// Badges of the supervisor endpoint's caps.
const BADGE_WORKER: u64 = 1;
const BADGE_SENTINEL: u64 = 2;
const BADGE_PUPPET: u64 = 3;
const BADGE_VICTIM: u64 = 0x10;

/// Priorities.
const PRIO_VICTIM: u64 = 150;
const PRIO_WORKER: u64 = 100;
const PRIO_SENTINEL: u64 = 99;
const PRIO_PUPPET: u64 = 100;

fn arch_name() -> &'static str {
    match ARCH {
        Arch::Aarch64 => "aarch64",
        Arch::Riscv64 => "riscv64",
        Arch::X86_64 => "x86_64",
    }
}

/// Raises the unknown syscall `n` with `arg` in the cap register (worker → supervisor).
fn magic(n: i64, arg: u64) {
    raw(
        n,
        Regs {
            cap: arg,
            ..Regs::default()
        },
    );
}

extern "C" fn sentinel_entry(_: u64) -> ! {
    loop {
        raw(
            Syscall::Call as i64,
            Regs {
                cap: 1,
                info: MessageInfo::new(SENTINEL_LABEL, 0, 0, 0).0,
                ..Regs::default()
            },
        );
    }
}

extern "C" fn victim_entry(mode: u64) -> ! {
    match mode % VICTIM_MODES {
        0 => {
            let _ = sel4_root::rt::read_word(FAULT_ADDR);
        }
        1 => sel4_root::rt::write_word(FAULT_ADDR, mode),
        2 => {
            raw(VICTIM_SYSCALL, Regs::default());
        }
        3 => sel4_root::rt::undefined_instruction(),
        _ => {
            raw(
                Syscall::Call as i64,
                Regs {
                    cap: VICTIM_BAD_CPTR,
                    ..Regs::default()
                },
            );
        }
    }
    loop {
        raw(Syscall::Yield as i64, Regs::default());
    }
}

/// The fault each victim mode must produce.
fn victim_fault(mode: u64) -> FaultType {
    match mode % VICTIM_MODES {
        0 | 1 => FaultType::VmFault,
        2 => FaultType::UnknownSyscall,
        3 => FaultType::UserException,
        _ => FaultType::CapFault,
    }
}

// ---------------------------------------------------------------- one call

/// What to record in [`KINDS`] when a call succeeds.
#[derive(Clone, Copy)]
enum Effect {
    None,
    Set(u64, u64, Obj),
    Copy(u64, u64),
    Move(u64, u64),
    Clear(u64),
}

/// One generated call.
struct Call {
    sys: i64,
    cap: u64,
    label: u64,
    /// Message length in the tag, extra caps in the tag.
    len: u64,
    ncaps: u64,
    /// Full 64-bit tag (junk in raw mode), else built from label/len/ncaps.
    info: Option<u64>,
    mrs: [u64; 120],
    /// Buffer words written (may exceed `len`: junk beyond the message).
    fill: usize,
    caps: [u64; 3],
    reply: u64,
    dest: u64,
    recv: Option<(u64, u64, u64)>,
    obj: Obj,
    stable: bool,
    junk_label: bool,
    /// Every cptr of the call resolves in the worker's CSpace.
    cptrs_resolve: bool,
    predict: Option<Error>,
    effect: Effect,
}

impl Call {
    fn new(obj: Obj) -> Call {
        Call {
            sys: Syscall::Call as i64,
            cap: 0,
            label: 0,
            len: 0,
            ncaps: 0,
            info: None,
            mrs: [0; 120],
            fill: 0,
            caps: [0; 3],
            reply: 0,
            dest: 0,
            recv: None,
            obj,
            stable: false,
            junk_label: false,
            cptrs_resolve: true,
            predict: None,
            effect: Effect::None,
        }
    }
    fn args(&mut self, label: u64, mrs: &[u64], caps: &[u64]) {
        self.label = label;
        self.len = mrs.len() as u64;
        self.mrs[..mrs.len()].copy_from_slice(mrs);
        self.fill = mrs.len();
        self.ncaps = caps.len() as u64;
        self.caps[..caps.len()].copy_from_slice(caps);
    }
    fn inv(&mut self, i: Invocation) {
        self.args(i.label, i.args(), &i.caps[..i.ncaps]);
    }
    fn arch_inv(&mut self, i: Result<Invocation, inv::NoSuchMethod>, rng: &mut Rng) {
        match i {
            Ok(i) => self.inv(i),
            Err(_) => self.args(junk_label(rng), &[], &[]),
        }
    }
}

/// A cap of kind `o` for the worker: the stable one in R or one in P it believes is `o`.
fn cap_of(rng: &mut Rng, o: Obj) -> (u64, bool) {
    let stable = stable_slot(o).filter(|_| o.exists_on(ARCH));
    if let Some(j) = stable {
        if rng.chance(1, 2) {
            return (rcap(j), true);
        }
    }
    let start = rng.below(P_SLOTS);
    for d in 0..P_SLOTS {
        let k = (start + d) % P_SLOTS;
        if kind(k) == o {
            return (pcap(k), false);
        }
    }
    match stable {
        Some(j) => (rcap(j), true),
        None => (pcap(rng.below(P_SLOTS)), false),
    }
}
/// A cap in P the worker believes is `o` (any P slot if none).
fn p_cap(rng: &mut Rng, o: Obj) -> u64 {
    let start = rng.below(P_SLOTS);
    (0..P_SLOTS)
        .map(|d| (start + d) % P_SLOTS)
        .find(|&k| kind(k) == o)
        .map_or(pcap(start), pcap)
}
fn cap(rng: &mut Rng, o: Obj) -> u64 {
    cap_of(rng, o).0
}
/// A P slot the worker believes is empty (slot 0 and 1 excepted), or any.
fn free_slot(rng: &mut Rng) -> u64 {
    let start = rng.below(P_SLOTS);
    for d in 0..P_SLOTS {
        let k = (start + d) % P_SLOTS;
        if k > 1 && kind(k) == Obj::None {
            return k;
        }
    }
    rng.range(2, P_SLOTS - 1)
}
/// A P slot the worker believes holds something.
fn used_slot(rng: &mut Rng) -> u64 {
    let start = rng.below(P_SLOTS);
    for d in 0..P_SLOTS {
        let k = (start + d) % P_SLOTS;
        if kind(k) != Obj::None {
            return k;
        }
    }
    rng.below(P_SLOTS)
}
/// Any cptr that resolves in the worker's CSpace.
fn any_cap(rng: &mut Rng) -> u64 {
    if rng.chance(1, 4) {
        rcap(rng.below(1 << R_BITS))
    } else {
        pcap(rng.below(P_SLOTS))
    }
}
/// Virtual addresses page-table and frame maps aim at (few, so tables pile up under them);
/// the supervisor maps every level under the first in the stable VSpace.
const HOT_VADDRS: [u64; 4] = [0x1000_0000, 0x4000_0000, 0x20_0000_0000, 0x7f_4000_0000];

/// Virtual addresses page-table and frame maps aim at (few, so tables pile up under them).
fn vaddr(rng: &mut Rng) -> u64 {
    let base = if rng.chance(1, 2) {
        HOT_VADDRS[0]
    } else {
        rng.pick(&HOT_VADDRS)
    };
    match rng.below(8) {
        0 => rng.junk(),
        1 | 2 => base + rng.below(512) * 0x1000,
        3 => base + 0x20_0000 * rng.below(4),
        _ => base + 0x1000 * rng.below(4),
    }
}
fn irq_number(rng: &mut Rng) -> u64 {
    match (ARCH, rng.below(8)) {
        (_, 0) => rng.junk(),
        (Arch::Aarch64, _) => rng.range(16, 200),
        (Arch::Riscv64, _) => rng.range(0, 80),
        (Arch::X86_64, _) => rng.range(0, 30),
    }
}
fn obj_of_kind(k: ObjectKind) -> Obj {
    match k {
        ObjectKind::Untyped => Obj::Untyped,
        ObjectKind::Tcb => Obj::Tcb,
        ObjectKind::Endpoint => Obj::Endpoint,
        ObjectKind::Notification => Obj::Notification,
        ObjectKind::CNode => Obj::CNode,
        ObjectKind::SchedContext => Obj::SchedContext,
        ObjectKind::Reply => Obj::Reply,
        ObjectKind::Frame { .. } => Obj::Frame,
        ObjectKind::PageTable => Obj::PageTable,
        ObjectKind::VSpace => Obj::VSpace,
        ObjectKind::X86Pdpt => Obj::Pdpt,
        ObjectKind::X86PageDirectory => Obj::PageDirectory,
        ObjectKind::IoPageTable | ObjectKind::ArmVcpu => Obj::None,
    }
}
/// `maybe_junk(rng, e)` with `e` evaluated first (it may draw from `rng` too).
macro_rules! mj {
    ($rng:expr, $e:expr) => {{
        let v = $e;
        maybe_junk($rng, v)
    }};
}

/// Occasionally replaces `v` with junk.
fn maybe_junk(rng: &mut Rng, v: u64) -> u64 {
    if rng.chance(1, 16) {
        rng.junk()
    } else {
        v
    }
}

/// The object kinds with templates on this arch.
fn template_kinds() -> impl Iterator<Item = Obj> {
    Obj::ALL
        .into_iter()
        .filter(|o| !matches!(o, Obj::None | Obj::Raw) && o.exists_on(ARCH))
}

/// Fills `c` with a templated invocation or system call on an object of kind `c.obj`.
fn template(rng: &mut Rng, c: &mut Call) {
    let (target, stable) = cap_of(rng, c.obj);
    c.cap = target;
    c.stable = stable;
    let a = ARCH;
    let al = |l| arch_label(a, l);
    match c.obj {
        Obj::Untyped => {
            let types = object_types(a);
            let t = rng.below(types.len() as u64);
            let kind = types[t as usize];
            let bits = match kind {
                ObjectKind::Untyped => rng.range(4, 14),
                ObjectKind::SchedContext => rng.range(7, 10),
                ObjectKind::CNode => rng.range(1, 6),
                _ => 0,
            };
            let slot = free_slot(rng);
            let n = rng.range(1, 2).min(P_SLOTS - slot);
            c.inv(inv::untyped_retype(
                mj!(rng, t),
                mj!(rng, bits),
                P_ROOT,
                0,
                0,
                slot,
                mj!(rng, n),
            ));
            c.effect = Effect::Set(slot, n, obj_of_kind(kind));
        }
        Obj::CNode => {
            let depth: u8 = if rng.chance(1, 10) {
                rng.below(70) as u8
            } else {
                P_BITS as u8
            };
            let tracked = target == P_ROOT && depth == P_BITS as u8;
            let (dst, src, piv) = (free_slot(rng), used_slot(rng), used_slot(rng));
            let rights = CapRights(rng.below(16));
            let badge = rng.junk();
            match rng.below(8) {
                0 => c.inv(inv::cnode_revoke(used_slot(rng), depth)),
                1 => {
                    let s = used_slot(rng);
                    c.inv(inv::cnode_delete(s, depth));
                    if tracked {
                        c.effect = Effect::Clear(s);
                    }
                }
                2 => c.args(
                    Label::CNodeCancelBadgedSends as u64,
                    &[used_slot(rng), depth as u64],
                    &[],
                ),
                3 => {
                    c.inv(inv::cnode_copy(
                        dst,
                        depth,
                        P_ROOT,
                        src,
                        P_BITS as u8,
                        rights,
                    ));
                    if tracked {
                        c.effect = Effect::Copy(dst, src);
                    }
                }
                4 => {
                    c.inv(inv::cnode_mint(
                        dst,
                        depth,
                        P_ROOT,
                        src,
                        P_BITS as u8,
                        rights,
                        badge,
                    ));
                    if tracked {
                        c.effect = Effect::Copy(dst, src);
                    }
                }
                5 => {
                    c.inv(inv::cnode_move(dst, depth, P_ROOT, src, P_BITS as u8));
                    if tracked {
                        c.effect = Effect::Move(dst, src);
                    }
                }
                6 => {
                    c.inv(inv::cnode_mutate(
                        dst,
                        depth,
                        P_ROOT,
                        src,
                        P_BITS as u8,
                        badge,
                    ));
                    if tracked {
                        c.effect = Effect::Move(dst, src);
                    }
                }
                _ => c.inv(inv::cnode_rotate(
                    dst,
                    depth,
                    badge,
                    P_ROOT,
                    piv,
                    P_BITS as u8,
                    rng.junk(),
                    P_ROOT,
                    src,
                    P_BITS as u8,
                )),
            }
        }
        Obj::Tcb => {
            let auth = cap(rng, Obj::Tcb);
            let prio = mj!(rng, rng.below(120));
            match rng.below(17) {
                0 => c.inv(inv::tcb_read_registers(
                    rng.chance(1, 2),
                    rng.below(4) as u8,
                    mj!(rng, rng.below(40)),
                )),
                1 => {
                    let mut regs = [0u64; 36];
                    for r in regs.iter_mut() {
                        *r = rng.junk();
                    }
                    let n = rng.below(37) as usize;
                    c.inv(inv::tcb_write_registers(
                        rng.chance(1, 2),
                        rng.below(4) as u8,
                        &regs[..n],
                    ));
                }
                2 => c.args(Label::TCBCopyRegisters as u64, &[rng.below(32)], &[auth]),
                3 => c.inv(inv::tcb_configure(
                    cap(rng, Obj::CNode),
                    mj!(rng, 0),
                    cap(rng, Obj::VSpace),
                    0,
                    mj!(rng, 0x1000_0000 + rng.below(16) * 0x400),
                    cap(rng, Obj::Frame),
                )),
                4 => c.inv(inv::tcb_set_priority(auth, prio)),
                5 => c.inv(inv::tcb_set_mc_priority(auth, prio)),
                6 => {
                    let sc = if rng.chance(1, 3) {
                        0
                    } else {
                        cap(rng, Obj::SchedContext)
                    };
                    c.inv(inv::tcb_set_sched_params(
                        auth,
                        prio,
                        mj!(rng, rng.below(101)),
                        sc,
                        cap(rng, Obj::Endpoint),
                    ))
                }
                7 => c.inv(inv::tcb_set_timeout_endpoint(cap(rng, Obj::Endpoint))),
                8 => c.inv(inv::tcb_set_ipc_buffer(
                    mj!(rng, 0x1000_0000 + rng.below(4) * 0x400),
                    cap(rng, Obj::Frame),
                )),
                9 => c.inv(inv::tcb_set_space(
                    cap(rng, Obj::Endpoint),
                    cap(rng, Obj::CNode),
                    mj!(rng, 0),
                    cap(rng, Obj::VSpace),
                    0,
                )),
                10 => c.inv(inv::tcb_suspend()),
                11 => c.inv(inv::tcb_resume()),
                12 => c.inv(inv::tcb_bind_notification(cap(rng, Obj::Notification))),
                13 => c.inv(inv::tcb_unbind_notification()),
                14 => c.inv(inv::tcb_set_tls_base(rng.junk())),
                15 => c.args(Label::TCBSetFlags as u64, &[rng.junk(), rng.junk()], &[]),
                _ => {
                    // Wrong cap kind for the authority: seL4 answers InvalidCapability.
                    c.inv(inv::tcb_set_priority(rcap(R_EP), prio));
                    if stable {
                        c.predict = Some(Error::InvalidCapability);
                    }
                }
            }
        }
        Obj::SchedContext => {
            let bindable = if rng.chance(1, 2) {
                cap(rng, Obj::Tcb)
            } else {
                cap(rng, Obj::Notification)
            };
            match rng.below(5) {
                0 => c.inv(inv::sched_context_bind(bindable)),
                1 => c.inv(inv::sched_context_unbind()),
                2 => c.inv(inv::sched_context_unbind_object(bindable)),
                3 => c.inv(inv::sched_context_consumed()),
                _ => c.args(Label::SchedContextYieldTo as u64, &[], &[]),
            }
        }
        Obj::SchedControl => {
            let budget = mj!(rng, rng.range(100, 20_000));
            let period = mj!(rng, budget.saturating_add(rng.below(20_000)));
            if rng.chance(1, 8) {
                c.inv(inv::sched_control_configure_flags(
                    rcap(R_EP),
                    1000,
                    1000,
                    0,
                    0,
                    0,
                ));
                if stable {
                    c.predict = Some(Error::InvalidCapability);
                }
            } else {
                c.inv(inv::sched_control_configure_flags(
                    cap(rng, Obj::SchedContext),
                    budget,
                    period,
                    mj!(rng, rng.below(10)),
                    rng.junk(),
                    rng.below(2),
                ));
            }
        }
        Obj::Endpoint | Obj::Notification | Obj::Reply => {
            let label = if rng.chance(1, 2) {
                rng.below(64)
            } else {
                rng.junk() & ((1 << 52) - 1)
            };
            let n = rng.below(6);
            let mut mrs = [0u64; 6];
            for m in mrs.iter_mut() {
                *m = rng.junk();
            }
            let ncaps = rng.below(3) as usize;
            let caps = [any_cap(rng), any_cap(rng), any_cap(rng)];
            c.args(label, &mrs[..n as usize], &caps[..ncaps]);
            c.recv = Some((P_ROOT, free_slot(rng), P_BITS));
            let ep = cap(rng, Obj::Endpoint);
            let reply = cap(rng, Obj::Reply);
            c.sys = match (c.obj, rng.below(16)) {
                (Obj::Endpoint, 0) => Syscall::Call as i64,
                (Obj::Endpoint, 1) => Syscall::Recv as i64,
                (Obj::Endpoint, 2) => Syscall::Send as i64,
                (Obj::Endpoint, 3) => {
                    c.dest = cap(rng, Obj::Endpoint);
                    c.reply = reply;
                    Syscall::NBSendRecv as i64
                }
                (Obj::Endpoint, 4..=9) => Syscall::NBSend as i64,
                (Obj::Endpoint, _) => {
                    c.reply = reply;
                    Syscall::NBRecv as i64
                }
                (Obj::Notification, 0) => Syscall::Wait as i64,
                (Obj::Notification, 1..=5) => Syscall::Call as i64,
                (Obj::Notification, 6..=10) => Syscall::Send as i64,
                (Obj::Notification, _) => Syscall::NBWait as i64,
                (Obj::Reply, 0..=4) => Syscall::Send as i64,
                (Obj::Reply, 5..=9) => Syscall::Call as i64,
                (_, _) => {
                    // Bind the reply object to a receive on an endpoint.
                    c.cap = ep;
                    c.reply = target;
                    Syscall::NBRecv as i64
                }
            };
        }
        Obj::IrqControl => {
            let slot = free_slot(rng);
            let irq = irq_number(rng);
            match (a, rng.below(3)) {
                (Arch::X86_64, 0) => c.inv(inv::irq_control_get(irq, P_ROOT, slot, P_BITS as u8)),
                (Arch::X86_64, 1) => c.args(
                    al(ArchLabel::IrqIssueIrqHandlerMsi),
                    &[
                        slot,
                        P_BITS,
                        rng.below(4),
                        rng.below(32),
                        rng.below(8),
                        rng.junk(),
                        rng.below(108),
                    ],
                    &[P_ROOT],
                ),
                (Arch::X86_64, _) => c.arch_inv(
                    inv::irq_control_get_ioapic(
                        a,
                        P_ROOT,
                        slot,
                        P_BITS as u8,
                        mj!(rng, 0),
                        rng.below(24),
                        rng.below(2),
                        rng.below(2),
                        mj!(rng, rng.below(108)),
                    ),
                    rng,
                ),
                (_, 0) => c.inv(inv::irq_control_get(irq, P_ROOT, slot, P_BITS as u8)),
                (_, _) => c.arch_inv(
                    inv::irq_control_get_trigger(
                        a,
                        irq,
                        rng.chance(1, 2),
                        P_ROOT,
                        slot,
                        P_BITS as u8,
                    ),
                    rng,
                ),
            }
            c.effect = Effect::Set(slot, 1, Obj::IrqHandler);
        }
        Obj::IrqHandler => match rng.below(3) {
            0 => c.inv(inv::irq_handler_ack()),
            1 => c.inv(inv::irq_handler_set_notification(cap(
                rng,
                Obj::Notification,
            ))),
            _ => c.inv(inv::irq_handler_clear()),
        },
        Obj::IoPortControl => {
            let slot = free_slot(rng);
            let first = rng.range(WORKER_PORTS.0 as u64, SAFE_PORTS.1 as u64);
            let last = first + rng.below(SAFE_PORTS.1 as u64 - first + 1);
            c.arch_inv(
                inv::ioport_control_issue(
                    a,
                    mj!(rng, first),
                    mj!(rng, last),
                    P_ROOT,
                    slot,
                    P_BITS as u8,
                ),
                rng,
            );
            c.effect = Effect::Set(slot, 1, Obj::IoPort);
        }
        Obj::IoPort => {
            let port = mj!(rng, rng.range(SAFE_PORTS.0 as u64, SAFE_PORTS.1 as u64)) as u16;
            let width = rng.pick(&[8u32, 16, 32]);
            if rng.chance(1, 2) {
                c.arch_inv(inv::ioport_in(a, width, port), rng);
            } else {
                c.arch_inv(inv::ioport_out(a, width, port, rng.next_u64() as u32), rng);
            }
        }
        Obj::Frame => {
            let rights = CapRights(if rng.chance(3, 4) { 3 } else { rng.below(16) });
            match rng.below(8) {
                0..=3 => c.arch_inv(
                    inv::page_map(a, cap(rng, Obj::VSpace), vaddr(rng), rights, rng.below(8)),
                    rng,
                ),
                4 => c.arch_inv(inv::page_unmap(a), rng),
                5 => c.arch_inv(inv::page_get_address(a), rng),
                _ => {
                    let l = rng.pick(&[
                        ArchLabel::PageCleanData,
                        ArchLabel::PageInvalidateData,
                        ArchLabel::PageCleanInvalidateData,
                        ArchLabel::PageUnifyInstruction,
                    ]);
                    let start = mj!(rng, rng.below(0x1000));
                    let end = mj!(rng, start + rng.below(0x1000));
                    c.args(al(l), &[start, end], &[]);
                    if c.label == u64::MAX {
                        c.args(junk_label(rng), &[], &[]);
                    }
                }
            }
        }
        Obj::PageTable | Obj::PageDirectory | Obj::Pdpt => {
            let vs = cap(rng, Obj::VSpace);
            let attr = rng.below(8);
            let unmap = rng.chance(1, 6);
            let i = match (c.obj, unmap) {
                (Obj::PageTable, false) => inv::page_table_map(a, vs, vaddr(rng), attr),
                (Obj::PageTable, true) => inv::page_table_unmap(a),
                (Obj::PageDirectory, false) => inv::page_directory_map(a, vs, vaddr(rng), attr),
                (Obj::PageDirectory, true) => {
                    sel4_abi::arch_label_number(a, ArchLabel::PageDirectoryUnmap)
                        .map(|l| Invocation {
                            label: l,
                            mrs: [0; inv::MAX_ARGS],
                            len: 0,
                            caps: [0; 3],
                            ncaps: 0,
                        })
                        .ok_or(inv::NoSuchMethod)
                }
                (_, false) => inv::pdpt_map(a, vs, vaddr(rng), attr),
                (_, true) => sel4_abi::arch_label_number(a, ArchLabel::PdptUnmap)
                    .map(|l| Invocation {
                        label: l,
                        mrs: [0; inv::MAX_ARGS],
                        len: 0,
                        caps: [0; 3],
                        ncaps: 0,
                    })
                    .ok_or(inv::NoSuchMethod),
            };
            c.arch_inv(i, rng);
        }
        Obj::VSpace => {
            if a == Arch::Aarch64 && rng.chance(3, 4) {
                let l = rng.pick(&[
                    ArchLabel::VSpaceCleanData,
                    ArchLabel::VSpaceInvalidateData,
                    ArchLabel::VSpaceCleanInvalidateData,
                    ArchLabel::VSpaceUnifyInstruction,
                ]);
                let start = vaddr(rng);
                c.args(al(l), &[start, mj!(rng, start + rng.below(0x2000))], &[]);
            } else {
                c.args(junk_label(rng), &[], &[]);
                c.junk_label = true;
            }
        }
        Obj::AsidControl => {
            let slot = free_slot(rng);
            c.arch_inv(
                inv::asid_control_make_pool(a, cap(rng, Obj::Untyped), P_ROOT, slot, P_BITS as u8),
                rng,
            );
            c.effect = Effect::Set(slot, 1, Obj::AsidPool);
        }
        Obj::AsidPool => {
            if rng.chance(1, 8) {
                c.arch_inv(inv::asid_pool_assign(a, rcap(R_EP)), rng);
                if stable {
                    c.predict = Some(Error::InvalidCapability);
                }
            } else {
                // A RISC-V VSpace is a page table: assign P's tables, never the stable one
                // (whose kind the predictions rely on).
                let vs = if a == Arch::Riscv64 && rng.chance(1, 2) {
                    p_cap(rng, Obj::PageTable)
                } else {
                    cap(rng, Obj::VSpace)
                };
                c.arch_inv(inv::asid_pool_assign(a, vs), rng);
            }
        }
        Obj::Smc => {
            let mut regs = [0u64; 8];
            for r in regs.iter_mut() {
                *r = rng.junk();
            }
            c.arch_inv(inv::arm_smc_call(a, &regs), rng);
        }
        Obj::Domain => match rng.below(3) {
            0 => c.inv(inv::domain_set_set(mj!(rng, 0), cap(rng, Obj::Tcb))),
            1 => c.inv(inv::domain_schedule_configure(
                mj!(rng, rng.below(4)),
                mj!(rng, 0),
                mj!(rng, rng.range(1000, 100_000)),
            )),
            _ => c.inv(inv::domain_schedule_set_start(mj!(rng, rng.below(4)))),
        },
        Obj::None | Obj::Raw => {}
    }
    mutate(rng, c);
}

/// Sometimes turns a template into a malformed message whose error seL4 defines.
fn mutate(rng: &mut Rng, c: &mut Call) {
    if c.sys != Syscall::Call as i64 || !c.obj.always_replies() || c.predict.is_some() {
        return;
    }
    match rng.below(12) {
        0 => {
            c.label = junk_label(rng);
            c.junk_label = true;
            c.len = rng.below(4);
            c.fill = c.len as usize;
            c.ncaps = 0;
        }
        1 => {
            if let Some((l, _)) = min_args(ARCH, c.obj, c.label) {
                c.len = rng.below(l.max(1)).min(c.len);
                c.fill = c.len as usize;
                c.ncaps = 0;
            }
        }
        2 if c.len > 0 => {
            let i = rng.below(c.len) as usize;
            c.mrs[i] = rng.junk();
        }
        3 if c.ncaps > 0 => {
            let i = rng.below(c.ncaps) as usize;
            c.caps[i] = any_cap(rng);
        }
        _ => {}
    }
    if c.stable {
        c.predict = c.predict.or(predicted_error(
            ARCH,
            c.obj,
            c.label,
            c.len,
            c.ncaps,
            c.junk_label,
        ));
    }
}

/// Fills `c` with a raw system call: random number, cap, tag, message and buffer.
fn raw_call(rng: &mut Rng, c: &mut Call) {
    const ALLOWED_NON_API: [i64; 4] = [-15, -16, -17, -33];
    c.sys = match rng.below(10) {
        0..=5 => -(rng.range(1, 11) as i64),
        6 => rng.pick(&ALLOWED_NON_API),
        _ => {
            let n = rng.junk() as i64;
            if (-33..=-1).contains(&n) || (MAGIC_BASE..MAGIC_BASE + 16).contains(&n) {
                1000 + rng.below(1000) as i64
            } else {
                n
            }
        }
    };
    c.cap = match rng.below(5) {
        0 => rng.junk(),
        1 => rcap(rng.below(1 << R_BITS)),
        _ => pcap(rng.below(P_SLOTS)),
    };
    c.label = if rng.chance(1, 2) {
        rng.below(64)
    } else {
        rng.junk()
    };
    c.len = rng.below(128);
    c.ncaps = rng.below(4);
    if rng.chance(1, 4) {
        c.info = Some(rng.next_u64());
    }
    c.fill = rng.below(121) as usize;
    for i in 0..c.fill {
        c.mrs[i] = rng.junk();
    }
    for i in 0..3 {
        c.caps[i] = if rng.chance(3, 4) {
            any_cap(rng)
        } else {
            rng.junk()
        };
    }
    c.reply = if rng.chance(3, 4) {
        any_cap(rng)
    } else {
        rng.junk()
    };
    c.dest = if rng.chance(3, 4) {
        any_cap(rng)
    } else {
        rng.junk()
    };
    c.recv = Some(if rng.chance(3, 4) {
        (P_ROOT, rng.below(P_SLOTS), P_BITS)
    } else {
        (rng.junk(), rng.junk(), rng.junk())
    });
    c.cptrs_resolve = false;
}

/// Generates call `index`.
fn generate(index: u64) -> Call {
    let mut rng = Rng::for_call(SEED, index);
    if rng.chance(1, 5) {
        let mut c = Call::new(Obj::Raw);
        raw_call(&mut rng, &mut c);
        return c;
    }
    let n = template_kinds().count() as u64;
    let obj = template_kinds()
        .nth(rng.below(n) as usize)
        .unwrap_or(Obj::Tcb);
    let mut c = Call::new(obj);
    template(&mut rng, &mut c);
    c
}

fn label_bucket(label: u64) -> usize {
    if label < JUNK_BUCKET as u64 {
        label as usize
    } else {
        JUNK_BUCKET
    }
}

fn label_name(b: usize) -> &'static str {
    if b == JUNK_BUCKET {
        return "junk label";
    }
    if let Some(l) = Label::from_u64(b as u64) {
        return l.name();
    }
    let labels = arch_labels(ARCH);
    match b.checked_sub(sel4_abi::label::FIRST_ARCH_LABEL as usize) {
        Some(i) if i < labels.len() => labels[i].1,
        _ => "unnamed label",
    }
}

/// Reports an invalid result of call `index` and stops the campaign.
fn worker_invalid(index: u64, c: &Call, what: &str, got: u64) -> ! {
    println!(
        "fuzz: INVALID seed={} call={}: {} (got {:#x}; {} sys {} cap {:#x} label {:#x} len {} caps {} predicted {:?})",
        SEED,
        index,
        what,
        got,
        c.obj.name(),
        c.sys,
        c.cap,
        c.label,
        c.len,
        c.ncaps,
        c.predict
    );
    loop {
        magic(MAGIC_FAIL, index);
    }
}

extern "C" fn worker_entry(start: u64) -> ! {
    let Some(buf) = ThreadBuffer::new(WORKER_IPC) else {
        loop {
            magic(MAGIC_FAIL, u64::MAX);
        }
    };
    let mut i = start;
    loop {
        if i >= CALLS {
            CUR.store(i, Relaxed);
            loop {
                magic(MAGIC_DONE, i);
            }
        }
        if i.is_multiple_of(EPOCH_CALLS) && EPOCH_AT.load(Relaxed) != i {
            CUR.store(i, Relaxed);
            CUR_FLAGS.store(0, Relaxed);
            magic(MAGIC_EPOCH, i);
        }
        let mut c = generate(i);
        let mut flags = 0;
        let call = c.sys == Syscall::Call as i64;
        if call && c.cptrs_resolve {
            flags |= NO_FAULT;
        }
        if call && c.stable && c.obj.always_replies() {
            flags |= NO_BLOCK;
        }
        if c.sys == Syscall::NBSend as i64 {
            flags |= NO_FAULT | NO_BLOCK;
        }
        if c.sys == Syscall::NBRecv as i64 || c.sys == Syscall::NBWait as i64 {
            flags |= NO_BLOCK;
        }
        let info = c
            .info
            .unwrap_or(MessageInfo::new(c.label, 0, c.ncaps, c.len).0);
        let label = info >> 12;
        c.mrs[0] = sanitize_port_write(ARCH, label, c.mrs[0]);
        for k in 4..c.fill.max(c.len as usize).min(120) {
            buf.set_mr(k, c.mrs[k]);
        }
        for (k, &cp) in c.caps.iter().enumerate() {
            buf.set_cap(k, cp);
        }
        if let Some((cn, idx, d)) = c.recv {
            buf.set_receive_slot(cn, idx, d);
        }
        CUR_SYS.store(c.sys as u64, Relaxed);
        CUR_FLAGS.store(flags, Relaxed);
        CUR.store(i, Relaxed);
        bump(&SYSCALLS[sys_bucket(c.sys)]);
        let r = raw(
            c.sys,
            Regs {
                cap: c.cap,
                info,
                mr: [c.mrs[0], c.mrs[1], c.mrs[2], c.mrs[3]],
                reply: c.reply,
                dest: c.dest,
            },
        );
        // Back from the kernel: check what it says.
        if call {
            let got = r.info >> 12;
            if got > 10 {
                worker_invalid(i, &c, "reply label is no seL4_Error", got);
            }
            if got != 0 && !error_reply_shape_ok(got, r.info & 0x7f) {
                worker_invalid(i, &c, "error reply of the wrong length", r.info);
            }
            bump(&REPLIES[got as usize]);
            if let Some(e) = c.predict {
                if got != e as u64 {
                    worker_invalid(i, &c, "reply differs from the error seL4 gives", got);
                }
                bump(&PREDICTED);
            }
            if got == 0 && c.obj != Obj::Raw {
                if c.obj.always_replies() && c.obj != Obj::Notification {
                    bump(&OK[c.obj as usize][label_bucket(label)]);
                } else {
                    bump(&OK_SYS[c.obj as usize][sys_bucket(c.sys)]);
                }
                match c.effect {
                    Effect::None => {}
                    Effect::Set(k, n, o) => {
                        for s in k..(k + n).min(P_SLOTS) {
                            set_kind(s, o);
                        }
                    }
                    Effect::Copy(d, s) => set_kind(d, kind(s)),
                    Effect::Move(d, s) => {
                        set_kind(d, kind(s));
                        set_kind(s, Obj::None);
                    }
                    Effect::Clear(s) => set_kind(s, Obj::None),
                }
            }
        } else if !matches!(c.obj, Obj::Raw) {
            bump(&OK_SYS[c.obj as usize][sys_bucket(c.sys)]);
        }
        i += 1;
    }
}

// ---------------------------------------------------------------- supervisor

/// Everything the supervisor holds.
struct World {
    root: Root<Sel4>,
    sup_ep: u64,
    sup_reply: u64,
    /// Badged cap of `sup_ep` the puppets report faults on.
    ep_puppet: u64,
    r_cnode: u64,
    epoch_ut: u64,
    scratch: u64,
    worker: u64,
    victims: u64,
    epoch: u64,
}

const SCRATCH: u64 = 96;

fn step<T>(what: &str, r: Result<T, RootError>) -> T {
    r.unwrap_or_else(|e| {
        println!("fuzz: FAILED setup: {}: {}", what, e);
        syscall::debug_halt();
        loop {
            syscall::yield_now();
        }
    })
}

impl World {
    fn invoke(&mut self, what: &str, cap: u64, i: Invocation) {
        step(what, self.root.invoke(cap, &i).map(|_| ()));
    }
    fn invoke_arch(&mut self, what: &str, cap: u64, i: Result<Invocation, inv::NoSuchMethod>) {
        let i = step(what, i.map_err(|_| RootError::NoSuchMethod));
        self.invoke(what, cap, i);
    }
    /// Retypes `n` objects from the epoch untyped into scratch slots; returns the first.
    fn epoch_retype(&mut self, cursor: &mut u64, kind: ObjectKind, bits: u64, n: u64) -> u64 {
        let ty = step(
            "object type",
            object_type(ARCH, kind).ok_or(RootError::NoSuchMethod),
        );
        let slot = self.scratch + *cursor;
        *cursor += n;
        let ut = self.epoch_ut;
        self.invoke(
            "epoch retype",
            ut,
            inv::untyped_retype(ty, bits, CNODE, 0, 0, slot, n),
        );
        slot
    }
    /// Moves root slot `src` into R slot `j`.
    fn move_to_r(&mut self, src: u64, j: u64) {
        let r = self.r_cnode;
        self.invoke(
            "move into R",
            r,
            inv::cnode_move(j, R_BITS as u8, CNODE, src, 64),
        );
    }
    /// Moves root slot `src` into P slot `k`.
    fn move_to_p(&mut self, p: u64, src: u64, k: u64, o: Obj) {
        self.invoke(
            "move into P",
            p,
            inv::cnode_move(k, P_BITS as u8, CNODE, src, 64),
        );
        set_kind(k, o);
    }
    /// Copies R slot `j` into P slot `k`.
    fn r_to_p(&mut self, p: u64, j: u64, k: u64, o: Obj) {
        let r = self.r_cnode;
        self.invoke(
            "copy R into P",
            p,
            inv::cnode_copy(k, P_BITS as u8, r, j, R_BITS as u8, CapRights::ALL),
        );
        set_kind(k, o);
    }
    fn configure_sc(&mut self, sc: u64, budget: u64, period: u64) {
        let ctl = self.root.sched_control;
        self.invoke(
            "configure SC",
            ctl,
            inv::sched_control_configure_flags(sc, budget, period, 0, 0, 0),
        );
    }

    /// Deletes every object of the last epoch and makes the worker's objects afresh.
    fn new_epoch(&mut self) {
        self.epoch += 1;
        bump(&EPOCHS);
        let ut = self.epoch_ut;
        self.invoke("revoke epoch untyped", CNODE, inv::cnode_revoke(ut, 64));
        for k in KINDS.iter() {
            k.store(0, Relaxed);
        }
        let mut cur = 0;
        let p = self.epoch_retype(&mut cur, ObjectKind::CNode, P_BITS, 1);
        let r = self.r_cnode;
        self.invoke(
            "P into R",
            r,
            inv::cnode_copy(R_P, R_BITS as u8, CNODE, p, 64, CapRights::ALL),
        );
        // The worker's cptr of R's slot 1 resolves to P's slot 0: P itself goes there too.
        for s in [0, 1] {
            self.invoke(
                "P into P",
                p,
                inv::cnode_copy(s, P_BITS as u8, CNODE, p, 64, CapRights::ALL),
            );
            set_kind(s, Obj::CNode);
        }
        let mut k = 2;
        let mut next = || {
            k += 1;
            k - 1
        };

        // Puppets: threads in a VSpace of their own, with a small CNode as CSpace.
        let vs = self.epoch_retype(&mut cur, ObjectKind::VSpace, 0, 1);
        self.invoke_arch(
            "assign puppet vspace",
            init_caps::ASID_POOL,
            inv::asid_pool_assign(ARCH, vs),
        );
        // Every paging level under the first hot address, so frame maps there can succeed
        // (the worker's own page-table maps build the other regions).
        let levels: &[ObjectKind] = match ARCH {
            Arch::X86_64 => &[
                ObjectKind::X86Pdpt,
                ObjectKind::X86PageDirectory,
                ObjectKind::PageTable,
            ],
            Arch::Aarch64 => &[ObjectKind::PageTable; 3],
            Arch::Riscv64 => &[ObjectKind::PageTable; 2],
        };
        for &kind in levels {
            let t = self.epoch_retype(&mut cur, kind, 0, 1);
            let attr = inv::default_vm_attributes(ARCH);
            let map = match kind {
                ObjectKind::X86Pdpt => inv::pdpt_map(ARCH, vs, HOT_VADDRS[0], attr),
                ObjectKind::X86PageDirectory => {
                    inv::page_directory_map(ARCH, vs, HOT_VADDRS[0], attr)
                }
                _ => inv::page_table_map(ARCH, vs, HOT_VADDRS[0], attr),
            };
            self.invoke_arch("map puppet page table", t, map);
        }
        let small = self.epoch_retype(&mut cur, ObjectKind::CNode, SMALL_CNODE_BITS, 1);
        let tcbs = self.epoch_retype(&mut cur, ObjectKind::Tcb, 0, 3);
        let scs = self.epoch_retype(&mut cur, ObjectKind::SchedContext, 8, 3);
        for i in 0..3 {
            self.configure_sc(scs + i, 1000, 10_000);
            self.invoke(
                "puppet configure",
                tcbs + i,
                inv::tcb_configure(small, 0, vs, 0, 0, 0),
            );
            let ep = self.ep_puppet;
            self.invoke(
                "puppet sched params",
                tcbs + i,
                inv::tcb_set_sched_params(TCB, PRIO_WORKER, PRIO_PUPPET, scs + i, ep),
            );
        }
        self.move_to_r(tcbs, R_TCB);
        self.move_to_r(scs, R_SC);
        self.move_to_r(vs, R_VSPACE);
        self.move_to_r(small, R_CNODE);
        self.r_to_p(p, R_TCB, next(), Obj::Tcb);
        self.r_to_p(p, R_SC, next(), Obj::SchedContext);
        self.r_to_p(p, R_VSPACE, next(), Obj::VSpace);
        self.r_to_p(p, R_CNODE, next(), Obj::CNode);
        for i in 1..3 {
            self.move_to_p(p, tcbs + i, next(), Obj::Tcb);
            self.move_to_p(p, scs + i, next(), Obj::SchedContext);
        }
        // IPC objects: one stable of each, one more in P.
        for (kind, o, j) in [
            (ObjectKind::Endpoint, Obj::Endpoint, R_EP),
            (ObjectKind::Notification, Obj::Notification, R_NTFN),
            (ObjectKind::Reply, Obj::Reply, R_REPLY),
        ] {
            let s = self.epoch_retype(&mut cur, kind, 0, 2);
            self.move_to_r(s, j);
            self.r_to_p(p, j, next(), o);
            self.move_to_p(p, s + 1, next(), o);
        }
        // Paging objects, unmapped (cannot be copied: one for R, one for P each).
        let tables: &[(ObjectKind, Obj, u64)] = match ARCH {
            Arch::X86_64 => &[
                (ObjectKind::PageTable, Obj::PageTable, R_PT),
                (ObjectKind::X86PageDirectory, Obj::PageDirectory, R_PD),
                (ObjectKind::X86Pdpt, Obj::Pdpt, R_PDPT),
            ],
            _ => &[(ObjectKind::PageTable, Obj::PageTable, R_PT)],
        };
        for &(kind, o, j) in tables {
            let s = self.epoch_retype(&mut cur, kind, 0, 7);
            self.move_to_r(s, j);
            for i in 1..7 {
                self.move_to_p(p, s + i, next(), o);
            }
        }
        let vs2 = self.epoch_retype(&mut cur, ObjectKind::VSpace, 0, 1);
        self.move_to_p(
            p,
            vs2,
            next(),
            if ARCH == Arch::Riscv64 {
                Obj::PageTable
            } else {
                Obj::VSpace
            },
        );
        // Frames: 4 KiB (a stable one and copies), one large page.
        let f = self.epoch_retype(&mut cur, ObjectKind::Frame { size_bits: 12 }, 0, 4);
        self.move_to_r(f, R_FRAME);
        self.r_to_p(p, R_FRAME, next(), Obj::Frame);
        for i in 1..4 {
            self.move_to_p(p, f + i, next(), Obj::Frame);
        }
        let big = self.epoch_retype(&mut cur, ObjectKind::Frame { size_bits: 21 }, 0, 1);
        self.move_to_p(p, big, next(), Obj::Frame);
        // Untypeds: 4 KiB ones (ASID pools), and larger ones to retype from.
        let u = self.epoch_retype(&mut cur, ObjectKind::Untyped, 12, 3);
        for i in 0..3 {
            self.move_to_p(p, u + i, next(), Obj::Untyped);
        }
        let u16 = self.epoch_retype(&mut cur, ObjectKind::Untyped, 16, 2);
        for i in 0..2 {
            self.move_to_p(p, u16 + i, next(), Obj::Untyped);
        }
        let u20 = self.epoch_retype(&mut cur, ObjectKind::Untyped, 20, 3);
        self.move_to_r(u20, R_UNTYPED);
        for i in 1..3 {
            self.move_to_p(p, u20 + i, next(), Obj::Untyped);
        }
        // Copies of the permanent caps the worker may copy and move around.
        self.r_to_p(p, R_ASID_POOL, next(), Obj::AsidPool);
        if ARCH == Arch::X86_64 {
            self.r_to_p(p, R_IOPORT, next(), Obj::IoPort);
        }

        // Victims: each restarted in the next fault mode.
        for v in 0..NUM_VICTIMS as u64 {
            let mode = self.epoch + v;
            let tcb = self.victims + v;
            let top = VICTIM_STACKS[v as usize].top();
            step(
                "start victim",
                self.root.start_thread(tcb, victim_entry, top, mode),
            );
        }
    }

    fn restart_worker(&mut self, at: u64) {
        let w = self.worker;
        step(
            "restart worker",
            self.root
                .start_thread(w, worker_entry, WORKER_STACK.top(), at),
        );
    }
}

/// Prints the coverage table.
fn print_coverage() {
    println!(
        "fuzz: coverage (seed {}, {} calls, {} epochs, arch {})",
        SEED,
        CUR.load(Relaxed),
        EPOCHS.load(Relaxed),
        arch_name()
    );
    println!("fuzz: syscalls executed:");
    for (b, c) in SYSCALLS.iter().enumerate() {
        let n = c.load(Relaxed);
        if n == 0 {
            continue;
        }
        let name = if b == UNKNOWN_SYS_BUCKET {
            "(unknown numbers)"
        } else {
            Syscall::from_number(-(b as i64) - 1)
                .map(|s| s.name())
                .unwrap_or("?")
        };
        println!("fuzz:   {:<32} {}", name, n);
    }
    println!("fuzz: successful invocations per object type and label:");
    for o in Obj::ALL {
        if o == Obj::None || !o.exists_on(ARCH) {
            continue;
        }
        let mut any = false;
        for (b, c) in OK[o as usize].iter().enumerate() {
            let n = c.load(Relaxed);
            if n > 0 {
                println!("fuzz:   {:<14} {:<32} {}", o.name(), label_name(b), n);
                any = true;
            }
        }
        for (b, c) in OK_SYS[o as usize].iter().enumerate() {
            let n = c.load(Relaxed);
            if n > 0 {
                let name = Syscall::from_number(-(b as i64) - 1)
                    .map(|s| s.name())
                    .unwrap_or("?");
                println!("fuzz:   {:<14} sys {:<28} {}", o.name(), name, n);
                any = true;
            }
        }
        if !any && o != Obj::Raw {
            println!(
                "fuzz:   {:<14} {:<32} 0   <- coverage hole",
                o.name(),
                "(no success)"
            );
        }
    }
    // Holes: object kinds with no success at all, and the methods a campaign must reach.
    let mut holes = 0;
    let mut hole = |name: &str| {
        if holes == 0 {
            syscall::debug_puts("fuzz: holes:");
        }
        syscall::debug_puts(" ");
        syscall::debug_puts(name);
        holes += 1;
    };
    // (A VSpace has methods only on AArch64; elsewhere it is used through ASID pools and maps.)
    for o in template_kinds().filter(|&o| o != Obj::VSpace || ARCH == Arch::Aarch64) {
        let n: u32 = OK[o as usize]
            .iter()
            .chain(OK_SYS[o as usize].iter())
            .map(|c| c.load(Relaxed))
            .sum();
        if n == 0 {
            hole(o.name());
        }
    }
    let must: [(Obj, ArchLabel, &str); 5] = [
        (Obj::PageTable, ArchLabel::PageTableMap, "PageTableMap"),
        (
            Obj::PageDirectory,
            ArchLabel::PageDirectoryMap,
            "PageDirectoryMap",
        ),
        (Obj::Pdpt, ArchLabel::PdptMap, "PDPTMap"),
        (Obj::Frame, ArchLabel::PageMap, "PageMap"),
        (
            Obj::AsidControl,
            ArchLabel::AsidControlMakePool,
            "ASIDControlMakePool",
        ),
    ];
    for (o, l, name) in must {
        if o.exists_on(ARCH) && OK[o as usize][label_bucket(arch_label(ARCH, l))].load(Relaxed) == 0
        {
            hole(name);
        }
    }
    if holes == 0 {
        println!("fuzz: holes: none");
    } else {
        sel4_root::Console::newline();
    }
    let r: [u32; 11] = core::array::from_fn(|i| REPLIES[i].load(Relaxed));
    println!(
        "fuzz: replies by label (0 = success, then seL4_Error 1..10): {:?}",
        r
    );
    let wf: [u32; 7] = core::array::from_fn(|i| WORKER_FAULTS[i].load(Relaxed));
    let vf: [u32; 7] = core::array::from_fn(|i| VICTIM_FAULTS[i].load(Relaxed));
    println!("fuzz: worker faults by type (null, cap, unknown syscall, user exception, debug, timeout, VM): {:?}", wf);
    println!(
        "fuzz: victim faults by type: {:?}; puppet faults {}; worker blocked and restarted {}",
        vf,
        PUPPET_FAULTS.load(Relaxed),
        BLOCKED.load(Relaxed)
    );
    println!("fuzz: predicted errors checked {}", PREDICTED.load(Relaxed));
}

fn finish(failed: bool) -> ! {
    print_coverage();
    if failed {
        println!("fuzz: FAILED seed={} at call {}", SEED, CUR.load(Relaxed));
    } else {
        println!(
            "fuzz: done: seed={} calls={} arch={}: no panic, no hang, every reply valid",
            SEED,
            CUR.load(Relaxed),
            arch_name()
        );
    }
    syscall::debug_halt();
    loop {
        syscall::yield_now();
    }
}

fn supervisor_invalid(what: &str, got: u64) -> ! {
    println!(
        "fuzz: INVALID seed={} call={}: {} (got {:#x})",
        SEED,
        CUR.load(Relaxed),
        what,
        got
    );
    finish(true)
}

/// Entered from `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo_addr: u64) -> ! {
    println!(
        "fuzz: start ({}), seed {}, {} calls",
        arch_name(),
        SEED,
        CALLS
    );
    let bi = sel4_root::rt::boot_info(bootinfo_addr);
    let mut root = step("bootinfo", Root::new(bi, ARCH, Sel4));

    // Supervisor endpoint, its reply object and badged caps.
    let sup_ep = step("endpoint", root.retype(ObjectKind::Endpoint, 0, 1));
    let sup_reply = step("reply", root.retype(ObjectKind::Reply, 0, 1));
    let badged = step(
        "slots",
        root.slots
            .alloc_range(4 + NUM_VICTIMS as u64)
            .map_err(RootError::from),
    );
    for (i, b) in [BADGE_WORKER, BADGE_SENTINEL, BADGE_PUPPET]
        .into_iter()
        .enumerate()
    {
        step(
            "mint",
            root.mint(CNODE, badged + i as u64, 64, sup_ep, CapRights::ALL, b),
        );
    }
    let ep_victims = badged + 3;
    for v in 0..NUM_VICTIMS as u64 {
        step(
            "mint",
            root.mint(
                CNODE,
                ep_victims + v,
                64,
                sup_ep,
                CapRights::ALL,
                BADGE_VICTIM + v,
            ),
        );
    }

    // R, with the permanent caps.
    let r_cnode = step("R", root.retype(ObjectKind::CNode, R_BITS, 1));
    let mv = |root: &mut Root<Sel4>, src: u64, j: u64| {
        step(
            "move control cap into R",
            root.invoke(r_cnode, &inv::cnode_move(j, R_BITS as u8, CNODE, src, 64))
                .map(|_| ()),
        );
    };
    let cp = |root: &mut Root<Sel4>, src: u64, j: u64| {
        step(
            "copy control cap into R",
            root.invoke(
                r_cnode,
                &inv::cnode_copy(j, R_BITS as u8, CNODE, src, 64, CapRights::ALL),
            )
            .map(|_| ()),
        );
    };
    if ARCH == Arch::X86_64 {
        let port = step(
            "issue safe ports",
            root.slots.alloc().map_err(RootError::from),
        );
        step(
            "issue safe ports",
            root.invoke(
                init_caps::IO_PORT_CONTROL,
                &step(
                    "issue",
                    inv::ioport_control_issue(
                        ARCH,
                        SAFE_PORTS.0 as u64,
                        WORKER_PORTS.0 as u64 - 1,
                        CNODE,
                        port,
                        64,
                    )
                    .map_err(|_| RootError::NoSuchMethod),
                ),
            )
            .map(|_| ()),
        );
        mv(&mut root, port, R_IOPORT);
        mv(&mut root, init_caps::IO_PORT_CONTROL, R_IOPORT_CONTROL);
    }
    mv(&mut root, init_caps::IRQ_CONTROL, R_IRQ_CONTROL);
    cp(&mut root, init_caps::ASID_CONTROL, R_ASID_CONTROL);
    cp(&mut root, init_caps::ASID_POOL, R_ASID_POOL);
    let ctl = root.sched_control;
    cp(&mut root, ctl, R_SCHED_CONTROL);
    cp(&mut root, init_caps::DOMAIN, R_DOMAIN);
    if ARCH == Arch::Aarch64 {
        cp(&mut root, init_caps::SMC, R_SMC);
    }

    // The epoch untyped and the scratch slots objects are made in before they move.
    let epoch_ut = step("epoch untyped", root.retype(ObjectKind::Untyped, 23, 1));
    let scratch = step(
        "scratch",
        root.slots.alloc_range(SCRATCH).map_err(RootError::from),
    );

    // Worker: R as CSpace (guarded so R and P resolve 64 bits), the root VSpace, its own
    // IPC buffer, a round-robin SC, faults to the supervisor.
    let worker = step("worker tcb", root.retype(ObjectKind::Tcb, 0, 1));
    let worker_sc = step("worker sc", root.retype(ObjectKind::SchedContext, 8, 1));
    let ipc = step(
        "worker ipc",
        root.retype(ObjectKind::Frame { size_bits: 12 }, 0, 1),
    );
    step(
        "map worker ipc",
        root.map_frame(ipc, WORKER_IPC, CapRights::READ_WRITE),
    );
    step(
        "worker sc",
        root.invoke(
            ctl,
            &inv::sched_control_configure_flags(worker_sc, 5000, 5000, 0, 0, 0),
        )
        .map(|_| ()),
    );
    step(
        "worker configure",
        root.invoke(
            worker,
            &inv::tcb_configure(
                r_cnode,
                cnode_cap_data(0, R_GUARD_BITS),
                VSPACE,
                0,
                WORKER_IPC,
                ipc,
            ),
        )
        .map(|_| ()),
    );
    step(
        "worker sched params",
        root.invoke(
            worker,
            &inv::tcb_set_sched_params(TCB, PRIO_WORKER, PRIO_WORKER, worker_sc, badged),
        )
        .map(|_| ()),
    );

    // Sentinel: a CSpace holding only its badged cap to the supervisor endpoint (slot 1).
    let s_cnode = step("sentinel cnode", root.retype(ObjectKind::CNode, 1, 1));
    step(
        "sentinel cap",
        root.mint(s_cnode, 1, 1, sup_ep, CapRights::ALL, BADGE_SENTINEL),
    );
    let sentinel = step("sentinel tcb", root.retype(ObjectKind::Tcb, 0, 1));
    let sentinel_sc = step("sentinel sc", root.retype(ObjectKind::SchedContext, 8, 1));
    step(
        "sentinel sc",
        root.invoke(
            ctl,
            &inv::sched_control_configure_flags(sentinel_sc, 5000, 5000, 0, 0, 0),
        )
        .map(|_| ()),
    );
    step(
        "sentinel configure",
        root.invoke(
            sentinel,
            &inv::tcb_configure(s_cnode, cnode_cap_data(0, 63), VSPACE, 0, 0, 0),
        )
        .map(|_| ()),
    );
    step(
        "sentinel sched params",
        root.invoke(
            sentinel,
            &inv::tcb_set_sched_params(TCB, PRIO_SENTINEL, PRIO_SENTINEL, sentinel_sc, badged + 1),
        )
        .map(|_| ()),
    );

    // Victims: an empty CSpace, the root VSpace, faults to the supervisor.
    let v_cnode = step("victim cnode", root.retype(ObjectKind::CNode, 1, 1));
    let victims = step(
        "victim tcbs",
        root.retype(ObjectKind::Tcb, 0, NUM_VICTIMS as u64),
    );
    let victim_scs = step(
        "victim scs",
        root.retype(ObjectKind::SchedContext, 8, NUM_VICTIMS as u64),
    );
    for v in 0..NUM_VICTIMS as u64 {
        step(
            "victim sc",
            root.invoke(
                ctl,
                &inv::sched_control_configure_flags(victim_scs + v, 5000, 5000, 0, 0, 0),
            )
            .map(|_| ()),
        );
        step(
            "victim configure",
            root.invoke(
                victims + v,
                &inv::tcb_configure(v_cnode, cnode_cap_data(0, 63), VSPACE, 0, 0, 0),
            )
            .map(|_| ()),
        );
        step(
            "victim sched params",
            root.invoke(
                victims + v,
                &inv::tcb_set_sched_params(
                    TCB,
                    PRIO_VICTIM,
                    PRIO_VICTIM,
                    victim_scs + v,
                    ep_victims + v,
                ),
            )
            .map(|_| ()),
        );
    }

    let mut w = World {
        root,
        sup_ep,
        sup_reply,
        ep_puppet: badged + 2,
        r_cnode,
        epoch_ut,
        scratch,
        worker,
        victims,
        epoch: 0,
    };
    step(
        "start sentinel",
        w.root
            .start_thread(sentinel, sentinel_entry, SENTINEL_STACK.top(), 0),
    );
    w.new_epoch();
    EPOCH_AT.store(0, Relaxed);
    w.restart_worker(0);
    supervise(&mut w)
}

fn supervise(w: &mut World) -> ! {
    let mut reply_sentinel = false;
    loop {
        let (info, badge) = if reply_sentinel {
            syscall::reply_recv(w.sup_ep, MessageInfo::new(0, 0, 0, 0), w.sup_reply)
        } else {
            syscall::recv(w.sup_ep, w.sup_reply)
        };
        reply_sentinel = false;
        let label = info.label();
        let cur = CUR.load(Relaxed);
        match badge {
            BADGE_WORKER => {
                if label == 0 || label > FaultType::VmFault as u64 {
                    supervisor_invalid("worker message is no fault", label);
                }
                if label == FaultType::UnknownSyscall as u64 {
                    let n = sel4_sys::get_mr(af::unknown_syscall_syscall_index(ARCH)) as i64;
                    let arg = cur;
                    match n {
                        MAGIC_EPOCH => {
                            w.new_epoch();
                            EPOCH_AT.store(arg, Relaxed);
                            w.restart_worker(arg);
                            continue;
                        }
                        MAGIC_DONE => finish(false),
                        MAGIC_FAIL => finish(true),
                        _ => {}
                    }
                    let sys = CUR_SYS.load(Relaxed) as i64;
                    if n != sys {
                        supervisor_invalid("unknown-syscall fault names another number", n as u64);
                    }
                    if (-11..=-1).contains(&sys) {
                        supervisor_invalid(
                            "unknown-syscall fault for a system call seL4 has",
                            n as u64,
                        );
                    }
                } else if label == FaultType::CapFault as u64 {
                    if CUR_FLAGS.load(Relaxed) & NO_FAULT != 0 {
                        supervisor_invalid(
                            "cap fault on a call whose cptrs all resolve",
                            sel4_sys::get_mr(af::cap_fault::ADDR),
                        );
                    }
                } else {
                    supervisor_invalid("worker faulted", label);
                }
                bump(&WORKER_FAULTS[label as usize]);
                w.restart_worker(cur + 1);
            }
            BADGE_SENTINEL => {
                if label != SENTINEL_LABEL {
                    supervisor_invalid("sentinel faulted", label);
                }
                if CUR_FLAGS.load(Relaxed) & NO_BLOCK != 0 {
                    supervisor_invalid(
                        "worker blocked in a call that must not block",
                        CUR_SYS.load(Relaxed),
                    );
                }
                bump(&BLOCKED);
                w.restart_worker(cur + 1);
                reply_sentinel = true;
            }
            BADGE_PUPPET => bump(&PUPPET_FAULTS),
            b if (BADGE_VICTIM..BADGE_VICTIM + NUM_VICTIMS as u64).contains(&b) => {
                let mode = w.epoch + (b - BADGE_VICTIM);
                let want = victim_fault(mode);
                if label != want as u64 {
                    supervisor_invalid("victim fault of another type", label);
                }
                let ok = match want {
                    FaultType::VmFault => sel4_sys::get_mr(af::vm_fault::ADDR) == FAULT_ADDR,
                    FaultType::UnknownSyscall => {
                        sel4_sys::get_mr(af::unknown_syscall_syscall_index(ARCH))
                            == VICTIM_SYSCALL as u64
                    }
                    FaultType::CapFault => sel4_sys::get_mr(af::cap_fault::ADDR) == VICTIM_BAD_CPTR,
                    _ => true,
                };
                if !ok {
                    supervisor_invalid("victim fault message names another address/number", mode);
                }
                bump(&VICTIM_FAULTS[label as usize]);
            }
            _ => supervisor_invalid("message with an unknown badge", badge),
        }
    }
}
