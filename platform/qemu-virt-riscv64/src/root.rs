//! Booting the kernel core: load the root task's ELF into physical frames, describe the free
//! RAM and the `virt` machine's device regions, and let `kernel_core::boot` build the root
//! task as seL4 does (initial caps in seL4's slots, IPC buffer page right after the image,
//! then the bootinfo page and the extra bootinfo holding the DTB; a0 = bootinfo, sp = 0).

use core::ptr::addr_of_mut;

use arch_riscv64::kprintln;
use arch_riscv64::loader::{self, FrameAllocator, LoadedFrame, PAGE};
use arch_riscv64::machine::Riscv64Machine;
use kernel_core::boot::{boot, BootParams, ImageFrame, Region};
use kernel_core::kernel::IrqState;
use kernel_core::Kernel;
use kernel_hal::{Machine, MapRights, PAddr, PhysMem};
use sel4_abi::bootinfo::extra_id;
use sel4_abi::config::{KernelConfig, RECORD_WORDS};
use sel4_abi::Arch;

use crate::board;

/// Most 4 KiB pages a root-task image may have (16 MiB).
const MAX_IMAGE_PAGES: usize = 4096;
/// Top of the physical address space handed out as device untyped (seL4 on RISC-V gives
/// device untypeds for all non-RAM physical memory; Sv39 physical addresses reach 2^38
/// here, the largest untyped the ABI allows on riscv64).
const DEVICE_TOP: PAddr = 1 << 38;

/// Hands out 4 KiB frames upwards (boot only; what it handed out stays reserved and is not
/// given to the core as free RAM).
struct BumpFrames {
    next: PAddr,
    end: PAddr,
}

impl FrameAllocator for BumpFrames {
    fn alloc_frame(&mut self) -> Option<PAddr> {
        (self.next + PAGE <= self.end).then(|| {
            self.next += PAGE;
            self.next - PAGE
        })
    }
}

/// Scratch lists for boot (kept off the kernel stack).
struct Scratch {
    loaded: [LoadedFrame; MAX_IMAGE_PAGES],
    image: [ImageFrame; MAX_IMAGE_PAGES],
}

const NO_RIGHTS: MapRights = MapRights {
    read: false,
    write: false,
    execute: false,
};

static mut SCRATCH: Scratch = Scratch {
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
};

/// The device regions user space may own as device untyped: all physical space outside RAM
/// except the PLIC, the UART the kernel prints through and the sifive_test device the
/// kernel exits QEMU with. Written to `out`; returns the number used.
fn device_regions(ram: (PAddr, PAddr), out: &mut [Region; 8]) -> usize {
    let holes = [
        (board::TEST_DEVICE, board::TEST_DEVICE + 0x1000),
        (board::PLIC, board::PLIC + board::PLIC_SIZE),
        (board::UART0, board::UART0 + 0x1000),
        ram,
    ];
    let mut n = 0;
    let mut at = 0;
    for (lo, hi) in holes {
        if lo > at {
            out[n] = Region { start: at, end: lo };
            n += 1;
        }
        at = at.max(hi);
    }
    if at < DEVICE_TOP {
        out[n] = Region {
            start: at,
            end: DEVICE_TOP,
        };
        n += 1;
    }
    n
}

/// Load `elf` (the root task) into frames from `[free_start, free_end)` and boot the kernel
/// core with the rest of that RAM. `dtb` (the firmware's device tree) is copied into the
/// extra bootinfo. Panics (a kernel boot failure) on a malformed image or too little memory.
pub fn boot_core(
    mut machine: Riscv64Machine,
    elf: &[u8],
    free_start: PAddr,
    free_end: PAddr,
    dtb: Option<&[u8]>,
) -> Kernel<Riscv64Machine> {
    let mut frames = BumpFrames {
        next: free_start.div_ceil(PAGE) * PAGE,
        end: free_end & !(PAGE - 1),
    };
    // SAFETY: boot runs once, on one hart, before any trap can reach the kernel; nothing
    // else refers to SCRATCH.
    let s = unsafe { &mut *addr_of_mut!(SCRATCH) };
    let img = match loader::load_elf_frames(&machine, &mut frames, elf, &mut s.loaded) {
        Ok(i) => i,
        Err(e) => panic!("cannot load the root task: {}", e),
    };
    let n = img.pages;
    for (d, l) in s.image.iter_mut().zip(&s.loaded[..n]) {
        *d = ImageFrame {
            vaddr: l.vaddr,
            paddr: l.paddr,
            rights: l.rights,
        };
    }
    let extra: &[u8] = match dtb {
        Some(d) => stage_extra_bootinfo(&machine, &mut frames, d),
        None => &[],
    };
    let ipc_buffer = img.end;
    let bootinfo = img.end + PAGE;
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
        end: frames.end,
    }];
    let mut dev = [Region::default(); 8];
    let ndev = device_regions(machine.config().ram, &mut dev);
    machine.sync_icache();
    let params = BootParams {
        arch: Arch::Riscv64,
        ram: &ram,
        device: &dev[..ndev],
        image: &s.image[..n],
        entry: img.entry,
        ipc_buffer_vaddr: ipc_buffer,
        bootinfo_vaddr: bootinfo,
        extra_bootinfo: extra,
        // The RISC-V timer is a core-local interrupt, not a PLIC source.
        timer_irq: None,
        config: kernel_config(),
    };
    let mut k = match boot(machine, &params) {
        Ok(k) => k,
        Err(e) => panic!("kernel core boot failed: {:?}", e),
    };
    // The console UART's interrupt belongs to the kernel: IRQControl must not issue it.
    k.irq_state[board::UART0_IRQ as usize] = IrqState::Reserved;
    let dev_bytes: u64 = dev[..ndev].iter().map(|r| r.end - r.start).sum();
    kprintln!(
        "kernel: core booted: {} KiB RAM and {} device regions ({:#x} bytes) handed to the root task as untyped",
        (ram[0].end - ram[0].start) / 1024,
        ndev,
        dev_bytes
    );
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
        "kernel: config: CONFIG_NUM_DOMAINS={} CONFIG_KERNEL_MCS={} CONFIG_DEBUG_BUILD={} CONFIG_PRINTING={} CONFIG_MAX_NUM_NODES={}",
        c.num_domains,
        c.kernel_mcs as u8,
        c.debug_build as u8,
        c.printing as u8,
        c.max_num_nodes
    );
    if c.max_num_nodes != 1 && !cfg!(feature = "smp") {
        panic!(
            "CONFIG_MAX_NUM_NODES={} needs the multicore kernel (built with the smp feature); this one is uniprocessor",
            c.max_num_nodes
        );
    }
    c
}

/// Copy an FDT chunk header {id, len incl. header} and `dtb`, packed to its real size as
/// seL4 hands it over (`boot_image::fdt::PackPlan`; as it came if it cannot be packed), into
/// fresh frames and return them as one slice through the kernel window (empty if memory
/// runs out).
fn stage_extra_bootinfo(m: &Riscv64Machine, frames: &mut BumpFrames, dtb: &[u8]) -> &'static [u8] {
    let plan = boot_image::fdt::PackPlan::new(dtb).ok();
    let len = 16 + plan.map_or(dtb.len(), |p| p.total);
    let pages = (len as u64).div_ceil(PAGE);
    let start = frames.next;
    if start + pages * PAGE > frames.end {
        return &[];
    }
    frames.next += pages * PAGE;
    let mut header = [0u8; 16];
    header[..8].copy_from_slice(&extra_id::FDT.to_le_bytes());
    header[8..].copy_from_slice(&(len as u64).to_le_bytes());
    let body = match plan {
        Some(p) => {
            loader::write_phys(m, start + 16, &p.header).is_ok()
                && p.blocks.iter().all(|&(src, dst, n)| {
                    loader::write_phys(m, start + 16 + dst as u64, &dtb[src..src + n]).is_ok()
                })
        }
        None => loader::write_phys(m, start + 16, dtb).is_ok(),
    };
    if loader::write_phys(m, start, &header).is_err() || !body {
        return &[];
    }
    match m.window(start, len) {
        // SAFETY: the window maps `len` bytes of frames just taken from the boot allocator,
        // which lie below the RAM given to the core and are never handed out again; the
        // slice is only read.
        Some(p) => unsafe { core::slice::from_raw_parts(p as *const u8, len) },
        None => &[],
    }
}
