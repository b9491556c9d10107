//! DMA: proves that `setvar region_paddr` gives the real physical address of memory regions
//! the initialiser allocates at boot (no `phys_addr` in the SDF).
//!
//! For each region it asks QEMU's fw_cfg device to DMA the 4-byte fw_cfg signature ("QEMU",
//! key 0) to `paddr + offset` (the descriptor itself also at a physical address in the region),
//! then reads the bytes back through its own virtual mapping of the region. Only if the
//! variable holds the region's physical base, and the region is contiguous up to the target
//! offset, does the device's write show up where the PD looks (used by `tests/microkit/
//! region-paddr`).
//!
//! fw_cfg DMA interface facts (QEMU's docs/specs/fw_cfg.rst): MMIO on the `virt` machines,
//! DMA address register at +0x10 (big-endian; writing the low 32 bits at +0x14 starts the
//! transfer); descriptor `{ be32 control, be32 length, be64 address }`; control bits
//! error 0x1, read 0x2, select 0x8, selector in the upper 16 bits; 0 when done without error.
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, protection_domain, setvar, Channel, Handler};

struct Dma;

impl Handler for Dma {
    fn notified(&mut self, channel: Channel) {
        debug_println!("dma: unexpected notification on channel {}", channel.index());
    }
}

/// Has fw_cfg DMA the signature to physical `paddr + target` of a region mapped at `vaddr`,
/// with the descriptor at `paddr + desc`; returns the bytes read back through `vaddr`.
fn dma_signature(fw_cfg: *mut u32, vaddr: *mut u8, paddr: u64, desc: usize, target: usize) -> ([u8; 4], u32) {
    // SAFETY: `vaddr` maps the whole region read-write (SDF `map`); `desc` and `target` are
    // offsets inside it chosen by the caller, 16 and 4 bytes long. `fw_cfg` maps the device
    // page (uncached); +0x10/+0x14 are its DMA address registers.
    unsafe {
        let d = vaddr.add(desc) as *mut u32;
        let t = vaddr.add(target);
        t.cast::<u32>().write_volatile(0);
        d.write_volatile(u32::to_be(0x8 | 0x2)); // select key 0 (signature), read
        d.add(1).write_volatile(u32::to_be(4));
        let to = paddr + target as u64;
        d.add(2).write_volatile(u32::to_be((to >> 32) as u32));
        d.add(3).write_volatile(u32::to_be(to as u32));
        let at = paddr + desc as u64;
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        fw_cfg.add(4).write_volatile(u32::to_be((at >> 32) as u32));
        fw_cfg.add(5).write_volatile(u32::to_be(at as u32));
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        let control = u32::from_be(d.read_volatile());
        let mut got = [0u8; 4];
        for (i, b) in got.iter_mut().enumerate() {
            *b = t.add(i).read_volatile();
        }
        (got, control)
    }
}

fn check(fw_cfg: *mut u32, name: &str, vaddr: *mut u8, paddr: u64, desc: usize, target: usize) {
    debug_println!("dma: region '{}' has paddr {:#x}", name, paddr);
    let (got, control) = dma_signature(fw_cfg, vaddr, paddr, desc, target);
    if &got == b"QEMU" && control == 0 {
        debug_println!("dma: fw_cfg DMA to {:#x} (+{:#x}) arrived in '{}': QEMU", paddr + target as u64, target, name);
    } else {
        debug_println!("dma: FAILED: '{}' +{:#x} holds {:02x?} after DMA to {:#x} (control {:#x})", name, target, got, paddr + target as u64, control);
    }
}

fn init() -> Dma {
    let fw_cfg = setvar!(fw_cfg_vaddr: *mut u32);
    // Three 4 KiB pages: descriptor in the first, target in the last (contiguity).
    check(fw_cfg, "dma_buf", setvar!(dma_buf_vaddr: *mut u8), setvar!(dma_buf_paddr), 0x40, 0x2010);
    // One 2 MiB page.
    check(fw_cfg, "big_buf", setvar!(big_buf_vaddr: *mut u8), setvar!(big_buf_paddr), 0x1000, 0x1f_0008);
    Dma
}

protection_domain!(init);
