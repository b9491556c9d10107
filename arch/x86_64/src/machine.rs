//! The `kernel-hal` [`Machine`] for x86_64 QEMU (PIC, PIT, LAPIC timer, COM1, isa-debug-exit).

use crate::{cpu, irq, mm, serial, X86Context, X86PageTable};

use kernel_hal::{IoApicError, IoApicPolarity, IoApicTrigger, Machine, PAddr, PhysMem, VAddr};

/// The x86_64 machine; device state lives in the arch modules.
#[derive(Debug, Default)]
pub struct X86Machine {
    deadline_us: u64,
    /// The LAPIC one-shot is counting down to `deadline_us` (armed and not yet fired).
    armed: bool,
}

impl X86Machine {
    /// A machine handle (usable in a `static`).
    pub const fn new_const() -> Self {
        Self {
            deadline_us: 0,
            armed: false,
        }
    }

    /// The LAPIC one-shot fired (its deadline vector arrived): the next
    /// [`Machine::set_deadline`] must arm it again even for the same deadline.
    pub fn deadline_fired(&mut self) {
        self.armed = false;
    }

    /// The pending deadline set by [`Machine::set_deadline`] (the periodic tick checks it).
    pub fn deadline_us(&self) -> u64 {
        self.deadline_us
    }
}

impl PhysMem for X86Machine {
    #[inline(always)]
    fn window(&self, paddr: PAddr, len: usize) -> Option<*mut u8> {
        mm::window(paddr, len)
    }
}

impl Machine for X86Machine {
    type Context = X86Context;
    type PageTable = X86PageTable;

    fn putchar(&mut self, c: u8) {
        serial::putc(c);
    }

    /// From the TSC, calibrated against the PIT at boot (tick resolution as fallback).
    #[inline]
    fn now_us(&self) -> u64 {
        irq::now_us()
    }

    /// One-shot local APIC timer ([`crate::trap::Event::Deadline`]); without a usable
    /// LAPIC the periodic PIT tick is the only timer (the core checks deadlines per tick).
    /// The core sets the deadline on every kernel entry, mostly unchanged: the one-shot is
    /// only re-armed (an MMIO write) when the deadline moved or the timer fired since.
    fn set_deadline(&mut self, deadline_us: u64) {
        if self.armed && deadline_us == self.deadline_us {
            return;
        }
        self.deadline_us = deadline_us;
        let now = self.now_us();
        self.armed = crate::lapic::arm(deadline_us.saturating_sub(now));
    }

    fn mask_irq(&mut self, i: u64) {
        if crate::ioapic::drives(i) {
            crate::ioapic::mask(i);
        } else if self.irq_valid(i) {
            irq::mask(i as u8);
        }
    }

    fn unmask_irq(&mut self, i: u64) {
        if crate::ioapic::drives(i) {
            crate::ioapic::unmask(i);
        } else if self.irq_valid(i) {
            irq::unmask(i as u8);
        }
    }

    /// Legacy ISA lines 1..15 except the cascade (2) on the PIC (line 0 is the kernel
    /// timer), and the I/O APIC's pin 2 and inputs from 16 up.
    fn irq_valid(&self, i: u64) -> bool {
        ((1..16).contains(&i) && i != 2) || crate::ioapic::drives(i)
    }

    /// An unmasked PIC line is requesting (its IRR; the PIT tick and device IRQs), or the
    /// local APIC holds a requested vector (its IRR; the deadline timer). The kernel runs
    /// with RFLAGS.IF clear, so either would be taken on return to user mode.
    fn irq_pending(&self) -> bool {
        irq::line_pending() || crate::lapic::vector_pending()
    }

    /// I/O APIC 0's pins 0..15 stand for the ISA lines the legacy PIC delivers (QEMU's
    /// I/O APIC routes ISA IRQ n to pin n the same way, apart from the timer), so pin n is
    /// device IRQ n and level and polarity are not applied (ISA lines on the PIC are
    /// edge-triggered, active high). Pin 2 (the PIC's cascade; the HPET's on PCs) and pins
    /// from 16 up (PCI) are programmed in the I/O APIC itself (`ioapic`), device IRQ = pin.
    fn ioapic_pin_irq(&self, ioapic: u64, pin: u64) -> Result<u64, IoApicError> {
        if ioapic != 0 {
            return Err(IoApicError::NoSuchIoApic { count: 1 });
        }
        let pins = crate::ioapic::pins().max(16);
        if pin >= pins {
            return Err(IoApicError::NoSuchPin { pins });
        }
        Ok(pin)
    }

    fn ioapic_configure(&mut self, irq: u64, trigger: IoApicTrigger, polarity: IoApicPolarity) {
        crate::ioapic::route(irq, trigger, polarity);
    }

    /// Copy the kernel's PML4 slots 256..511 (window and image) into a new VSpace root,
    /// as seL4's `copyGlobalMappings`.
    fn init_vspace_root(&mut self, root: PAddr) {
        if let Some(p) = mm::window(root, 4096) {
            let table = p as *mut u64;
            for i in 256..512 {
                // SAFETY: `root` is a whole page of RAM in the window, owned by the caller
                // as a fresh VSpace root; i < 512.
                unsafe { table.add(i).write(mm::kernel_pml4_slot(i)) };
            }
        }
    }

    /// No PCID: the ASID is ignored and a CR3 load flushes non-global entries.
    fn set_vspace(&mut self, root: PAddr, _asid: u16) {
        if cpu::cr3() & !0xfff != root {
            // SAFETY: every VSpace root the core hands over copies the kernel PML4 slots
            // 256..511 (see `mm::kernel_pml4_slot`), so the kernel stays mapped.
            unsafe { cpu::set_cr3(root) };
        }
    }

    fn tlb_invalidate_page(&mut self, _asid: u16, vaddr: VAddr) {
        cpu::invlpg(vaddr);
    }

    fn tlb_invalidate_asid(&mut self, _asid: u16) {
        // SAFETY: reloading the same CR3 only flushes the TLB.
        unsafe { cpu::set_cr3(cpu::cr3()) };
    }

    /// Port input for `seL4_X86_IOPort_In8/16/32`. The core has already checked that the
    /// invoked IOPort cap covers the whole access (ports the kernel itself drives, COM1 and
    /// the PIC/PIT, are only reachable if user space was issued them).
    fn io_port_in(&mut self, port: u16, size: u8) -> u32 {
        // SAFETY: the core checked the caller's IOPort cap covers `port..port+size`; port
        // reads have no memory effects.
        unsafe {
            match size {
                1 => cpu::inb(port) as u32,
                2 => cpu::inw(port) as u32,
                _ => cpu::inl(port),
            }
        }
    }

    /// Port output for `seL4_X86_IOPort_Out8/16/32` (checked by the core as for input).
    fn io_port_out(&mut self, port: u16, size: u8, value: u32) {
        // SAFETY: as in `io_port_in`: the caller holds an IOPort cap for these ports.
        unsafe {
            match size {
                1 => cpu::outb(port, value as u8),
                2 => cpu::outw(port, value as u16),
                _ => cpu::outl(port, value),
            }
        }
    }

    /// The kernel core asks for a clean stop (code 0) only on `seL4_DebugHalt` (in a kernel
    /// configured with it), which is said on the console first.
    fn halt(&mut self, code: u32) -> ! {
        if code == 0 {
            crate::kprintln!("kernel: seL4_DebugHalt, stopping");
        }
        crate::exit::halt(code)
    }
}
