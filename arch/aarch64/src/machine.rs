//! [`kernel_hal::Machine`] and [`kernel_hal::PhysMem`] for AArch64 (QEMU `virt`-like boards).

use crate::gic::Gic;
use crate::layout::{phys_to_virt, KERNEL_WINDOW_SIZE};
use crate::{console, cpu, timer, Aarch64Context, Aarch64PageTable};
use kernel_hal::{Machine, PAddr, PhysMem, VAddr};

/// The AArch64 machine as the kernel core sees it.
#[derive(Clone, Copy, Debug)]
pub struct Aarch64Machine {
    /// The interrupt controller.
    pub gic: Gic,
    /// Generic-timer frequency (Hz).
    pub timer_hz: u64,
    /// RAM the window hands out: `[ram_start, ram_end)`.
    pub ram_start: PAddr,
    /// End of RAM (exclusive).
    pub ram_end: PAddr,
    /// Counter ticks between periodic kernel ticks (0: no periodic tick).
    pub tick_period: u64,
    /// Counter value of the next periodic tick.
    pub next_tick: u64,
    /// Counter value of the core's deadline ([`Machine::set_deadline`]); `u64::MAX`: none.
    pub deadline: u64,
}

impl Aarch64Machine {
    /// Wrap an initialised GIC and the board's RAM range.
    pub fn new(gic: Gic, ram_start: PAddr, ram_end: PAddr) -> Self {
        Aarch64Machine {
            gic,
            timer_hz: timer::frequency().max(1),
            ram_start,
            ram_end: ram_end.min(KERNEL_WINDOW_SIZE),
            tick_period: 0,
            next_tick: u64::MAX,
            deadline: u64::MAX,
        }
    }

    /// Start a periodic tick of `hz` interrupts per second on the EL1 virtual timer.
    pub fn start_tick(&mut self, hz: u64) {
        self.tick_period = (self.timer_hz / hz.max(1)).max(1);
        self.next_tick = timer::counter() + self.tick_period;
        self.program_timer();
        self.gic.enable(timer::KERNEL_TIMER_PPI);
    }

    /// After a timer interrupt: advance the periodic tick if it was due (returns whether it
    /// was), drop a passed core deadline, and re-arm for whichever comes first.
    pub fn timer_fired(&mut self) -> bool {
        // A secondary core has no tick, only its own kernel deadline.
        #[cfg(feature = "smp")]
        if let Some(d) = secondary_deadline() {
            if d.load(core::sync::atomic::Ordering::Relaxed) <= timer::counter() {
                d.store(u64::MAX, core::sync::atomic::Ordering::Relaxed);
            }
            self.program_timer();
            return false;
        }
        let now = timer::counter();
        let ticked = self.tick_period != 0 && self.next_tick <= now;
        if ticked {
            self.next_tick += self.tick_period;
            if self.next_tick <= now {
                self.next_tick = now + self.tick_period;
            }
        }
        if self.deadline <= now {
            self.deadline = u64::MAX;
        }
        self.program_timer();
        ticked
    }

    /// Program the timer for the earlier of the periodic tick and the core's deadline.
    fn program_timer(&self) {
        #[cfg(feature = "smp")]
        if let Some(d) = secondary_deadline() {
            timer::set_compare(d.load(core::sync::atomic::Ordering::Relaxed));
            return;
        }
        timer::set_compare(self.next_tick.min(self.deadline));
    }

    /// Run user mode with no address space: TTBR0 := the empty table with ASID 0 (never
    /// given to a VSpace), so every user access faults. For a thread the core reports no
    /// valid VSpace for (seL4 falls back to the global table the same way).
    pub fn clear_vspace(&mut self) {
        cpu::set_ttbr0(crate::boot::empty_table_paddr(), 0);
    }

    /// Convert microseconds to counter ticks.
    pub fn us_to_ticks(&self, us: u64) -> u64 {
        crate::ticks::scale(us, self.timer_hz, 1_000_000)
    }
}

/// Multicore (`docs/smp.md`): each core's generic timer is its own; the fields above are the
/// boot core's (tick and deadline), a secondary core keeps only its kernel deadline (counter
/// ticks, `u64::MAX` = none) here.
#[cfg(feature = "smp")]
static SECONDARY_DEADLINES: [core::sync::atomic::AtomicU64; crate::smp::MAX_CORES] =
    [const { core::sync::atomic::AtomicU64::new(u64::MAX) }; crate::smp::MAX_CORES];

/// The running core's deadline if it is a secondary core.
#[cfg(feature = "smp")]
fn secondary_deadline() -> Option<&'static core::sync::atomic::AtomicU64> {
    match crate::smp::current_core() {
        0 => None,
        c => SECONDARY_DEADLINES.get(c),
    }
}

impl PhysMem for Aarch64Machine {
    fn window(&self, paddr: PAddr, len: usize) -> Option<*mut u8> {
        let end = paddr.checked_add(len as u64)?;
        if paddr < self.ram_start || end > self.ram_end {
            return None;
        }
        Some(phys_to_virt(paddr) as *mut u8)
    }
}

impl Machine for Aarch64Machine {
    type Context = Aarch64Context;
    type PageTable = Aarch64PageTable;

    fn putchar(&mut self, c: u8) {
        console::putc(c);
    }

    fn now_us(&self) -> u64 {
        crate::ticks::scale(timer::counter(), 1_000_000, self.timer_hz)
    }

    fn set_deadline(&mut self, deadline_us: u64) {
        #[cfg(feature = "smp")]
        if let Some(d) = secondary_deadline() {
            d.store(self.us_to_ticks(deadline_us), core::sync::atomic::Ordering::Relaxed);
            self.program_timer();
            return;
        }
        self.deadline = self.us_to_ticks(deadline_us);
        self.program_timer();
    }

    fn mask_irq(&mut self, irq: u64) {
        self.gic.disable(irq as u32);
    }

    fn unmask_irq(&mut self, irq: u64) {
        self.gic.enable(irq as u32);
    }

    fn irq_valid(&self, irq: u64) -> bool {
        (32..self.gic.lines as u64).contains(&irq)
    }

    /// ISR_EL1.I: the GIC signals a pending interrupt (device SPI or the timer PPI).
    fn irq_pending(&self) -> bool {
        cpu::irq_pending()
    }

    fn set_vspace(&mut self, root: PAddr, asid: u16) {
        cpu::set_ttbr0(root, asid);
    }

    fn tlb_invalidate_page(&mut self, asid: u16, vaddr: VAddr) {
        cpu::tlb_invalidate_page(asid, vaddr);
    }

    #[cfg(feature = "smp")]
    fn stall_core(&mut self, core: usize) {
        if let Some(t) = crate::smp::gic_target(core) {
            self.gic.send_sgi(crate::smp::RESCHEDULE_SGI, t);
            crate::smp::wait_until_in_kernel(core);
        }
    }

    fn tlb_invalidate_asid(&mut self, asid: u16) {
        cpu::tlb_invalidate_asid(asid);
    }

    fn sync_icache(&mut self) {
        cpu::sync_icache();
    }

    fn arm_smc_call(&mut self, args: [u64; 8]) -> [u64; 8] {
        crate::smc::smc_call(args)
    }
    fn halt(&mut self, code: u32) -> ! {
        cpu::semihosting_exit(code)
    }
}
