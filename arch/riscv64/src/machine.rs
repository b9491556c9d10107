//! [`Riscv64Machine`]: the `kernel-hal` `Machine` and `PhysMem` implementation for this arch.

use boot_image::fdt::{total_size, Fdt, FdtError, HEADER_SIZE};
use kernel_hal::{Machine, PAddr, PhysMem, VAddr};

use crate::context::Riscv64Context;
use crate::layout::{phys_to_virt, KERNEL_WINDOW_SIZE};
use crate::sv39::Sv39;
use crate::{console, csr, mmu, plic, sbi};

/// Board facts the arch layer needs (filled in by the platform crate).
#[derive(Clone, Copy, Debug)]
pub struct BoardConfig {
    /// RAM physical range [start, end).
    pub ram: (PAddr, PAddr),
    /// Timebase frequency of the `time` CSR in Hz.
    pub timebase_hz: u64,
    /// ns16550 UART physical base.
    pub uart: PAddr,
    /// sifive_test exit device physical address.
    pub test_device: PAddr,
    /// PLIC physical base.
    pub plic: PAddr,
    /// PLIC context of hart 0 in S-mode.
    pub plic_context: u64,
    /// Number of PLIC interrupt sources (valid IRQs are 1..sources).
    pub plic_sources: u32,
    /// Use the Sstc `stimecmp` CSR instead of the SBI timer call.
    pub sstc: bool,
}

/// The facts the kernel takes from the DTB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoardFacts {
    /// First RAM range (base, size) of the first `memory` node.
    pub ram: Option<(u64, u64)>,
    /// `/cpus/timebase-frequency`.
    pub timebase_hz: Option<u64>,
    /// Whether a CPU lists the Sstc extension.
    pub sstc: bool,
}

impl BoardFacts {
    /// Extract the facts from a parsed DTB.
    pub fn from_fdt(fdt: &Fdt<'_>) -> Result<Self, FdtError> {
        Ok(Self {
            ram: fdt.memory()?,
            timebase_hz: fdt.timebase_frequency()?,
            sstc: fdt.has_riscv_extension("sstc")?,
        })
    }
}

/// Read the board facts from the DTB at physical `paddr` (as passed by OpenSBI in a1).
/// Usable before [`Riscv64Machine::init`]: the boot window is already live.
pub fn read_dtb(paddr: PAddr) -> Result<BoardFacts, FdtError> {
    let in_window = |len: u64| {
        paddr
            .checked_add(len)
            .is_some_and(|e| e <= KERNEL_WINDOW_SIZE)
    };
    if paddr == 0 || !paddr.is_multiple_of(8) || !in_window(HEADER_SIZE as u64) {
        return Err(FdtError::BadMagic);
    }
    // SAFETY: HEADER_SIZE bytes at `paddr` lie inside the kernel window (checked above),
    // where the firmware put the DTB; the kernel never writes it.
    let header =
        unsafe { core::slice::from_raw_parts(phys_to_virt(paddr) as *const u8, HEADER_SIZE) };
    let total = total_size(header).ok_or(FdtError::BadMagic)?;
    if total > (1 << 20) || !in_window(total as u64) {
        return Err(FdtError::OutOfBounds);
    }
    // SAFETY: as above, for the size the header gives (bounded to 1 MiB, inside the window).
    let blob = unsafe { core::slice::from_raw_parts(phys_to_virt(paddr) as *const u8, total) };
    BoardFacts::from_fdt(&Fdt::parse(blob)?)
}

/// The RISC-V 64 machine.
#[derive(Debug)]
pub struct Riscv64Machine {
    cfg: BoardConfig,
    /// Microseconds between periodic kernel ticks (0: no periodic tick).
    tick_period_us: u64,
    /// Time of the next periodic tick (µs; `u64::MAX`: none).
    next_tick_us: u64,
    /// The kernel core's deadline ([`Machine::set_deadline`]; `u64::MAX`: none).
    deadline_us: u64,
}

impl Riscv64Machine {
    /// Bring up the console, trap vector, PLIC, ASIDs and timer interrupts for `cfg`.
    /// Call once, first thing after `kernel_main` is entered.
    pub fn init(cfg: BoardConfig) -> Self {
        console::init(cfg.uart, cfg.test_device);
        crate::trap::init();
        mmu::drop_identity_map();
        if let Err(e) = mmu::protect_kernel_image() {
            crate::kprintln!("warning: kernel image left RWX: {:?}", e);
        }
        mmu::detect_asid_bits();
        plic::init(cfg.plic, cfg.plic_context, cfg.plic_sources);
        if cfg.sstc {
            // SAFETY: see `set_deadline`.
            unsafe { csr::write_stimecmp(u64::MAX) };
        } else {
            sbi::set_timer(u64::MAX);
        }
        // SAFETY: enabling the timer and external interrupt sources; the kernel keeps
        // sstatus.SIE clear, so they only interrupt user mode or wake `wfi`.
        unsafe { csr::write_sie(csr::SIE_STIE | csr::SIE_SEIE) };
        Self {
            cfg,
            tick_period_us: 0,
            next_tick_us: u64::MAX,
            deadline_us: u64::MAX,
        }
    }

    /// Start a periodic kernel tick every `period_us` microseconds (a preemption point for
    /// the kernel core), alongside whatever deadline the core sets.
    pub fn start_tick(&mut self, period_us: u64) {
        self.tick_period_us = period_us.max(1);
        self.next_tick_us = self.now_us() + self.tick_period_us;
        self.program_timer();
    }

    /// After a timer interrupt: advance the periodic tick if it was due (returns whether it
    /// was), drop a passed core deadline, and re-arm the timer for whichever comes first.
    pub fn timer_fired(&mut self) -> bool {
        let now = self.now_us();
        let ticked = self.tick_period_us != 0 && self.next_tick_us <= now;
        if ticked {
            self.next_tick_us += self.tick_period_us;
            if self.next_tick_us <= now {
                self.next_tick_us = now + self.tick_period_us;
            }
        }
        if self.deadline_us <= now {
            self.deadline_us = u64::MAX;
        }
        self.program_timer();
        ticked
    }

    /// Program the timer for the earlier of the periodic tick and the core's deadline
    /// (which also clears a pending timer interrupt when both lie in the future).
    fn program_timer(&self) {
        let when = self.next_tick_us.min(self.deadline_us);
        let ticks = if when == u64::MAX {
            u64::MAX
        } else {
            crate::ticks::scale_saturating(when, self.cfg.timebase_hz, 1_000_000)
        };
        if self.cfg.sstc {
            // SAFETY: the DTB lists Sstc for this hart; OpenSBI enables it for S-mode.
            unsafe { csr::write_stimecmp(ticks) };
        } else {
            sbi::set_timer(ticks);
        }
    }

    /// The board configuration.
    pub fn config(&self) -> &BoardConfig {
        &self.cfg
    }

    /// Number of ASID bits the hart implements.
    pub fn asid_bits(&self) -> u32 {
        mmu::asid_bits()
    }

    /// Whether the timer interrupt is pending.
    pub fn timer_pending(&self) -> bool {
        csr::read_sip() & csr::SIE_STIE != 0
    }

    /// Whether an external (PLIC) interrupt is pending.
    pub fn external_pending(&self) -> bool {
        csr::read_sip() & csr::SIE_SEIE != 0
    }

    /// Claim a pending device IRQ from the PLIC.
    pub fn claim_irq(&mut self) -> Option<u64> {
        plic::claim().map(u64::from)
    }

    /// Tell the PLIC the handler for `irq` is done.
    pub fn complete_irq(&mut self, irq: u64) {
        if self.irq_valid(irq) {
            plic::complete(irq as u32);
        }
    }

    /// Sleep until an interrupt is pending (interrupts stay disabled in S-mode).
    pub fn wait_for_interrupt(&self) {
        csr::wfi();
    }
}

impl PhysMem for Riscv64Machine {
    fn window(&self, paddr: PAddr, len: usize) -> Option<*mut u8> {
        let end = paddr.checked_add(len as u64)?;
        let (lo, hi) = self.cfg.ram;
        if paddr < lo || end > hi || end > KERNEL_WINDOW_SIZE {
            return None;
        }
        Some(phys_to_virt(paddr) as *mut u8)
    }
}

impl Machine for Riscv64Machine {
    type Context = Riscv64Context;
    type PageTable = Sv39;

    /// `seL4_DebugPutChar`: a newline becomes CR LF on the serial line, as seL4's UART
    /// drivers do.
    fn putchar(&mut self, c: u8) {
        if c == b'\n' {
            console::putchar(b'\r');
        }
        console::putchar(c);
    }

    fn now_us(&self) -> u64 {
        crate::ticks::scale(csr::read_time(), 1_000_000, self.cfg.timebase_hz.max(1))
    }

    fn set_deadline(&mut self, deadline_us: u64) {
        self.deadline_us = deadline_us;
        self.program_timer();
    }

    fn mask_irq(&mut self, irq: u64) {
        if self.irq_valid(irq) {
            plic::set_enabled(irq as u32, false);
        }
    }

    fn unmask_irq(&mut self, irq: u64) {
        if self.irq_valid(irq) {
            plic::set_enabled(irq as u32, true);
        }
    }

    fn irq_valid(&self, irq: u64) -> bool {
        irq >= 1 && irq < self.cfg.plic_sources as u64
    }

    /// An enabled supervisor interrupt (timer, external from the PLIC, software) is
    /// pending in `sip` (the kernel runs with `sstatus.SIE` clear).
    fn irq_pending(&self) -> bool {
        let kinds = csr::SIE_SSIE | csr::SIE_STIE | csr::SIE_SEIE;
        csr::read_sip() & csr::read_sie() & kinds != 0
    }

    /// Copies the kernel window entries (root slots 256..512) into the new root.
    fn init_vspace_root(&mut self, root: PAddr) {
        if self.window(root, 4096).is_some() && root.is_multiple_of(4096) {
            mmu::copy_kernel_mappings(root);
        }
    }

    fn set_vspace(&mut self, root: PAddr, asid: u16) {
        mmu::set_vspace(root, asid);
    }

    fn tlb_invalidate_page(&mut self, asid: u16, vaddr: VAddr) {
        csr::sfence_page(asid, vaddr);
    }

    fn tlb_invalidate_asid(&mut self, asid: u16) {
        csr::sfence_asid(asid);
    }

    fn sync_icache(&mut self) {
        csr::fence_i();
    }

    fn halt(&mut self, code: u32) -> ! {
        console::exit_qemu(code)
    }
}
