//! The ARM Generic Interrupt Controller, version 2 (memory-mapped CPU interface) or
//! version 3 (system-register CPU interface, per-CPU redistributor).
//!
//! The version is found by probing the distributor's peripheral ID register 2
//! (ArchRev field): GICv2 has it at offset 0xFE8, GICv3/v4 at 0xFFE8 (where GICv2's 4 KiB
//! distributor frame ends, so that offset is read only when 0xFE8 did not say "v2").

use core::arch::asm;

/// Which GIC architecture is present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GicVersion {
    /// GICv2: distributor + memory-mapped CPU interface.
    V2,
    /// GICv3 (or v4): distributor + redistributors + system-register CPU interface.
    V3,
}

/// Kernel-virtual addresses of a GIC's register frames.
#[derive(Clone, Copy, Debug)]
pub struct Gic {
    /// Detected version.
    pub version: GicVersion,
    dist: usize,
    /// GICv2 CPU interface (v2) or redistributor of CPU 0 (v3).
    cpu: usize,
    /// Number of interrupt IDs the distributor implements (32 × (ITLinesNumber + 1)).
    pub lines: u32,
}

// Distributor registers.
const GICD_CTLR: usize = 0x000;
const GICD_TYPER: usize = 0x004;
const GICD_IGROUPR: usize = 0x080;
const GICD_ISENABLER: usize = 0x100;
const GICD_ICENABLER: usize = 0x180;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_ITARGETSR: usize = 0x800;
const GICD_PIDR2_V2: usize = 0xFE8;
const GICD_PIDR2_V3: usize = 0xFFE8;
// GICv2 CPU interface.
/// GICv2 software-generated interrupt register (multicore IPIs).
#[cfg(feature = "smp")]
const GICD_SGIR: usize = 0xF00;
const GICC_CTLR: usize = 0x00;
const GICC_PMR: usize = 0x04;
const GICC_BPR: usize = 0x08;
const GICC_IAR: usize = 0x0C;
const GICC_EOIR: usize = 0x10;
// GICv3 redistributor (RD_base frame, then SGI_base frame at +64 KiB).
const GICR_WAKER: usize = 0x14;
const GICR_SGI: usize = 0x1_0000;
const GICR_IGROUPR0: usize = GICR_SGI + 0x80;
const GICR_ISENABLER0: usize = GICR_SGI + 0x100;
const GICR_ICENABLER0: usize = GICR_SGI + 0x180;
const GICR_IPRIORITYR: usize = GICR_SGI + 0x400;

/// Priority given to every enabled interrupt.
const DEFAULT_PRIORITY: u8 = 0xA0;
/// First interrupt ID that means "no interrupt pending" (1020–1023 are special).
const SPURIOUS: u32 = 1020;

fn rd(addr: usize) -> u32 {
    // SAFETY: callers pass addresses inside the GIC frames mapped as device memory in the
    // kernel window; 32-bit reads of these registers have no side effects except IAR,
    // whose acknowledge side effect is what `ack` wants.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn wr(addr: usize, v: u32) {
    // SAFETY: as in `rd`; the kernel is the only writer of the GIC.
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) }
}

fn wr8(addr: usize, v: u8) {
    // SAFETY: priority and target registers are byte-accessible (GIC architecture).
    unsafe { core::ptr::write_volatile(addr as *mut u8, v) }
}

impl Gic {
    /// Probe the GIC whose distributor is at `dist`. `cpu_v2` is the GICv2 CPU interface,
    /// `redist_v3` the first GICv3 redistributor (all kernel-virtual). `None` if neither
    /// ID register names a known version.
    pub fn probe(dist: usize, cpu_v2: usize, redist_v3: usize) -> Option<Gic> {
        let rev = |v: u32| (v >> 4) & 0xF;
        let (version, cpu) = if rev(rd(dist + GICD_PIDR2_V2)) == 2 {
            (GicVersion::V2, cpu_v2)
        } else if matches!(rev(rd(dist + GICD_PIDR2_V3)), 3 | 4) {
            (GicVersion::V3, redist_v3)
        } else {
            return None;
        };
        let lines = 32 * ((rd(dist + GICD_TYPER) & 0x1F) + 1);
        Some(Gic {
            version,
            dist,
            cpu,
            lines: lines.min(1020),
        })
    }

    /// Reset the distributor and this CPU's interface: every interrupt disabled, group 1
    /// (v3) / group 0 signalled as IRQ (v2), all priorities unmasked.
    pub fn init(&self) {
        match self.version {
            GicVersion::V2 => {
                wr(self.dist + GICD_CTLR, 0);
                for i in 0..self.lines as usize / 32 {
                    wr(self.dist + GICD_ICENABLER + 4 * i, 0xFFFF_FFFF);
                }
                for irq in 0..self.lines as usize {
                    wr8(self.dist + GICD_IPRIORITYR + irq, DEFAULT_PRIORITY);
                    if irq >= 32 {
                        wr8(self.dist + GICD_ITARGETSR + irq, 1); // CPU 0
                    }
                }
                wr(self.dist + GICD_CTLR, 1);
                wr(self.cpu + GICC_PMR, 0xF0);
                wr(self.cpu + GICC_BPR, 0);
                wr(self.cpu + GICC_CTLR, 1);
            }
            GicVersion::V3 => {
                wr(self.dist + GICD_CTLR, 0);
                while rd(self.dist + GICD_CTLR) & (1 << 31) != 0 {} // RWP
                for i in 1..self.lines as usize / 32 {
                    wr(self.dist + GICD_ICENABLER + 4 * i, 0xFFFF_FFFF);
                    wr(self.dist + GICD_IGROUPR + 4 * i, 0xFFFF_FFFF);
                }
                for irq in 32..self.lines as usize {
                    wr8(self.dist + GICD_IPRIORITYR + irq, DEFAULT_PRIORITY);
                }
                // Single security state: ARE (bit 4) + EnableGrp1 (bit 1).
                wr(self.dist + GICD_CTLR, (1 << 4) | (1 << 1));
                while rd(self.dist + GICD_CTLR) & (1 << 31) != 0 {}
                // Wake this CPU's redistributor.
                let w = rd(self.cpu + GICR_WAKER);
                wr(self.cpu + GICR_WAKER, w & !(1 << 1));
                while rd(self.cpu + GICR_WAKER) & (1 << 2) != 0 {}
                wr(self.cpu + GICR_ICENABLER0, 0xFFFF_FFFF);
                wr(self.cpu + GICR_IGROUPR0, 0xFFFF_FFFF);
                for irq in 0..32 {
                    wr8(self.cpu + GICR_IPRIORITYR + irq, DEFAULT_PRIORITY);
                }
                // SAFETY: the GICv3 CPU interface registers only affect interrupt delivery to
                // this CPU: enable system-register access (ICC_SRE_EL1.SRE), unmask all
                // priorities (ICC_PMR_EL1), EOI also deactivates (ICC_CTLR_EL1 = 0), enable
                // group 1 (ICC_IGRPEN1_EL1).
                unsafe {
                    asm!(
                        "mrs {t}, S3_0_C12_C12_5",
                        "orr {t}, {t}, #1",
                        "msr S3_0_C12_C12_5, {t}",
                        "isb",
                        "msr S3_0_C4_C6_0, {pmr}",
                        "msr S3_0_C12_C12_3, xzr",
                        "msr S3_0_C12_C12_4, xzr",
                        "msr S3_0_C12_C12_7, {one}",
                        "isb",
                        t = out(reg) _,
                        pmr = in(reg) 0xF0u64,
                        one = in(reg) 1u64,
                        options(nostack)
                    )
                };
            }
        }
    }

    /// Enable (unmask) interrupt `irq`.
    pub fn enable(&self, irq: u32) {
        if irq >= self.lines {
            return;
        }
        let bit = 1u32 << (irq % 32);
        if self.version == GicVersion::V3 && irq < 32 {
            wr(self.cpu + GICR_ISENABLER0, bit);
        } else {
            wr(self.dist + GICD_ISENABLER + 4 * (irq as usize / 32), bit);
        }
    }

    /// Disable (mask) interrupt `irq`.
    pub fn disable(&self, irq: u32) {
        if irq >= self.lines {
            return;
        }
        let bit = 1u32 << (irq % 32);
        if self.version == GicVersion::V3 && irq < 32 {
            wr(self.cpu + GICR_ICENABLER0, bit);
        } else {
            wr(self.dist + GICD_ICENABLER + 4 * (irq as usize / 32), bit);
        }
    }

    /// Acknowledge the highest-priority pending interrupt, if any.
    pub fn ack(&self) -> Option<u32> {
        let id = match self.version {
            GicVersion::V2 => rd(self.cpu + GICC_IAR) & 0x3FF,
            GicVersion::V3 => {
                let v: u64;
                // SAFETY: reading ICC_IAR1_EL1 acknowledges the interrupt, as intended.
                unsafe { asm!("mrs {}, S3_0_C12_C12_0", out(reg) v, options(nomem, nostack)) };
                (v & 0xFF_FFFF) as u32
            }
        };
        (id < SPURIOUS).then_some(id)
    }

    /// Signal end of interrupt (also deactivates it) for an ID returned by [`Gic::ack`].
    pub fn eoi(&self, irq: u32) {
        match self.version {
            GicVersion::V2 => wr(self.cpu + GICC_EOIR, irq),
            // SAFETY: writing ICC_EOIR1_EL1 completes the interrupt `ack` returned.
            GicVersion::V3 => unsafe {
                asm!("msr S3_0_C12_C12_1, {}", "isb", in(reg) irq as u64, options(nostack))
            },
        }
    }

    /// Multicore (`docs/smp.md`): set up this secondary core's banked GICv2 CPU interface
    /// (the distributor and core 0's interface are set up by [`Gic::init`]). Returns false
    /// for GICv3, whose per-core redistributors the multicore kernel does not drive yet.
    #[cfg(feature = "smp")]
    pub fn init_secondary_cpu(&self) -> bool {
        if self.version != GicVersion::V2 {
            return false;
        }
        for irq in 0..32 {
            wr8(self.dist + GICD_IPRIORITYR + irq, DEFAULT_PRIORITY);
        }
        wr(self.cpu + GICC_PMR, 0xF0);
        wr(self.cpu + GICC_BPR, 0);
        wr(self.cpu + GICC_CTLR, 1);
        true
    }

    /// Multicore: like [`Gic::ack`] but the whole GICC_IAR value (GICv2 SGIs carry the
    /// sending core's number in bits 10..12, which [`Gic::eoi`] must be given back).
    #[cfg(feature = "smp")]
    pub fn ack_raw(&self) -> Option<u32> {
        match self.version {
            GicVersion::V2 => {
                let v = rd(self.cpu + GICC_IAR);
                (v & 0x3FF < SPURIOUS).then_some(v)
            }
            GicVersion::V3 => self.ack(),
        }
    }

    /// Multicore: send software-generated interrupt `sgi` (0..15) to the cores whose GICv2
    /// CPU interface numbers are the set bits of `targets`.
    #[cfg(feature = "smp")]
    pub fn send_sgi(&self, sgi: u32, targets: u8) {
        // Make the kernel's writes (the queues the target will read) visible first.
        // SAFETY: a barrier only.
        unsafe { asm!("dsb ish", options(nostack)) };
        wr(self.dist + GICD_SGIR, ((targets as u32) << 16) | (sgi & 0xF));
    }
}
