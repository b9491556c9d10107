//! Booting the kernel core: load the root task's ELF into physical frames, describe free
//! RAM and the `virt` machine's device regions, and let `kernel_core::boot` build the root
//! task exactly as seL4 does (§7 of the ABI notes: initial caps in seL4's slots, IPC buffer
//! page right after the image, then the bootinfo page and the extra bootinfo with the DTB;
//! x0 = bootinfo, SP = 0).

use arch_aarch64::loader::{self, LoadedFrame};
use arch_aarch64::machine::Aarch64Machine;
use arch_aarch64::sync::KernelGlobal;
use arch_aarch64::vspace::{self, FrameAllocator};
use arch_aarch64::{kprintln, payload, timer, Aarch64PageTable};
use boot_image::elf::EM_AARCH64;
use kernel_core::boot::{boot, BootParams, ImageFrame, Region};
use kernel_core::Kernel;
use kernel_hal::{MapRights, PAddr};
use sel4_abi::config::{KernelConfig, RECORD_WORDS};
use sel4_abi::Arch;

use crate::memmap;

/// Most 4 KiB pages a root-task image may have (16 MiB).
const MAX_IMAGE_PAGES: usize = 4096;
/// Extra-bootinfo chunk id of the device tree (`SEL4_BOOTINFO_HEADER_FDT`).
const BOOTINFO_HEADER_FDT: u64 = 6;

/// Device (MMIO) regions of QEMU `virt` below RAM that user space may own as device
/// untyped: everything from 0 to the start of RAM except the GIC (distributor, CPU
/// interface, v2m, ITS and redistributors: 0x0800_0000..0x0900_0000), which the kernel
/// drives. The PL011 page (0x0900_0000) is included: seL4 (debug) on Microkit's
/// `qemu_virt_aarch64` hands it to user space too while printing through it, and Microkit's
/// `setvar` example maps it in a PD (`docs/aarch64.md`, "What the kernel keeps").
#[cfg(not(feature = "hyp"))]
pub const DEVICE_REGIONS: [Region; 2] = [
    Region {
        start: 0,
        end: memmap::GIC_DIST,
    },
    Region {
        start: memmap::UART0,
        end: memmap::RAM_START,
    },
];

/// Hypervisor build: also the GICv2 virtual CPU interface (GICV, 64 KiB at `0x0804_0000`),
/// which a VMM maps into its guest where the guest expects its GIC CPU interface (seL4 leaves
/// it to user space as well; the kernel drives GICH, the hypervisor control interface).
#[cfg(feature = "hyp")]
pub const DEVICE_REGIONS: [Region; 3] = [
    Region {
        start: 0,
        end: memmap::GIC_DIST,
    },
    Region {
        start: memmap::GIC_VCPU_V2,
        end: memmap::GIC_VCPU_V2 + 0x1_0000,
    },
    Region {
        start: memmap::UART0,
        end: memmap::RAM_START,
    },
];

/// Hands out 4 KiB frames upwards from a physical address (boot only; what it handed out
/// stays reserved and is not given to the core as free RAM).
struct BumpFrames {
    next: PAddr,
    end: PAddr,
}

impl FrameAllocator for BumpFrames {
    fn alloc_frame(&mut self) -> Option<PAddr> {
        if self.next + 4096 > self.end {
            return None;
        }
        let f = self.next;
        self.next += 4096;
        Some(f)
    }
}

/// Scratch lists for boot (kept off the 64 KiB kernel stack).
struct Scratch {
    loaded: [LoadedFrame; MAX_IMAGE_PAGES],
    image: [ImageFrame; MAX_IMAGE_PAGES],
}

const NO_RIGHTS: MapRights = MapRights {
    read: false,
    write: false,
    execute: false,
};

static SCRATCH: KernelGlobal<Scratch> = KernelGlobal::new(Scratch {
    loaded: [LoadedFrame {
        vaddr: 0,
        paddr: 0,
        rights: NO_RIGHTS,
    }; MAX_IMAGE_PAGES],
    image: [ImageFrame {
        vaddr: 0,
        paddr: 0,
        rights: NO_RIGHTS,
    }; MAX_IMAGE_PAGES],
});

/// The kernel's configuration record (`sel4_abi::config`, see `docs/config.md`): seL4's
/// defaults unless an image tool set another configuration in the image (the Microkit SDK's
/// kernels carry Microkit's). In `.data`, so that it has file bytes to patch.
#[no_mangle]
#[used]
#[link_section = ".data.kernel_config"]
pub static KERNEL_CONFIG: [u64; RECORD_WORDS] = KernelConfig {
    hypervisor: cfg!(feature = "hyp"),
    ..KernelConfig::SEL4_DEFAULT
}
.to_words();

/// The configuration this image was given (printed at boot).
fn kernel_config() -> KernelConfig {
    // SAFETY: KERNEL_CONFIG is a valid, aligned static; the volatile read stops the compiler
    // from folding in the initialiser an image tool may have overwritten in the file.
    let w = unsafe { core::ptr::read_volatile(&raw const KERNEL_CONFIG) };
    let c = KernelConfig::from_words(&w);
    kprintln!(
        "kernel: config: CONFIG_NUM_DOMAINS={} CONFIG_KERNEL_MCS={} CONFIG_DEBUG_BUILD={} CONFIG_PRINTING={} CONFIG_MAX_NUM_NODES={}{}",
        c.num_domains,
        c.kernel_mcs as u8,
        c.debug_build as u8,
        c.printing as u8,
        c.max_num_nodes,
        if c.hypervisor { " CONFIG_ARM_HYPERVISOR_SUPPORT=1" } else { "" }
    );
    if c.hypervisor != cfg!(feature = "hyp") {
        panic!(
            "configuration record has CONFIG_ARM_HYPERVISOR_SUPPORT={}, but this kernel was built {} the hyp feature",
            c.hypervisor as u8,
            if cfg!(feature = "hyp") { "with" } else { "without" }
        );
    }
    if c.max_num_nodes != 1 && !cfg!(feature = "smp") {
        panic!(
            "CONFIG_MAX_NUM_NODES={} needs the multicore kernel (built with the smp feature); this one is uniprocessor",
            c.max_num_nodes
        );
    }
    c
}

/// Load `elf` (the root task) and boot the kernel core. `dtb` is copied into the extra
/// bootinfo. Panics (a kernel boot failure) on a malformed image or too little memory.
pub fn boot_core(mut machine: Aarch64Machine, elf: &[u8], dtb: Option<&[u8]>) -> Kernel<Aarch64Machine> {
    let (ppa, plen) = payload::descriptor();
    let reserved_end = payload::kernel_end_paddr().max((ppa + plen).div_ceil(4096) * 4096);
    let mut frames = BumpFrames {
        next: reserved_end,
        end: machine.ram_end,
    };
    SCRATCH.with(|s| {
        let (img, n) = match loader::load_elf_frames::<Aarch64PageTable, _, _>(
            &machine,
            &mut frames,
            elf,
            EM_AARCH64,
            &mut s.loaded,
        ) {
            Ok(r) => r,
            Err(e) => panic!("cannot load the root task: {:?}", e),
        };
        for (d, l) in s.image.iter_mut().zip(&s.loaded[..n]) {
            *d = ImageFrame {
                vaddr: l.vaddr,
                paddr: l.paddr,
                rights: l.rights,
            };
        }
        // Extra bootinfo: one FDT chunk {id, len incl. header} followed by the DTB, staged
        // in frames the core copies from (they stay reserved).
        let extra: &[u8] = match dtb {
            Some(d) => stage_extra_bootinfo(&machine, &mut frames, d),
            None => &[],
        };
        let ipc_buffer = img.end;
        let bootinfo = img.end + 4096;
        kprintln!(
            "kernel: root task: image {:#x}..{:#x} ({} pages at {:#x}), entry {:#x}, IPC buffer {:#x}, bootinfo {:#x}",
            img.start,
            img.end,
            n,
            s.loaded[0].paddr,
            img.entry,
            ipc_buffer,
            bootinfo
        );
        let ram = [Region {
            start: frames.next,
            end: machine.ram_end,
        }];
        kernel_hal::Machine::sync_icache(&mut machine);
        let params = BootParams {
            arch: Arch::Aarch64,
            ram: &ram,
            device: &DEVICE_REGIONS,
            image: &s.image[..n],
            entry: img.entry,
            ipc_buffer_vaddr: ipc_buffer,
            bootinfo_vaddr: bootinfo,
            extra_bootinfo: extra,
            timer_irq: Some(timer::KERNEL_TIMER_PPI as u64),
            config: kernel_config(),
        };
        match boot(machine, &params) {
            Ok(k) => k,
            Err(e) => panic!("kernel core boot failed: {:?}", e),
        }
    })
}

/// Copy the FDT chunk header and `dtb`, packed to its real size as seL4 hands it over
/// (`boot_image::fdt::PackPlan`; as it came if it cannot be packed), into fresh frames and
/// return them as one slice (through the kernel window). An empty slice if memory runs out.
fn stage_extra_bootinfo(machine: &Aarch64Machine, frames: &mut BumpFrames, dtb: &[u8]) -> &'static [u8] {
    let plan = boot_image::fdt::PackPlan::new(dtb).ok();
    let len = 16 + plan.map_or(dtb.len(), |p| p.total);
    let pages = len.div_ceil(4096) as u64;
    let start = frames.next;
    if start + pages * 4096 > frames.end {
        return &[];
    }
    frames.next += pages * 4096;
    let mut header = [0u8; 16];
    header[..8].copy_from_slice(&BOOTINFO_HEADER_FDT.to_le_bytes());
    header[8..].copy_from_slice(&(len as u64).to_le_bytes());
    let body = match plan {
        Some(p) => {
            vspace::write_phys(machine, start + 16, &p.header).is_ok()
                && p.blocks.iter().all(|&(src, dst, n)| {
                    vspace::write_phys(machine, start + 16 + dst as u64, &dtb[src..src + n]).is_ok()
                })
        }
        None => vspace::write_phys(machine, start + 16, dtb).is_ok(),
    };
    if vspace::write_phys(machine, start, &header).is_err() || !body {
        return &[];
    }
    match kernel_hal::PhysMem::window(machine, start, len) {
        // SAFETY: the window maps `len` bytes of frames just taken from the allocator, which
        // are never handed out again (they lie below the free RAM given to the core); the
        // slice is only read.
        Some(p) => unsafe { core::slice::from_raw_parts(p as *const u8, len) },
        None => &[],
    }
}
