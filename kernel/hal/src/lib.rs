//! The narrow interface between the arch-independent kernel core and one architecture.
//!
//! The kernel core (`kernel-core`) never names an architecture. Everything it needs from the
//! hardware is one of the traits below, implemented by each arch crate (`arch/*`) for the
//! real machine and by the host simulator inside `kernel-core`'s tests.
//!
//! * [`UserContext`]: a user thread's saved register file, with seL4's register roles
//!   (capability register, message-info register, message registers 0..3, reply register, …)
//!   and seL4's `seL4_UserContext` word order for `TCB_ReadRegisters`/`WriteRegisters`.
//! * [`PageTableFormat`]: the page-table entry encoding and level geometry, so that the
//!   core's VSpace code (map/unmap/lookup, seL4's rules) is shared by all three ports.
//! * [`PhysMem`]: access to physical memory through the kernel window. Kernel objects live in
//!   the physical memory they were retyped from, as in seL4.
//! * [`Machine`]: console, timer, interrupt controller, TLB and address-space switching, and
//!   (aarch64) the Secure Monitor Call behind `seL4_ARM_SMC_Call`.
//!
//! Besides the traits, [`smp`] holds the big kernel lock of multicore kernels.
#![no_std]

pub mod smp;

/// A physical address.
pub type PAddr = u64;
/// A user virtual address.
pub type VAddr = u64;

/// The register roles the seL4 syscall ABI gives names to. Each arch maps them to its own
/// registers (aarch64: x0, x1, x2..x5, x6, x8; riscv64: a0, a1, a2..a5, a6, t0;
/// x86_64: rdi, rsi, r10/r8/r9/r15, r12, r13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    /// Capability register: the invoked cptr on entry, the badge on return.
    Cap,
    /// `seL4_MessageInfo` in and out.
    MsgInfo,
    /// Message register 0..=3 (the fast message registers).
    Mr(usize),
    /// The reply-object cptr (MCS Recv/ReplyRecv/NBSendRecv).
    Reply,
    /// The destination cptr of NBSendRecv.
    NbSendRecvDest,
    /// The syscall-number register (x7 / a7 / rdx).
    SyscallNo,
    /// seL4's NextIP: the instruction pointer the thread resumes at when it next returns to
    /// user mode (after a syscall trap, the instruction after the syscall instruction).
    Pc,
    /// seL4's FaultIP, the *restart PC*: the address of the instruction that last trapped
    /// into the kernel (for a syscall, the syscall instruction itself; for an exception,
    /// the faulting instruction; for an interrupt, the interrupted one). A restarted thread
    /// resumes here, and it is the PC that `TCB_ReadRegisters` and fault messages report.
    FaultIp,
    /// The user stack pointer.
    Sp,
    /// The TLS base register set by `TCB_SetTLSBase` (TPIDR_EL0 / tp / FS_BASE).
    TlsBase,
}

/// Arm SMC Calling Convention `NOT_SUPPORTED` (-1) as x0 holds it after an SMC.
pub const SMCCC_NOT_SUPPORTED: u64 = u64::MAX;

/// Number of message registers passed in CPU registers (`seL4_FastMessageRegisters`).
pub const FAST_MESSAGE_REGISTERS: usize = 4;

/// Which kind of fault message is being built from, or restored into, a register file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultRegs {
    /// `seL4_Fault_UnknownSyscall`.
    UnknownSyscall,
    /// `seL4_Fault_UserException`.
    UserException,
    /// `seL4_Fault_Timeout` (its reply uses the TimeoutReply register order).
    Timeout,
}

/// A user thread's saved register file.
///
/// # Invariants
/// `Default` is an all-zero context that, once given a PC and SP, runs at user privilege
/// with interrupts enabled (aarch64 SPSR = EL0t, riscv SPIE set, x86 RFLAGS = IF|2).
pub trait UserContext: Copy + Default + 'static {
    /// Number of words in this arch's `seL4_UserContext`.
    const USER_CONTEXT_WORDS: usize;

    /// Read the register playing role `r`.
    fn get(&self, r: Reg) -> u64;
    /// Write the register playing role `r`.
    fn set(&mut self, r: Reg, v: u64);

    /// Byte offset within `Self` of the 64-bit word that [`UserContext::get`] reads and
    /// [`UserContext::set`] writes, unchanged, for role `r`, if there is one. The kernel
    /// then reads or writes that one word in the TCB instead of copying the whole register
    /// file. `None` (the default) makes it copy the whole context.
    fn reg_offset(r: Reg) -> Option<usize> {
        let _ = r;
        None
    }

    /// Word `i` of `seL4_UserContext` (seL4's order for this arch). `i` is below
    /// `USER_CONTEXT_WORDS`. The PC word reads the restart PC ([`Reg::FaultIp`]).
    fn user_word(&self, i: usize) -> u64;
    /// Write word `i` of `seL4_UserContext`, sanitised as seL4 does (privileged bits of the
    /// status register cannot be set from user space). The PC word sets the restart PC and
    /// the resume address alike (seL4 follows every register write with
    /// `setNextPC(getRestartPC())`).
    fn set_user_word(&mut self, i: usize, v: u64);

    /// seL4 `setNextPC(getRestartPC())`: the thread will resume at its restart PC
    /// ([`Reg::FaultIp`]), so a thread stopped in a syscall re-executes that syscall. This is
    /// what seL4 does when a thread in the `Restart` state is next activated.
    fn resume_at_restart_pc(&mut self) {
        let pc = self.get(Reg::FaultIp);
        self.set(Reg::Pc, pc);
    }

    /// seL4 `updateRestartPC`: make the restart PC the address the thread would resume at
    /// ([`Reg::Pc`]), as seL4 does when it suspends a running thread.
    fn update_restart_pc(&mut self) {
        let pc = self.get(Reg::Pc);
        self.set(Reg::FaultIp, pc);
    }

    /// Fill `out` with the fault message for `kind` in seL4's layout for this arch and
    /// return its length. `extra` carries (syscall number) for UnknownSyscall, and
    /// (exception number, code) for UserException.
    fn fault_message(&self, kind: FaultRegs, extra: [u64; 2], out: &mut [u64]) -> usize;

    /// Restore registers from a fault reply's message registers, in seL4's order for `kind`
    /// (up to `msg.len()` words), sanitising as `set_user_word` does.
    fn restore_from_fault_reply(&mut self, kind: FaultRegs, msg: &[u64]);
}

/// Access and protection bits for a user mapping (seL4_CapRights as applied to a frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapRights {
    /// User may read.
    pub read: bool,
    /// User may write.
    pub write: bool,
    /// User may execute (cleared by the ExecuteNever attribute).
    pub execute: bool,
}

/// Memory attributes for a user mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapAttrs {
    /// Normal cacheable memory (false: device memory / uncached).
    pub cacheable: bool,
}

/// The geometry and entry encoding of one architecture's page tables.
///
/// Levels are numbered from the root: level 0 is the VSpace root (aarch64 VSpace object,
/// riscv Sv39 root page table, x86_64 PML4). Every table is one 4 KiB page of 512 entries.
pub trait PageTableFormat {
    /// Number of levels, root included (aarch64 4, riscv64 Sv39 3, x86_64 4).
    const LEVELS: usize;
    /// First user virtual address that is *not* usable (exclusive user top).
    const USER_TOP: VAddr;

    /// Index into a table at `level` for `vaddr`.
    fn index(vaddr: VAddr, level: usize) -> usize;
    /// log2 of the page size a leaf at `level` maps, if leaves are allowed there.
    fn leaf_size_bits(level: usize) -> Option<u32>;
    /// Whether the entry is valid (maps something).
    fn is_valid(pte: u64) -> bool;
    /// Whether a valid entry at `level` points to a next-level table.
    fn is_table(pte: u64, level: usize) -> bool;
    /// The physical address an entry points to (table or page).
    fn entry_paddr(pte: u64) -> PAddr;
    /// An entry at `level` pointing to the next-level table at `table`.
    fn table_entry(table: PAddr, level: usize) -> u64;
    /// A leaf entry at `level` mapping `frame` with the given rights and attributes.
    fn leaf_entry(frame: PAddr, level: usize, rights: MapRights, attrs: MapAttrs) -> u64;
    /// The invalid entry.
    fn invalid_entry() -> u64 {
        0
    }
}

/// Physical memory, as seen through the kernel's window.
///
/// Kernel objects (TCBs, CNodes, endpoints, …) are stored in the physical memory they were
/// retyped from. The core reaches them only through this trait (wrapped by its `kmem`
/// module, the one place in the core allowed to use `unsafe`).
pub trait PhysMem {
    /// A kernel-virtual pointer to `len` bytes at `paddr`, or `None` if the range is not in
    /// the kernel window.
    fn window(&self, paddr: PAddr, len: usize) -> Option<*mut u8>;
}

/// Trigger mode of an x86 I/O APIC input (`level` argument of `seL4_IRQControl_GetIOAPIC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoApicTrigger {
    /// 0: edge-triggered.
    Edge,
    /// 1: level-triggered.
    Level,
}

/// Polarity of an x86 I/O APIC input (`polarity` argument of `seL4_IRQControl_GetIOAPIC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoApicPolarity {
    /// 0: active high.
    ActiveHigh,
    /// 1: active low.
    ActiveLow,
}

/// Why [`Machine::ioapic_pin_irq`] refused an I/O APIC input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoApicError {
    /// The machine has no I/O APIC inputs at all.
    NoIoApic,
    /// `ioapic` is not below `count`.
    NoSuchIoApic {
        /// Number of I/O APICs.
        count: u64,
    },
    /// `pin` is not below `pins`.
    NoSuchPin {
        /// Number of inputs of that I/O APIC.
        pins: u64,
    },
}

/// Everything else the core asks of the machine.
pub trait Machine: PhysMem {
    /// This arch's saved user register file.
    type Context: UserContext;
    /// This arch's page-table format.
    type PageTable: PageTableFormat;

    /// Write one byte to the kernel console (`seL4_DebugPutChar`).
    fn putchar(&mut self, c: u8);

    /// Current time in microseconds since boot (monotonic).
    fn now_us(&self) -> u64;
    /// Arrange a timer interrupt at (or shortly after) `deadline_us`.
    fn set_deadline(&mut self, deadline_us: u64);

    /// Mask device interrupt `irq`.
    fn mask_irq(&mut self, irq: u64);
    /// Unmask device interrupt `irq` (after the handler acknowledged it).
    fn unmask_irq(&mut self, irq: u64);
    /// Whether `irq` is a valid device IRQ number user space may claim.
    fn irq_valid(&self, irq: u64) -> bool;
    /// Whether an interrupt (device or timer) is pending at the CPU, i.e. would be taken at
    /// once if interrupts were enabled (seL4 `isIRQPending`). The kernel's preemption points
    /// ask this during long operations (revoke, delete, retype); when it says yes, the
    /// operation stops with its progress saved, the syscall is restarted, and the port takes
    /// the interrupt as soon as it returns to user mode. Must not acknowledge anything.
    /// Default: never (a machine without it runs long operations to completion).
    fn irq_pending(&self) -> bool {
        false
    }

    /// Switch the user address space to the root table at `root` with address-space id
    /// `asid` (called before returning to a thread in another VSpace).
    fn set_vspace(&mut self, root: PAddr, asid: u16);
    /// Invalidate the TLB entry for `vaddr` in `asid`.
    fn tlb_invalidate_page(&mut self, asid: u16, vaddr: VAddr);
    /// Invalidate every TLB entry of `asid`.
    fn tlb_invalidate_asid(&mut self, asid: u16);
    /// Make newly written instructions visible (after mapping executable pages).
    fn sync_icache(&mut self) {}
    /// Multicore kernels (`docs/smp.md`): stop core `core` running user code and return once
    /// it has entered the kernel (registers saved, waiting for the big kernel lock), seL4's
    /// remote stall. Called with the lock held; a uniprocessor machine never gets the call.
    fn stall_core(&mut self, _core: usize) {}

    /// Prepare a new, zeroed VSpace root table at `root` for use: copy the kernel's global
    /// mappings into its upper (kernel) half where the arch shares one table between user
    /// and kernel (x86_64 PML4, riscv64 root table; seL4 `copyGlobalMappings`). The core
    /// calls this when it creates a VSpace root (boot, retype of a VSpace object) and when a
    /// riscv page table becomes a root (`ASIDPool_Assign`). Default: nothing (aarch64 uses
    /// TTBR1 for the kernel).
    fn init_vspace_root(&mut self, _root: PAddr) {}

    /// Read `size` bytes (1, 2 or 4) from x86 I/O port `port` (`seL4_X86_IOPort_In*`).
    /// Default for machines without I/O ports: 0.
    fn io_port_in(&mut self, _port: u16, _size: u8) -> u32 {
        0
    }
    /// Write `size` bytes (1, 2 or 4) of `value` to x86 I/O port `port`
    /// (`seL4_X86_IOPort_Out*`). Default: nothing.
    fn io_port_out(&mut self, _port: u16, _size: u8, _value: u32) {}

    /// The device IRQ number that x86 I/O APIC `ioapic`'s input `pin` is delivered as, for
    /// `seL4_IRQControl_GetIOAPIC` (the IRQ handler the core issues is keyed by it). Machines
    /// that route these inputs through another controller (x86_64 here: the legacy PIC, pin
    /// n = ISA line n) map them onto their own IRQ numbers. Default: no I/O APIC.
    fn ioapic_pin_irq(&self, _ioapic: u64, _pin: u64) -> Result<u64, IoApicError> {
        Err(IoApicError::NoIoApic)
    }

    /// Configure the I/O APIC input that [`Machine::ioapic_pin_irq`] mapped to `irq` as
    /// `seL4_IRQControl_GetIOAPIC` asks: `trigger` and `polarity` as the caller gave them.
    /// Called once the invocation is known to succeed, before the line is unmasked.
    /// Default: nothing (inputs the machine delivers another way keep their setup).
    fn ioapic_configure(&mut self, _irq: u64, _trigger: IoApicTrigger, _polarity: IoApicPolarity) {}

    /// Make an Arm Secure Monitor Call (`smc #0`) with x0..x7 = `args` and return x0..x7 as
    /// the secure monitor left them (`seL4_ARM_SMC_Call`). The core calls this only for SMC
    /// caps, which exist only on aarch64. An SMC that nothing answers must still return:
    /// x0 = SMCCC `NOT_SUPPORTED` (-1), as the default (machines without SMC) does.
    fn arm_smc_call(&mut self, args: [u64; 8]) -> [u64; 8] {
        let mut r = args;
        r[0] = SMCCC_NOT_SUPPORTED;
        r
    }

    /// Stop the machine: `code` 0 for a clean shutdown, non-zero after a kernel panic.
    fn halt(&mut self, code: u32) -> !;
}
