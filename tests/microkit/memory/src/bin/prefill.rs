//! Prefill test PD: checksums the region prefilled from a file (its length from
//! `setvar_prefill_size`), checks the rest of the region is zero, and reads the boot-info
//! chunk its other region was filled with.
#![no_std]
#![no_main]

use sel4_microkit::regions::{bootinfo_header, Region};
use sel4_microkit::sel4_sys::abi::ARCH;
use sel4_microkit::sel4_sys::Arch;
use sel4_microkit::{debug_println, protection_domain, setvar, Channel, Handler};

struct Idle;

impl Handler for Idle {
    fn notified(&mut self, channel: Channel) {
        debug_println!("prefill: unexpected notification on channel {}", channel.index());
    }
}

/// 64-bit FNV-1a.
fn fnv1a(r: &Region, len: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for i in 0..len {
        h ^= r.byte(i).unwrap_or(0) as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn init() -> Idle {
    let size = setvar!(prefill_size) as usize;
    let region_size = setvar!(prefill_region_size) as usize;
    // SAFETY: the SDF maps the prefilled region (`prefill_region_size` bytes) read-only at
    // `prefill_vaddr` for the PD's lifetime.
    let data = unsafe { Region::new(setvar!(prefill_vaddr), region_size) };
    if size == 0 || size > region_size {
        debug_println!("prefill: bad prefill size {size} for a {region_size:#x}-byte region");
        return Idle;
    }
    debug_println!("prefill: {size} bytes in a {region_size:#x}-byte region, fnv1a64 {:#018x}", fnv1a(&data, size));
    let nonzero = (size..region_size).filter(|i| data.byte(*i) != Some(0)).count();
    debug_println!("prefill: {nonzero} non-zero bytes after the data");

    // SAFETY: the SDF maps the boot-info region (one page) read-only at `bootinfo_vaddr`.
    let bi = unsafe { Region::new(setvar!(bootinfo_vaddr), 4096) };
    let (id, len) = bootinfo_header(&bi);
    match ARCH {
        Arch::X86_64 => {
            debug_println!("bootinfo: chunk id {id}, {len} bytes, tsc {} MHz", bi.u32(16).unwrap_or(0));
        }
        _ => {
            let magic = bi.u32(16).unwrap_or(0).swap_bytes();
            let total = bi.u32(20).unwrap_or(0).swap_bytes();
            debug_println!("bootinfo: fdt magic {magic:#010x} in chunk id {id} ({len} bytes, totalsize {total})");
        }
    }
    Idle
}

protection_domain!(init);
