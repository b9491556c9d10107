//! Host simulator (feature `sim`): a [`Machine`] over Vec-backed physical memory, a generic
//! register file, a simple 4-level page-table format, a fake timer and a fake IRQ controller.
//!
//! Used by this crate's tests and by other host crates (the verification suite).

extern crate std;

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use std::boxed::Box;
use std::vec::Vec;

use kernel_hal::{
    FaultRegs, Machine, MapAttrs, MapRights, PAddr, PageTableFormat, PhysMem, Reg, UserContext,
    VAddr,
};

/// Number of IRQs the fake interrupt controller has.
pub const SIM_IRQS: u64 = 64;
/// Inputs of the simulated I/O APIC (`IRQControl_GetIOAPIC`).
pub const SIM_IOAPIC_PINS: u64 = 24;
/// IRQ number of the simulated I/O APIC's pin 0.
pub const SIM_IOAPIC_IRQ_BASE: u64 = 16;

/// A simulated machine: `size` bytes of RAM at `base`, a console buffer, a clock the test
/// advances, a masked-IRQ table and a record of the current address space.
///
/// Threads' saved registers are a `C`: the generic [`SimContext`] by default, or a real
/// arch's register file (tests of that arch's register sanitising through the core, built
/// with [`SimMachine::with_context`]).
pub struct SimMachine<C = SimContext> {
    base: PAddr,
    mem: Box<[UnsafeCell<u64>]>,
    /// Bytes written with `putchar`.
    pub console: Vec<u8>,
    /// Current time in µs (tests advance it).
    pub now: u64,
    /// The last deadline the kernel asked for.
    pub deadline: Option<u64>,
    /// Masked state per IRQ (true = masked).
    pub masked: Vec<bool>,
    /// The last `set_vspace` (root, asid).
    pub vspace: Option<(PAddr, u16)>,
    /// Number of TLB invalidations requested.
    pub tlb_invalidations: u64,
    /// I/O port writes (port, size, value).
    pub io_writes: Vec<(u16, u8, u32)>,
    /// Arguments (x0..x7) of every Secure Monitor Call made, in order.
    pub smc_calls: Vec<[u64; 8]>,
    /// Every I/O APIC input configuration the core asked for: (irq, trigger, polarity).
    pub ioapic_configs: Vec<(u64, kernel_hal::IoApicTrigger, kernel_hal::IoApicPolarity)>,
    context: PhantomData<C>,
    /// Whether an interrupt is pending ([`Machine::irq_pending`]); tests set and clear it.
    pub irq_pending: bool,
    /// How often the kernel asked whether an interrupt is pending.
    pub irq_pending_checks: core::cell::Cell<u64>,
    /// Every core the kernel stalled ([`Machine::stall_core`]), in order.
    pub stalls: Vec<usize>,
}

/// PSCI_VERSION's function id; the simulated secure monitor answers it with [`SIM_PSCI_VERSION`].
pub const SIM_PSCI_VERSION_FN: u64 = 0x8400_0000;
/// The PSCI version the simulated secure monitor reports (1.1).
pub const SIM_PSCI_VERSION: u64 = 0x1_0001;

impl SimMachine {
    /// A machine with `size` bytes (rounded up to 8) of zeroed RAM at `base`.
    pub fn new(base: PAddr, size: u64) -> SimMachine {
        SimMachine::with_context(base, size)
    }
}

impl<C> SimMachine<C> {
    /// A machine with `size` bytes (rounded up to 8) of zeroed RAM at `base` whose threads'
    /// registers are a `C`.
    pub fn with_context(base: PAddr, size: u64) -> SimMachine<C> {
        let words = size.div_ceil(8) as usize;
        let mem: Box<[UnsafeCell<u64>]> = (0..words).map(|_| UnsafeCell::new(0)).collect();
        SimMachine {
            base,
            mem,
            console: Vec::new(),
            now: 0,
            deadline: None,
            masked: std::vec![true; SIM_IRQS as usize],
            vspace: None,
            tlb_invalidations: 0,
            io_writes: Vec::new(),
            smc_calls: Vec::new(),
            ioapic_configs: Vec::new(),
            context: PhantomData,
            irq_pending: false,
            irq_pending_checks: core::cell::Cell::new(0),
            stalls: Vec::new(),
        }
    }
    /// Base physical address of RAM.
    pub fn base(&self) -> PAddr {
        self.base
    }
    /// RAM size in bytes.
    pub fn size(&self) -> u64 {
        self.mem.len() as u64 * 8
    }
    /// The console output as a string (lossy).
    pub fn console_str(&self) -> std::string::String {
        std::string::String::from_utf8_lossy(&self.console).into_owned()
    }
}

impl<C> PhysMem for SimMachine<C> {
    fn window(&self, paddr: PAddr, len: usize) -> Option<*mut u8> {
        let off = paddr.checked_sub(self.base)?;
        let end = off.checked_add(len as u64)?;
        if end > self.size() {
            return None;
        }
        // Memory lives in UnsafeCells, so writing through a pointer derived from a shared
        // borrow is permitted.
        let p = UnsafeCell::raw_get(self.mem.as_ptr()) as *mut u8;
        Some(p.wrapping_add(off as usize))
    }
}

impl<C: UserContext> Machine for SimMachine<C> {
    fn stall_core(&mut self, core: usize) {
        self.stalls.push(core);
    }
    type Context = C;
    type PageTable = SimPageTable;

    fn putchar(&mut self, c: u8) {
        self.console.push(c);
    }
    fn now_us(&self) -> u64 {
        self.now
    }
    fn set_deadline(&mut self, deadline_us: u64) {
        self.deadline = Some(deadline_us);
    }
    fn mask_irq(&mut self, irq: u64) {
        if let Some(m) = self.masked.get_mut(irq as usize) {
            *m = true;
        }
    }
    fn unmask_irq(&mut self, irq: u64) {
        if let Some(m) = self.masked.get_mut(irq as usize) {
            *m = false;
        }
    }
    fn irq_valid(&self, irq: u64) -> bool {
        irq < SIM_IRQS
    }
    fn irq_pending(&self) -> bool {
        self.irq_pending_checks
            .set(self.irq_pending_checks.get() + 1);
        self.irq_pending
    }
    fn set_vspace(&mut self, root: PAddr, asid: u16) {
        self.vspace = Some((root, asid));
    }
    fn tlb_invalidate_page(&mut self, _asid: u16, _vaddr: VAddr) {
        self.tlb_invalidations += 1;
    }
    fn tlb_invalidate_asid(&mut self, _asid: u16) {
        self.tlb_invalidations += 1;
    }
    fn io_port_in(&mut self, port: u16, size: u8) -> u32 {
        // A recognisable value: low bits of the port, repeated to the access size.
        let rep = match size {
            1 => 0x1,
            2 => 0x101,
            _ => 0x0101_0101,
        };
        (port as u32 & 0xff) * rep
    }
    fn io_port_out(&mut self, port: u16, size: u8, value: u32) {
        self.io_writes.push((port, size, value));
    }
    /// One I/O APIC with [`SIM_IOAPIC_PINS`] inputs; pin n arrives as IRQ
    /// [`SIM_IOAPIC_IRQ_BASE`] + n.
    fn ioapic_pin_irq(&self, ioapic: u64, pin: u64) -> Result<u64, kernel_hal::IoApicError> {
        if ioapic != 0 {
            return Err(kernel_hal::IoApicError::NoSuchIoApic { count: 1 });
        }
        if pin >= SIM_IOAPIC_PINS {
            return Err(kernel_hal::IoApicError::NoSuchPin {
                pins: SIM_IOAPIC_PINS,
            });
        }
        Ok(SIM_IOAPIC_IRQ_BASE + pin)
    }
    /// Records the configuration (`ioapic_configs`).
    fn ioapic_configure(
        &mut self,
        irq: u64,
        trigger: kernel_hal::IoApicTrigger,
        polarity: kernel_hal::IoApicPolarity,
    ) {
        self.ioapic_configs.push((irq, trigger, polarity));
    }
    /// A stand-in secure monitor: records the call; x0 = [`SIM_PSCI_VERSION`] for
    /// PSCI_VERSION and SMCCC NOT_SUPPORTED otherwise; x1..x7 come back as `xi + i`, so tests
    /// see every register travel both ways.
    fn arm_smc_call(&mut self, args: [u64; 8]) -> [u64; 8] {
        self.smc_calls.push(args);
        let mut out = args;
        for (i, v) in out.iter_mut().enumerate().skip(1) {
            *v = v.wrapping_add(i as u64);
        }
        out[0] = if args[0] == SIM_PSCI_VERSION_FN {
            SIM_PSCI_VERSION
        } else {
            kernel_hal::SMCCC_NOT_SUPPORTED
        };
        out
    }
    fn halt(&mut self, code: u32) -> ! {
        panic!("sim: machine halted with code {code}");
    }
}

/// A generic register file: `x[0..31]` (aarch64-like roles), `pc`, `sp`, `tls`, `fault_ip`.
///
/// Roles: Cap = x0, MsgInfo = x1, MR0..3 = x2..x5, Reply = x6, SyscallNo = x7,
/// NbSendRecvDest = x8. `seL4_UserContext` order here: pc, sp, x0..x30, tls (34 words),
/// where the pc word is the restart PC (`fault_ip`), as on the real arches.
///
/// As in seL4, `pc` is NextIP (where the thread resumes) and `fault_ip` is FaultIP (the
/// instruction that last trapped). Tests model a trap with [`SimContext::trap_syscall`]
/// (the syscall instruction at `pc`) or [`SimContext::trap_other`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SimContext {
    /// General registers.
    pub x: [u64; 31],
    /// Program counter.
    pub pc: u64,
    /// Stack pointer.
    pub sp: u64,
    /// TLS base.
    pub tls: u64,
    /// seL4's FaultIP (the restart PC).
    pub fault_ip: u64,
}

impl SimContext {
    /// What the trap entry does for a syscall instruction at `pc`: FaultIP is that
    /// instruction and the thread will resume after it.
    pub fn trap_syscall(&mut self) {
        self.fault_ip = self.pc;
        self.pc = self.pc.wrapping_add(SIM_SYSCALL_INSN_BYTES);
    }

    /// What the trap entry does for an exception or interrupt at `pc`: FaultIP is `pc`, and
    /// the thread resumes there.
    pub fn trap_other(&mut self) {
        self.fault_ip = self.pc;
    }

    /// Set the `seL4_UserContext` pc word: the restart PC and the resume address alike.
    pub fn set_pc_word(&mut self, v: u64) {
        self.fault_ip = v;
        self.pc = v;
    }
}

/// Size of the simulated syscall instruction (see [`SimContext::trap_syscall`]).
pub const SIM_SYSCALL_INSN_BYTES: u64 = 4;

impl UserContext for SimContext {
    const USER_CONTEXT_WORDS: usize = 34;

    fn get(&self, r: Reg) -> u64 {
        match r {
            Reg::Cap => self.x[0],
            Reg::MsgInfo => self.x[1],
            Reg::Mr(i) if i < 4 => self.x[2 + i],
            Reg::Mr(_) => 0,
            Reg::Reply => self.x[6],
            Reg::SyscallNo => self.x[7],
            Reg::NbSendRecvDest => self.x[8],
            Reg::Pc => self.pc,
            Reg::FaultIp => self.fault_ip,
            Reg::Sp => self.sp,
            Reg::TlsBase => self.tls,
        }
    }
    fn set(&mut self, r: Reg, v: u64) {
        match r {
            Reg::Cap => self.x[0] = v,
            Reg::MsgInfo => self.x[1] = v,
            Reg::Mr(i) if i < 4 => self.x[2 + i] = v,
            Reg::Mr(_) => {}
            Reg::Reply => self.x[6] = v,
            Reg::SyscallNo => self.x[7] = v,
            Reg::NbSendRecvDest => self.x[8] = v,
            Reg::Pc => self.pc = v,
            Reg::FaultIp => self.fault_ip = v,
            Reg::Sp => self.sp = v,
            Reg::TlsBase => self.tls = v,
        }
    }
    fn user_word(&self, i: usize) -> u64 {
        match i {
            0 => self.fault_ip,
            1 => self.sp,
            2..=32 => self.x[i - 2],
            33 => self.tls,
            _ => 0,
        }
    }
    fn set_user_word(&mut self, i: usize, v: u64) {
        match i {
            0 => self.set_pc_word(v),
            1 => self.sp = v,
            2..=32 => self.x[i - 2] = v,
            33 => self.tls = v,
            _ => {}
        }
    }
    fn fault_message(&self, kind: FaultRegs, extra: [u64; 2], out: &mut [u64]) -> usize {
        let words: Vec<u64> = match kind {
            FaultRegs::UnknownSyscall => {
                let mut v: Vec<u64> = self.x[0..8].to_vec();
                v.extend_from_slice(&[self.fault_ip, self.sp, self.x[30], 0, extra[0]]);
                v
            }
            FaultRegs::UserException => {
                std::vec![self.fault_ip, self.sp, 0, extra[0], extra[1]]
            }
            FaultRegs::Timeout => Vec::new(),
        };
        let n = words.len().min(out.len());
        out[..n].copy_from_slice(&words[..n]);
        n
    }
    fn restore_from_fault_reply(&mut self, kind: FaultRegs, msg: &[u64]) {
        match kind {
            FaultRegs::UnknownSyscall => {
                for (i, v) in msg.iter().enumerate().take(12) {
                    match i {
                        0..=7 => self.x[i] = *v,
                        8 => self.fault_ip = *v,
                        9 => self.sp = *v,
                        10 => self.x[30] = *v,
                        _ => {}
                    }
                }
            }
            FaultRegs::UserException => {
                for (i, v) in msg.iter().enumerate().take(3) {
                    match i {
                        0 => self.set_pc_word(*v),
                        1 => self.sp = *v,
                        _ => {}
                    }
                }
            }
            FaultRegs::Timeout => {
                for (i, v) in msg.iter().enumerate().take(Self::USER_CONTEXT_WORDS) {
                    self.set_user_word(i, *v);
                }
            }
        }
    }
}

/// A simple 4-level, 4 KiB-granule page-table format (48-bit VAs).
///
/// Entry: bit 0 valid, bit 1 table (levels 0..2), bit 2 read, bit 3 write, bit 4 execute,
/// bit 5 cacheable, bits 12..51 physical address.
pub struct SimPageTable;

impl PageTableFormat for SimPageTable {
    const LEVELS: usize = 4;
    const USER_TOP: VAddr = 0x0000_8000_0000_0000;

    fn index(vaddr: VAddr, level: usize) -> usize {
        ((vaddr >> (12 + 9 * (3 - level as u64))) & 511) as usize
    }
    fn leaf_size_bits(level: usize) -> Option<u32> {
        match level {
            1 => Some(30),
            2 => Some(21),
            3 => Some(12),
            _ => None,
        }
    }
    fn is_valid(pte: u64) -> bool {
        pte & 1 != 0
    }
    fn is_table(pte: u64, level: usize) -> bool {
        level < 3 && pte & 3 == 3
    }
    fn entry_paddr(pte: u64) -> PAddr {
        pte & 0x000f_ffff_ffff_f000
    }
    fn table_entry(table: PAddr, _level: usize) -> u64 {
        (table & 0x000f_ffff_ffff_f000) | 3
    }
    fn leaf_entry(frame: PAddr, _level: usize, rights: MapRights, attrs: MapAttrs) -> u64 {
        (frame & 0x000f_ffff_ffff_f000)
            | 1
            | ((rights.read as u64) << 2)
            | ((rights.write as u64) << 3)
            | ((rights.execute as u64) << 4)
            | ((attrs.cacheable as u64) << 5)
    }
}

/// Test harness: a booted simulated kernel and helpers to invoke caps as the current thread.
pub mod harness {
    use super::*;
    use crate::boot::{boot, BootParams, ImageFrame, Region};
    use crate::kernel::Kernel;
    use sel4_abi::message::ipc_buffer;
    use sel4_abi::{Arch, BootInfo, MessageInfo, Syscall};

    /// Base of simulated RAM.
    pub const RAM_BASE: u64 = 0x4000_0000;
    /// Size of simulated RAM (64 MiB).
    pub const RAM_SIZE: u64 = 64 << 20;
    /// Where the fake root-task image is "loaded" (first 1 MiB of RAM, not free).
    pub const IMAGE_PADDR: u64 = RAM_BASE;
    /// Virtual address of the fake image.
    pub const IMAGE_VADDR: u64 = 0x40_0000;
    /// Pages in the fake image.
    pub const IMAGE_PAGES: u64 = 4;
    /// IPC buffer vaddr (right after the image).
    pub const IPC_BUFFER_VADDR: u64 = IMAGE_VADDR + IMAGE_PAGES * 4096;
    /// Bootinfo vaddr (after the IPC buffer).
    pub const BOOTINFO_VADDR: u64 = IPC_BUFFER_VADDR + 4096;
    /// A fake device region.
    pub const DEVICE_BASE: u64 = 0x0900_0000;

    /// Boot a simulated kernel (64 MiB RAM, a 4-page image, one 64 KiB device region).
    pub fn boot_sim(arch: Arch) -> Kernel<SimMachine> {
        boot_sim_with(arch)
    }

    /// [`boot_sim`] on a machine whose threads' registers are a `C` (another arch's register
    /// file, to test its sanitising through the core).
    pub fn boot_sim_with<C: UserContext>(arch: Arch) -> Kernel<SimMachine<C>> {
        let m = SimMachine::<C>::with_context(RAM_BASE, RAM_SIZE);
        let image: Vec<ImageFrame> = (0..IMAGE_PAGES)
            .map(|i| ImageFrame {
                vaddr: IMAGE_VADDR + 4096 * i,
                paddr: IMAGE_PADDR + 4096 * i,
                rights: MapRights {
                    read: true,
                    write: true,
                    execute: true,
                },
            })
            .collect();
        let ram = [Region {
            start: RAM_BASE + (1 << 20),
            end: RAM_BASE + RAM_SIZE,
        }];
        let device = [Region {
            start: DEVICE_BASE,
            end: DEVICE_BASE + 0x1_0000,
        }];
        let p = BootParams {
            arch,
            ram: &ram,
            device: &device,
            image: &image,
            entry: IMAGE_VADDR,
            ipc_buffer_vaddr: IPC_BUFFER_VADDR,
            bootinfo_vaddr: BOOTINFO_VADDR,
            extra_bootinfo: &[],
            timer_irq: Some(SIM_IRQS - 1),
            // Microkit's values (16 domains), so that host tests can use domains, with seL4's
            // plain label numbering (the host tests' encoders send it; the hardware debug
            // API's numbering has its own tests).
            config: sel4_abi::config::KernelConfig {
                hardware_debug_api: false,
                ..sel4_abi::config::KernelConfig::MICROKIT_DEBUG
            },
        };
        match boot(m, &p) {
            Ok(k) => k,
            Err(e) => panic!("sim boot failed: {e:?}"),
        }
    }

    /// The bootinfo the root task would read (through its bootinfo frame).
    pub fn bootinfo<C: UserContext>(k: &Kernel<SimMachine<C>>) -> BootInfo {
        let vs = k.current_vspace().map(|v| v.0).unwrap_or(0);
        let pa = translate(k, vs, BOOTINFO_VADDR).unwrap_or(0);
        let mut b = [0u8; BootInfo::SIZE];
        crate::kmem::read_bytes(&k.machine, pa, &mut b);
        BootInfo::from_bytes(&b)
    }

    /// Translate a user vaddr through the page tables at `root`.
    pub fn translate<C: UserContext>(
        k: &Kernel<SimMachine<C>>,
        root: PAddr,
        vaddr: VAddr,
    ) -> Option<PAddr> {
        let w = crate::vspace::walk(k, root, vaddr, 3);
        if !SimPageTable::is_valid(w.pte) || SimPageTable::is_table(w.pte, w.level) {
            return None;
        }
        let bits = SimPageTable::leaf_size_bits(w.level)?;
        Some(SimPageTable::entry_paddr(w.pte) + (vaddr & ((1u64 << bits) - 1)))
    }

    /// Physical address of the current thread's IPC buffer.
    pub fn ipc_buf<C: UserContext>(k: &Kernel<SimMachine<C>>) -> PAddr {
        k.ipc_buffer(k.cur_thread, false).unwrap_or(0)
    }

    /// The result of a kernel call: reply label and message registers.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Reply {
        /// Reply label (0 = success, else `seL4_Error`).
        pub label: u64,
        /// Message registers.
        pub mrs: Vec<u64>,
    }

    /// Perform syscall `sys` as the current thread with cap `cptr`, `label`, message words
    /// and extra-cap cptrs; returns the reply read back from its registers and IPC buffer.
    pub fn syscall<C: UserContext>(
        k: &mut Kernel<SimMachine<C>>,
        sys: Syscall,
        cptr: u64,
        label: u64,
        mrs: &[u64],
        caps: &[u64],
    ) -> Reply {
        let t = k.cur_thread;
        let buf = k.ipc_buffer(t, false);
        let mut ctx = k.current_context();
        ctx.set(Reg::SyscallNo, sys.number() as u64);
        ctx.set(Reg::Cap, cptr);
        ctx.set(
            Reg::MsgInfo,
            MessageInfo::new(label, 0, caps.len() as u64, mrs.len() as u64).to_word(),
        );
        for (i, v) in mrs.iter().enumerate().take(4) {
            ctx.set(Reg::Mr(i), *v);
        }
        // What the trap entry does for a syscall instruction at the PC (as
        // `SimContext::trap_syscall`, for any register file).
        let pc = ctx.get(Reg::Pc);
        ctx.set(Reg::FaultIp, pc);
        ctx.set(Reg::Pc, pc.wrapping_add(SIM_SYSCALL_INSN_BYTES));
        k.set_current_context(&ctx);
        if let Some(b) = buf {
            for (i, v) in mrs.iter().enumerate().skip(4) {
                crate::kmem::write_word(&k.machine, b + ipc_buffer::mr_offset(i), *v);
            }
            for (i, c) in caps.iter().enumerate() {
                crate::kmem::write_word(
                    &k.machine,
                    b + ipc_buffer::CAPS_OR_BADGES + 8 * i as u64,
                    *c,
                );
            }
        }
        k.handle_syscall();
        let ctx = k.context(t);
        let info = MessageInfo::from_word(ctx.get(Reg::MsgInfo));
        let mut out = Vec::new();
        for i in 0..info.length as usize {
            out.push(k.get_mr(t, buf, i));
        }
        Reply {
            label: info.label,
            mrs: out,
        }
    }

    /// `seL4_Call` on `cptr`.
    pub fn call<C: UserContext>(
        k: &mut Kernel<SimMachine<C>>,
        cptr: u64,
        label: u64,
        mrs: &[u64],
        caps: &[u64],
    ) -> Reply {
        syscall(k, Syscall::Call, cptr, label, mrs, caps)
    }

    /// The first difference between two simulated kernels' full state, if any: every
    /// global the kernel keeps that an operation's result consists of, what the simulated
    /// machine recorded, and all of physical memory. Not compared: counters that only say
    /// how the result was reached (`work_units`, `fastpath_count`, the machine's
    /// `irq_pending*`).
    pub fn state_diff(
        a: &Kernel<SimMachine>,
        b: &Kernel<SimMachine>,
    ) -> Option<std::string::String> {
        use std::format;
        macro_rules! same {
            ($($f:tt)*) => {
                if format!("{:?}", a.$($f)*) != format!("{:?}", b.$($f)*) {
                    return Some(format!(
                        "{}: {:x?} / {:x?}",
                        stringify!($($f)*),
                        a.$($f)*,
                        b.$($f)*
                    ));
                }
            };
        }
        same!(cur_thread);
        same!(idle_thread);
        same!(cur_sc);
        same!(sched_action);
        same!(ready.head);
        same!(ready.tail);
        same!(ready.bitmap);
        same!(domains);
        same!(release_queue);
        same!(last_entry_us);
        same!(consumed_us);
        same!(irq_node);
        same!(asid_table);
        same!(active_vspace);
        same!(fpu_owner);
        same!(machine.now);
        same!(machine.deadline);
        same!(machine.vspace);
        same!(machine.masked);
        same!(machine.console);
        same!(machine.tlb_invalidations);
        if a.irq_state != b.irq_state || a.io_ports_issued != b.io_ports_issued {
            return Some("irq_state / io_ports_issued differ".into());
        }
        let (base, size) = (a.machine.base(), a.machine.size());
        if (base, size) != (b.machine.base(), b.machine.size()) {
            return Some("RAM differs in place or size".into());
        }
        const CHUNK: usize = 1 << 20;
        let mut x = std::vec![0u8; CHUNK];
        let mut y = std::vec![0u8; CHUNK];
        let mut off = 0u64;
        while off < size {
            let n = CHUNK.min((size - off) as usize);
            crate::kmem::read_bytes(&a.machine, base + off, &mut x[..n]);
            crate::kmem::read_bytes(&b.machine, base + off, &mut y[..n]);
            if x[..n] != y[..n] {
                let i = (0..n)
                    .step_by(8)
                    .find(|i| x[*i..*i + 8] != y[*i..*i + 8])
                    .unwrap_or(0);
                let w = |v: &[u8]| u64::from_le_bytes(v[i..i + 8].try_into().unwrap_or([0; 8]));
                return Some(format!(
                    "memory word {:#x}: {:#x} / {:#x}",
                    base + off + i as u64,
                    w(&x),
                    w(&y)
                ));
            }
            off += n as u64;
        }
        None
    }
}

/// Whole-system invariant checks over the caps reachable from a CSpace (for tests and the
/// verification suite).
pub mod invariants {
    use super::*;
    use crate::cap::Cap;
    use crate::kernel::Kernel;
    use crate::mdb::{get_cap, get_mdb};
    use crate::object::{Slot, TCB_SLOTS};
    use std::collections::BTreeSet;
    use std::string::String;

    /// Every non-empty slot reachable from the CNode cap `root` (through CNode and TCB caps).
    pub fn reachable_slots(k: &Kernel<SimMachine>, root: Cap) -> Vec<Slot> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut work = Vec::new();
        if let Cap::CNode { ptr, radix, .. } = root {
            work.push((ptr, 1u64 << radix));
        }
        while let Some((base, n)) = work.pop() {
            if !seen.insert(base) {
                continue;
            }
            for i in 0..n {
                let s = Slot::at(base, i);
                let c = get_cap(&k.machine, s);
                if c.is_null() {
                    continue;
                }
                out.push(s);
                match c {
                    Cap::CNode { ptr, radix, .. } => work.push((ptr, 1u64 << radix)),
                    Cap::Thread { ptr } => work.push((ptr, TCB_SLOTS)),
                    _ => {}
                }
            }
        }
        out
    }

    /// Check the invariants; returns a description of the first violation.
    ///
    /// * MDB well formed: prev/next links are mutual and point at non-empty slots.
    /// * No two distinct live objects overlap (untypeds may only nest).
    /// * Derived caps never have more rights than the cap before them in derivation order.
    /// * Every object cap inside the memory of an untyped cap follows some containing untyped
    ///   cap in the derivation list (so no cap refers to memory handed back by a revoke).
    pub fn check(k: &Kernel<SimMachine>) -> Result<(), String> {
        let root = k.cspace_root(k.cur_thread);
        let slots = reachable_slots(k, root);
        let m = &k.machine;
        let mut objs: Vec<(u64, u64, Cap)> = Vec::new();
        let mut uts: Vec<(u64, u64)> = Vec::new();
        for &s in &slots {
            let n = get_mdb(m, s);
            let c = get_cap(m, s);
            if n.next != 0 {
                if get_mdb(m, Slot(n.next)).prev != s.0 {
                    return Err(std::format!("mdb: {:#x}.next.prev != self", s.0));
                }
                if get_cap(m, Slot(n.next)).is_null() {
                    return Err(std::format!("mdb: {:#x}.next is empty", s.0));
                }
            }
            if n.prev != 0 {
                if get_mdb(m, Slot(n.prev)).next != s.0 {
                    return Err(std::format!("mdb: {:#x}.prev.next != self", s.0));
                }
                if get_cap(m, Slot(n.prev)).is_null() {
                    return Err(std::format!("mdb: {:#x}.prev is empty", s.0));
                }
            }
            // Rights only shrink along derivation: every descendant of an original cap to the
            // same object has a subset of its rights.
            if n.revocable && !matches!(c, Cap::Untyped { .. }) {
                for d in crate::mdb::descendants(m, s) {
                    let dc = get_cap(m, d);
                    if c.same_object_as(&dc) && !dc.rights().is_subset_of(c.rights()) {
                        return Err(std::format!("descendant has more rights: {c:?} -> {dc:?}"));
                    }
                }
            }
            match c {
                Cap::Untyped {
                    paddr, size_bits, ..
                } => uts.push((paddr, 1u64 << size_bits)),
                _ => {
                    if let Some((b, sz)) = c.region() {
                        objs.push((b, sz, c));
                    }
                }
            }
        }
        // Distinct objects must not overlap.
        objs.sort_by_key(|o| (o.0, o.1));
        for w in objs.windows(2) {
            let (a, asz, ac) = w[0];
            let (b, bsz, bc) = w[1];
            let same = a == b && asz == bsz;
            if !same && b < a + asz {
                return Err(std::format!("objects overlap: {ac:?} and {bc:?}"));
            }
            let _ = bsz;
        }
        // Untypeds nest or are disjoint.
        for (i, &(a, asz)) in uts.iter().enumerate() {
            for &(b, bsz) in &uts[i + 1..] {
                let disjoint = a + asz <= b || b + bsz <= a;
                let nested = (a <= b && b + bsz <= a + asz) || (b <= a && a + asz <= b + bsz);
                if !disjoint && !nested {
                    return Err(std::format!(
                        "untypeds overlap: {a:#x}/{asz:#x} {b:#x}/{bsz:#x}"
                    ));
                }
            }
        }
        // Object caps inside untyped memory follow a containing untyped in the list.
        for &s in &slots {
            let c = get_cap(m, s);
            if matches!(c, Cap::Untyped { .. }) {
                continue;
            }
            let Some((b, sz)) = c.region() else { continue };
            let inside = uts.iter().any(|&(u, usz)| u <= b && b + sz <= u + usz);
            if !inside {
                continue;
            }
            let mut p = get_mdb(m, s).prev;
            let mut found = false;
            while p != 0 {
                if let Cap::Untyped {
                    paddr, size_bits, ..
                } = get_cap(m, Slot(p))
                {
                    if paddr <= b && b + sz <= paddr + (1u64 << size_bits) {
                        found = true;
                        break;
                    }
                }
                p = get_mdb(m, Slot(p)).prev;
            }
            if !found {
                return Err(std::format!(
                    "cap {c:?} at {:#x} has no untyped ancestor",
                    s.0
                ));
            }
        }
        Ok(())
    }
}
