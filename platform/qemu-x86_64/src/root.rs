//! Booting the kernel core: load the root task (first multiboot module) into frames,
//! describe the free RAM from the multiboot memory map and the device space user space may
//! own, and let `kernel_core::boot` build the root task as seL4 does (§7 of the ABI notes:
//! initial caps in seL4's slots including IOPortControl in slot 7, IPC buffer page right
//! after the image, then the bootinfo page and the extra bootinfo with the ACPI RSDP, the
//! multiboot memory map and the TSC frequency; rdi = bootinfo, RSP = 0, RFLAGS = IF|2).

use arch_x86_64::{extra_bootinfo, firmware};
use arch_x86_64::machine::X86Machine;
use arch_x86_64::mm::{FrameAlloc, LAPIC_PHYS_DEFAULT};
use arch_x86_64::multiboot::{BootInfo, Range};
use arch_x86_64::trap::KCell;
use arch_x86_64::{kprintln, layout};
use kernel_core::boot::{boot, BootParams, ImageFrame, Region};
use kernel_core::Kernel;
use kernel_hal::MapRights;
use sel4_abi::config::{KernelConfig, RECORD_WORDS};
use sel4_abi::Arch;

use crate::loader::{self, MAX_IMAGE_PAGES};

/// Physical memory below this is left to the BIOS (real-mode IVT, BDA, EBDA, VGA, ROMs),
/// as seL4 does on x86: never free RAM (it is device memory for the root task).
pub const LOW_MEMORY_END: u64 = firmware::LOW_MEMORY_END;
/// The I/O APIC's page, which the kernel keeps (as seL4 does).
pub const IOAPIC_BASE: u64 = 0xfec0_0000;
/// Most free RAM regions handed to the core.
const MAX_FREE: usize = 32;

const NO_FRAME: ImageFrame = ImageFrame {
    vaddr: 0,
    paddr: 0,
    rights: MapRights {
        read: false,
        write: false,
        execute: false,
    },
};
/// The image frame list handed to the core (128 KiB: kept off the 64 KiB init stack).
static IMAGE: KCell<[ImageFrame; MAX_IMAGE_PAGES]> = KCell::new([NO_FRAME; MAX_IMAGE_PAGES]);

/// Free RAM: every multiboot RAM region inside the kernel window, minus low memory, minus
/// everything below `reserved_end` (kernel image with its page tables and stacks, the
/// multiboot information, the modules) and minus the frames `[used_start, used_end)` the
/// loader took for the root-task image. Page aligned. Returns the number of regions.
fn free_ram(
    bi: &BootInfo,
    reserved_end: u64,
    used_start: u64,
    used_end: u64,
    out: &mut [Region; MAX_FREE],
) -> usize {
    let mut n = 0;
    let mut push = |start: u64, end: u64| {
        let (s, e) = ((start + 0xfff) & !0xfff, end & !0xfff);
        if e > s && n < MAX_FREE {
            out[n] = Region { start: s, end: e };
            n += 1;
        }
    };
    for r in bi.ram.iter().take(bi.num_ram) {
        let start = r.start.max(LOW_MEMORY_END).max(reserved_end);
        let end = r.end.min(layout::WINDOW_LIMIT);
        if start >= end {
            continue;
        }
        if used_end > used_start && used_start < end && used_end > start {
            push(start, used_start.max(start));
            push(used_end.min(end), end);
        } else {
            push(start, end);
        }
    }
    n
}

/// Most device regions handed to the core.
const MAX_DEVICE: usize = 16;

/// Device space user space may own as device untyped, as seL4 gives it on x86: every
/// physical address below 2^47 that is neither RAM above 1 MiB (the BIOS's low memory with
/// its ROM and ACPI pointer is a device region) nor a page the kernel keeps (the I/O APIC and
/// the local APIC). Returns the number of regions.
fn device_regions(bi: &BootInfo, out: &mut [Region; MAX_DEVICE]) -> usize {
    let kernel_devices = [
        Range {
            start: IOAPIC_BASE,
            end: IOAPIC_BASE + 0x1000,
        },
        Range {
            start: LAPIC_PHYS_DEFAULT,
            end: LAPIC_PHYS_DEFAULT + 0x1000,
        },
    ];
    let mut ranges = [Range::default(); MAX_DEVICE];
    let n = firmware::device_ranges(&bi.ram[..bi.num_ram], &kernel_devices, &mut ranges);
    for (o, r) in out.iter_mut().zip(&ranges[..n]) {
        *o = Region {
            start: r.start,
            end: r.end,
        };
    }
    n
}

/// Load the root task and boot the kernel core. Panics (a kernel boot failure) on a
/// malformed image or too little memory.
pub fn boot_core(
    machine: X86Machine,
    bi: &BootInfo,
    tsc_mhz: u64,
    rsdp: Option<&[u8; firmware::RSDP_BYTES]>,
) -> Kernel<X86Machine> {
    let reserved_end = loader::reserved_end(bi);
    let mut frames = FrameAlloc::new(reserved_end);
    let used_start = frames.next_free();
    let img = match loader::load_image(bi, &mut frames) {
        Ok(img) => img,
        Err(e) => panic!("cannot load the initial task: {}", e),
    };
    let used_end = frames.next_free();

    // SAFETY: boot is single-threaded and runs this once; nothing else uses IMAGE.
    let image = unsafe { &mut *IMAGE.get() };
    for (d, f) in image.iter_mut().zip(img.frames) {
        *d = ImageFrame {
            vaddr: f.vaddr,
            paddr: f.paddr,
            rights: f.rights,
        };
    }
    let mut free = [Region::default(); MAX_FREE];
    let nfree = free_ram(bi, reserved_end, used_start, used_end, &mut free);
    let mut device = [Region::default(); MAX_DEVICE];
    let ndev = device_regions(bi, &mut device);
    let device = &device[..ndev];
    let total: u64 = free[..nfree].iter().map(|r| r.end - r.start).sum();
    kprintln!(
        "loader: initial task entry {:#x}, {} image pages at {:#x}, IPC buffer {:#x}, boot info {:#x}",
        img.entry,
        img.frames.len(),
        used_start,
        img.ipc_buffer,
        img.bootinfo
    );
    let device_bytes: u64 = device.iter().map(|r| r.end - r.start).sum();
    kprintln!(
        "x86_64 kernel: {} free RAM regions ({} KiB) and {} device regions ({:#x} bytes) go to the kernel core",
        nfree,
        total >> 10,
        device.len(),
        device_bytes
    );
    for r in device {
        kprintln!("x86_64 kernel: device region {:#x}..{:#x}", r.start, r.end);
    }
    let mut extra = [0u8; extra_bootinfo::MAX_BYTES];
    let extra_len = extra_bootinfo::build(rsdp, &bi.raw_mmap, u32::try_from(tsc_mhz).unwrap_or(u32::MAX), &mut extra);
    let params = BootParams {
        arch: Arch::X86_64,
        ram: &free[..nfree],
        device,
        image: &image[..img.frames.len()],
        entry: img.entry,
        ipc_buffer_vaddr: img.ipc_buffer,
        bootinfo_vaddr: img.bootinfo,
        extra_bootinfo: &extra[..extra_len],
        timer_irq: Some(0),
        config: kernel_config(),
    };
    let k = match boot(machine, &params) {
        Ok(k) => k,
        Err(e) => panic!("kernel core boot failed: {:?}", e),
    };
    k
}

/// The kernel's configuration record (`sel4_abi::config`, see `docs/config.md`): seL4's
/// defaults unless an image tool set another configuration in the image (the Microkit SDK's
/// kernels carry Microkit's). In `.data`, so that it has file bytes to patch.
#[no_mangle]
#[used]
#[link_section = ".data.kernel_config"]
pub static KERNEL_CONFIG: [u64; RECORD_WORDS] = KernelConfig::SEL4_DEFAULT.to_words();

/// The configuration this image was given (printed at boot).
fn kernel_config() -> KernelConfig {
    // SAFETY: KERNEL_CONFIG is a valid, aligned static; the volatile read stops the compiler
    // from folding in the initialiser an image tool may have overwritten in the file.
    let w = unsafe { core::ptr::read_volatile(&raw const KERNEL_CONFIG) };
    let c = KernelConfig::from_words(&w);
    kprintln!(
        "kernel: config: CONFIG_NUM_DOMAINS={} CONFIG_KERNEL_MCS={} CONFIG_DEBUG_BUILD={} CONFIG_PRINTING={} CONFIG_MAX_NUM_NODES={} CONFIG_IOMMU={}",
        c.num_domains,
        c.kernel_mcs as u8,
        c.debug_build as u8,
        c.printing as u8,
        c.max_num_nodes,
        c.iommu as u8
    );
    if c.max_num_nodes != 1 && !cfg!(feature = "smp") {
        panic!(
            "CONFIG_MAX_NUM_NODES={} needs the multicore kernel (built with the smp feature); this one is uniprocessor",
            c.max_num_nodes
        );
    }
    c
}
