//! Microkit-compatible protection-domain library, written against the seL4 ABI.
//!
//! A PD binary declares `protection_domain!(init)` with `fn init() -> impl Handler`. The
//! library provides the entry point, registers the IPC buffer, and runs libmicrokit's event
//! loop (`libmicrokit/src/main.c`): Recv on the input cap (slot 1) with the reply object
//! (slot 4); a badge with bit 62 set is a fault from child `badge & 0xff`, bit 63 a PPC on
//! channel `badge & 0x3f`, otherwise each set bit *i* is a notification on channel *i*.
//! Replies go out with ReplyRecv; a pending deferred signal is combined with the next
//! receive through NBSendRecv. A passive PD signals the monitor endpoint (slot 5) with an
//! empty message after `init`, again through NBSendRecv, so it is already waiting when the
//! monitor takes its scheduling context away. Slot numbers: [`microkit_layout`].
#![no_std]

pub mod cspace;
mod entry;
pub mod regions;
pub mod symbols;

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use microkit_layout as L;
use sel4_sys::syscall as sys;

pub use sel4_sys;

/// The Microkit configuration these PDs are built for (`MICROKIT_CONFIG` at build time,
/// default `debug`), named as `microkit --config` names it.
pub const CONFIG_NAME: &str = env!("SEL4_MICROKIT_CONFIG");

/// The kernel options of [`CONFIG_NAME`]'s kernel (Microkit's values); the PD numbers its
/// invocation labels for that kernel.
pub const KERNEL_CONFIG: sel4_sys::config::KernelConfig = match CONFIG_NAME.as_bytes() {
    b"release" => sel4_sys::config::KernelConfig::MICROKIT_RELEASE,
    b"benchmark" => sel4_sys::config::KernelConfig::MICROKIT_BENCHMARK,
    _ => sel4_sys::config::KernelConfig::MICROKIT_DEBUG,
};
pub use symbols::{pd_is_passive, pd_name};

/// A Microkit message tag: a label and a count of message registers.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MessageInfo(pub sel4_sys::MessageInfo);

impl MessageInfo {
    /// `microkit_msginfo_new(label, count)`.
    pub const fn new(label: u64, count: usize) -> Self {
        MessageInfo(sel4_sys::MessageInfo::new(label, 0, 0, count as u64))
    }
    /// `microkit_msginfo_get_label`.
    pub const fn label(self) -> u64 {
        self.0.label()
    }
    /// `microkit_msginfo_get_count`.
    pub const fn count(self) -> usize {
        self.0.length() as usize
    }
}

/// `microkit_mr_get(i)`.
pub fn get_mr(i: usize) -> u64 {
    sel4_sys::get_mr(i)
}

/// `microkit_mr_set(i, v)`.
pub fn set_mr(i: usize, v: u64) {
    sel4_sys::set_mr(i, v)
}

/// Runs `f` on the message registers in the IPC buffer (all 120 of them).
pub fn with_msg_regs_mut<R>(f: impl FnOnce(&mut [u64]) -> R) -> R {
    let p = sel4_sys::ipc_buffer::ipc_buffer_ptr();
    assert!(!p.is_null(), "IPC buffer not registered");
    // SAFETY: `p` is this PD's IPC buffer (registered at entry); the PD is single-threaded and
    // the kernel only writes the buffer while the PD is blocked in a syscall, which cannot
    // happen inside `f` without going through this library's own syscall wrappers.
    let mrs = unsafe { &mut (*p).msg };
    f(mrs)
}

/// Runs `f` on the message registers (read-only).
pub fn with_msg_regs<R>(f: impl FnOnce(&[u64]) -> R) -> R {
    with_msg_regs_mut(|m| f(m))
}

/// A channel end of this PD (id 0..=62).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Channel(u64);

impl Channel {
    /// The channel with `id` (checked at compile time when used in a `const`).
    pub const fn new(id: u64) -> Self {
        assert!(id <= L::MAX_CHANNEL_ID, "channel id must be 0..=62");
        Channel(id)
    }
    /// The channel id.
    pub const fn index(self) -> u64 {
        self.0
    }
    /// `microkit_notify`: signal the PD at the other end.
    pub fn notify(self) {
        sys::signal(L::BASE_OUTPUT_NOTIFICATION_CAP + self.0);
    }
    /// `microkit_irq_ack`: acknowledge the IRQ delivered on this channel.
    pub fn irq_ack(self) -> Result<(), sel4_sys::ops::InvokeError> {
        sel4_sys::ops::irq_handler_ack(L::BASE_IRQ_CAP + self.0)
    }
    /// `microkit_ppcall`: protected procedure call into the PD at the other end.
    pub fn pp_call(self, msg: MessageInfo) -> MessageInfo {
        MessageInfo(sys::call(L::BASE_ENDPOINT_CAP + self.0, msg.0))
    }
    /// `microkit_deferred_notify`: the signal is sent together with the next receive.
    pub fn deferred_notify(self) {
        defer(L::BASE_OUTPUT_NOTIFICATION_CAP + self.0, sel4_sys::MessageInfo::new(0, 0, 0, 0));
    }
    /// `microkit_deferred_irq_ack`: the IRQ ack is sent together with the next receive.
    pub fn deferred_irq_ack(self) {
        let ack = sel4_sys::invocation::wire_label(sel4_sys::abi::Label::IRQAckIRQ as u64);
        defer(L::BASE_IRQ_CAP + self.0, sel4_sys::MessageInfo::new(ack, 0, 0, 0));
    }
    /// Whether the tool marked this channel as notifiable (`microkit_notifications`).
    pub fn can_notify(self) -> bool {
        symbols::notifications() & (1 << self.0) != 0
    }
    /// Whether the tool marked this channel as callable (`microkit_pps`).
    pub fn can_pp_call(self) -> bool {
        symbols::pps() & (1 << self.0) != 0
    }
    /// Whether this channel is an IRQ (`microkit_irqs`).
    pub fn is_irq(self) -> bool {
        symbols::irqs() & (1 << self.0) != 0
    }
}

/// A child PD (id 0..=62) whose TCB cap this PD holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Child(u64);

impl Child {
    /// The child with `id`.
    pub const fn new(id: u64) -> Self {
        assert!(id <= L::MAX_CHANNEL_ID, "child id must be 0..=62");
        Child(id)
    }
    /// The child id.
    pub const fn index(self) -> u64 {
        self.0
    }
    /// `microkit_pd_restart`: set the child's PC to `entry` and resume it.
    pub fn pd_restart(self, entry: u64) -> Result<(), sel4_sys::ops::InvokeError> {
        // The first word of seL4_UserContext is the PC on all three arches (pc / pc / rip).
        sel4_sys::ops::tcb_write_registers(L::BASE_TCB_CAP + self.0, true, 0, &[entry])
    }
    /// `microkit_pd_stop`: suspend the child.
    pub fn pd_stop(self) -> Result<(), sel4_sys::ops::InvokeError> {
        sel4_sys::ops::tcb_suspend(L::BASE_TCB_CAP + self.0)
    }
    /// `microkit_pd_resume` (Microkit 2.3): resume the stopped child where it stopped.
    pub fn pd_resume(self) -> Result<(), sel4_sys::ops::InvokeError> {
        sel4_sys::ops::tcb_resume(L::BASE_TCB_CAP + self.0)
    }
}

/// vCPU `id` (0..=61) of the virtual machine this PD manages (`<vcpu id=…>`, hypervisor
/// kernels): its vCPU cap is at `BASE_VCPU_CAP + id` and the TCB running it at
/// `BASE_VM_TCB_CAP + id`, as in Microkit. Without those caps (no VM, or an initialiser that
/// does not build VMs yet, `docs/hyp.md`) every call gets the kernel's error.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Vcpu(u64);

impl Vcpu {
    /// The vCPU with `id`.
    pub const fn new(id: u64) -> Self {
        assert!(id <= 61, "vcpu id must be 0..=61");
        Vcpu(id)
    }
    /// The vCPU id.
    pub const fn index(self) -> u64 {
        self.0
    }
    /// Slot of the vCPU object's cap.
    pub const fn vcpu_cap(self) -> u64 {
        L::BASE_VCPU_CAP + self.0
    }
    /// Slot of the cap to the TCB that runs the vCPU.
    pub const fn tcb_cap(self) -> u64 {
        L::BASE_VM_TCB_CAP + self.0
    }
    /// `microkit_vcpu_restart`: set the vCPU thread's PC to `entry` and resume it.
    pub fn restart(self, entry: u64) -> Result<(), sel4_sys::ops::InvokeError> {
        // The first word of the aarch64 seL4_UserContext is the PC.
        sel4_sys::ops::tcb_write_registers(self.tcb_cap(), true, 0, &[entry])
    }
    /// `microkit_vcpu_stop`: suspend the vCPU thread.
    pub fn stop(self) -> Result<(), sel4_sys::ops::InvokeError> {
        sel4_sys::ops::tcb_suspend(self.tcb_cap())
    }
    /// `microkit_vcpu_arm_inject_irq`: put virtual IRQ `irq` with `priority`, `group` in
    /// list register `index` of the vCPU's virtual GIC.
    pub fn arm_inject_irq(self, irq: u16, priority: u8, group: u8, index: u8) -> Result<(), sel4_sys::ops::InvokeError> {
        sel4_sys::ops::vcpu_inject_irq(self.vcpu_cap(), irq, priority, group, index)
    }
    /// `microkit_vcpu_arm_ack_vppi`: re-enable virtual PPI `irq` after its VPPI event.
    pub fn arm_ack_vppi(self, irq: u64) -> Result<(), sel4_sys::ops::InvokeError> {
        sel4_sys::ops::vcpu_ack_vppi(self.vcpu_cap(), irq)
    }
    /// `microkit_vcpu_arm_read_reg`: the value of `seL4_VCPUReg` number `reg`.
    pub fn arm_read_reg(self, reg: u64) -> Result<u64, sel4_sys::ops::InvokeError> {
        sel4_sys::ops::vcpu_read_reg(self.vcpu_cap(), reg)
    }
    /// `microkit_vcpu_arm_write_reg`: set `seL4_VCPUReg` number `reg` to `value`.
    pub fn arm_write_reg(self, reg: u64, value: u64) -> Result<(), sel4_sys::ops::InvokeError> {
        sel4_sys::ops::vcpu_write_reg(self.vcpu_cap(), reg, value)
    }
}

// Microkit's slot numbering for vCPU 3: vCPU cap 330 + 3, its TCB 266 + 3.
const _: () = assert!(Vcpu::new(3).vcpu_cap() == 333 && Vcpu::new(3).tcb_cap() == 269);

/// x86 I/O port `id` of this PD (cap at `BASE_IOPORT_CAP + id`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IoPort(pub u64);

impl IoPort {
    /// `microkit_ioport_cap`.
    pub const fn cap(self) -> u64 {
        L::BASE_IOPORT_CAP + self.0
    }
    /// Reads `width` (8/16/32) bits from `port`.
    pub fn read(self, width: u32, port: u16) -> Result<u32, sel4_sys::ops::InvokeError> {
        sel4_sys::ops::ioport_in(self.cap(), width, port)
    }
    /// Writes `width` (8/16/32) bits to `port`.
    pub fn write(self, width: u32, port: u16, v: u32) -> Result<(), sel4_sys::ops::InvokeError> {
        sel4_sys::ops::ioport_out(self.cap(), width, port, v)
    }
}

/// `microkit_arm_smc_call` (aarch64, PDs with `smc="true"`): a Secure Monitor Call with
/// x0..x7 = `args` (`seL4_ARM_SMCContext`) through this PD's SMC cap
/// ([`microkit_layout::ARM_SMC_CAP`]); returns x0..x7 as the secure monitor left them. A PD
/// without `smc` has no such cap and gets the kernel's `InvalidCapability` error.
pub fn arm_smc_call(args: &[u64; 8]) -> Result<[u64; 8], sel4_sys::ops::InvokeError> {
    sel4_sys::ops::arm_smc_call(L::ARM_SMC_CAP, args)
}

/// The application part of a PD: libmicrokit's `notified`, `protected` and `fault`.
pub trait Handler {
    /// A notification (or IRQ) arrived on `channel`. Default: report and panic.
    fn notified(&mut self, channel: Channel) {
        panic!("{} is missing the 'notified' entry point (channel {})", pd_name(), channel.0)
    }
    /// A PPC arrived on `channel`; returns the reply tag. Default: report and panic.
    fn protected(&mut self, channel: Channel, msg: MessageInfo) -> MessageInfo {
        panic!("{} is missing the 'protected' entry point (channel {}, label {})", pd_name(), channel.0, msg.label())
    }
    /// Child `child` faulted; `Some(tag)` replies (restarting it), `None` leaves it stopped.
    fn fault(&mut self, child: Child, msg: MessageInfo) -> Option<MessageInfo> {
        panic!("{} is missing the 'fault' entry point (child {}, label {})", pd_name(), child.0, msg.label())
    }
}

static HAVE_SIGNAL: AtomicBool = AtomicBool::new(false);
static SIGNAL_CAP: AtomicU64 = AtomicU64::new(0);
static SIGNAL_MSG: AtomicU64 = AtomicU64::new(0);

fn defer(cap: u64, msg: sel4_sys::MessageInfo) {
    SIGNAL_CAP.store(cap, Ordering::Relaxed);
    SIGNAL_MSG.store(msg.0, Ordering::Relaxed);
    HAVE_SIGNAL.store(true, Ordering::Relaxed);
}

/// Runs the event loop with the handler `init` returned. Called by [`protection_domain!`].
pub fn run<H: Handler>(mut handler: H) -> ! {
    if pd_is_passive() {
        defer(L::MONITOR_EP_CAP, sel4_sys::MessageInfo::new(0, 0, 0, 0));
    }
    let mut reply: Option<MessageInfo> = None;
    loop {
        let (tag, badge) = if let Some(r) = reply.take() {
            sys::reply_recv(L::INPUT_CAP, r.0, L::REPLY_CAP)
        } else if HAVE_SIGNAL.swap(false, Ordering::Relaxed) {
            let cap = SIGNAL_CAP.load(Ordering::Relaxed);
            let msg = sel4_sys::MessageInfo(SIGNAL_MSG.load(Ordering::Relaxed));
            sys::nb_send_recv(cap, msg, L::INPUT_CAP, L::REPLY_CAP)
        } else {
            sys::recv(L::INPUT_CAP, L::REPLY_CAP)
        };
        let tag = MessageInfo(tag);
        match L::decode_badge(badge) {
            L::Event::Fault { child } => reply = handler.fault(Child(child), tag),
            L::Event::Protected { channel } => reply = Some(handler.protected(Channel(channel), tag)),
            L::Event::Notified { channels } => {
                for i in channels {
                    handler.notified(Channel(i));
                }
            }
        }
    }
}

/// Declares the PD's entry: `protection_domain!(init)` where `fn init() -> impl Handler`.
#[macro_export]
macro_rules! protection_domain {
    ($init:path) => {
        #[no_mangle]
        fn __microkit_pd_main() -> ! {
            $crate::run($init())
        }
    };
}

/// Prints to the debug console (`seL4_DebugPutChar`, debug kernels).
#[macro_export]
macro_rules! debug_print {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = write!($crate::sel4_sys::syscall::DebugWriter, $($arg)*);
    }};
}

/// Prints a line to the debug console.
#[macro_export]
macro_rules! debug_println {
    () => { $crate::debug_print!("\n") };
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::sel4_sys::syscall::DebugWriter, $($arg)*);
    }};
}
