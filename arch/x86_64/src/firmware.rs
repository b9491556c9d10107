//! What a PC's firmware leaves for the kernel to pass on, as seL4 passes it on x86: the ACPI
//! root pointer (RSDP, copied into the extra boot info) and the physical address ranges that
//! are neither RAM nor used by the kernel (handed to the root task as device untypeds).
//!
//! Pure functions over a physical-memory reader, unit-tested on the host.

use crate::multiboot::Range;

/// Signature at the start of the ACPI RSDP.
pub const RSDP_SIGNATURE: [u8; 8] = *b"RSD PTR ";
/// Bytes of the RSDP as seL4 copies it into the extra boot info (`acpi_rsdp_t`: the ACPI
/// 2.0 layout, whatever the revision).
pub const RSDP_BYTES: usize = 36;
/// Bytes covered by the ACPI 1.0 checksum (signature .. RSDT address).
const RSDP_V1_BYTES: usize = 20;
/// The BIOS read-only area the ACPI specification says to search for the RSDP, on 16-byte
/// boundaries.
pub const BIOS_ROM_AREA: Range = Range {
    start: 0xe_0000,
    end: 0x10_0000,
};
/// Where the BIOS data area keeps the real-mode segment of the extended BIOS data area,
/// whose first KiB is the other place the RSDP may be.
const EBDA_SEGMENT_POINTER: u64 = 0x40e;
/// Physical memory below this is the BIOS's (as for seL4, RAM there is not RAM untyped).
pub const LOW_MEMORY_END: u64 = 0x10_0000;
/// seL4's `PADDR_USER_DEVICE_TOP` on x86_64: device untypeds end here.
pub const USER_DEVICE_TOP: u64 = 1 << 47;

fn sums_to_zero(b: &[u8]) -> bool {
    b.iter().fold(0u8, |s, x| s.wrapping_add(*x)) == 0
}

/// The RSDP at `paddr`, if one with a valid checksum is there (the extended checksum too
/// for revision 2 and later).
fn rsdp_at(read: &dyn Fn(u64, &mut [u8]) -> bool, paddr: u64) -> Option<[u8; RSDP_BYTES]> {
    let mut b = [0u8; RSDP_BYTES];
    if !read(paddr, &mut b[..RSDP_V1_BYTES]) || b[..8] != RSDP_SIGNATURE {
        return None;
    }
    if !sums_to_zero(&b[..RSDP_V1_BYTES]) {
        return None;
    }
    // The rest of seL4's 36-byte copy (meaningful from revision 2 on).
    if !read(paddr + RSDP_V1_BYTES as u64, &mut b[RSDP_V1_BYTES..]) {
        return None;
    }
    if b[15] >= 2 && !sums_to_zero(&b) {
        return None;
    }
    Some(b)
}

/// Find the ACPI RSDP where BIOS systems put it: the first KiB of the extended BIOS data
/// area, then the BIOS ROM area, on 16-byte boundaries. Returns its address and its first
/// [`RSDP_BYTES`] bytes.
pub fn find_rsdp(read: &dyn Fn(u64, &mut [u8]) -> bool) -> Option<(u64, [u8; RSDP_BYTES])> {
    let mut seg = [0u8; 2];
    let ebda = if read(EBDA_SEGMENT_POINTER, &mut seg) {
        (u16::from_le_bytes(seg) as u64) << 4
    } else {
        0
    };
    let ebda_area = (ebda != 0).then_some(Range {
        start: ebda,
        end: ebda + 1024,
    });
    for area in ebda_area.into_iter().chain([BIOS_ROM_AREA]) {
        let mut a = (area.start + 15) & !15;
        while a + RSDP_V1_BYTES as u64 <= area.end {
            if let Some(b) = rsdp_at(read, a) {
                return Some((a, b));
            }
            a += 16;
        }
    }
    None
}

/// The device ranges of a PC, as seL4 gives them: every physical address below
/// [`USER_DEVICE_TOP`] that is not RAM above [`LOW_MEMORY_END`] (RAM below it is the BIOS's)
/// and not one of `kernel_devices` (pages the kernel keeps: local APIC, I/O APIC). `ram` and
/// `kernel_devices` may be in any order and overlap. Page-aligned ranges in address order go
/// to `out`; returns how many (the rest is dropped if `out` is full).
pub fn device_ranges(ram: &[Range], kernel_devices: &[Range], out: &mut [Range]) -> usize {
    let mut n = 0;
    let mut a = 0u64;
    while a < USER_DEVICE_TOP && n < out.len() {
        // The first used byte at or above `a`, and where that use ends.
        let used = ram
            .iter()
            .map(|r| Range {
                start: r.start.max(LOW_MEMORY_END) & !0xfff,
                end: (r.end + 0xfff) & !0xfff,
            })
            .chain(kernel_devices.iter().map(|r| Range {
                start: r.start & !0xfff,
                end: (r.end + 0xfff) & !0xfff,
            }))
            .filter(|r| r.end > a && r.start < r.end)
            .min_by_key(|r| r.start.max(a));
        let (free_end, next) = match used {
            Some(u) if u.start <= a => {
                a = u.end;
                continue;
            }
            Some(u) => (u.start.min(USER_DEVICE_TOP), u.end),
            None => (USER_DEVICE_TOP, USER_DEVICE_TOP),
        };
        out[n] = Range {
            start: a,
            end: free_end,
        };
        n += 1;
        a = next;
    }
    n
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn rsdp(revision: u8) -> [u8; RSDP_BYTES] {
        let mut b = [0u8; RSDP_BYTES];
        b[..8].copy_from_slice(&RSDP_SIGNATURE);
        b[9..15].copy_from_slice(b"BOCHS ");
        b[15] = revision;
        b[16..20].copy_from_slice(&0xbffe_2335u32.to_le_bytes());
        b[20..24].copy_from_slice(&36u32.to_le_bytes());
        let s = b[..20].iter().fold(0u8, |s, x| s.wrapping_add(*x));
        b[8] = 0u8.wrapping_sub(s);
        let s = b.iter().fold(0u8, |s, x| s.wrapping_add(*x));
        b[32] = 0u8.wrapping_sub(s);
        b
    }

    fn low_memory_with(at: usize, bytes: &[u8]) -> impl Fn(u64, &mut [u8]) -> bool {
        let mut m = vec![0u8; 0x10_0000];
        m[at..at + bytes.len()].copy_from_slice(bytes);
        move |a: u64, buf: &mut [u8]| {
            let a = a as usize;
            if a + buf.len() > m.len() {
                return false;
            }
            buf.copy_from_slice(&m[a..a + buf.len()]);
            true
        }
    }

    #[test]
    fn finds_the_rsdp_in_the_bios_area() {
        for rev in [0, 2] {
            let read = low_memory_with(0xf_5250, &rsdp(rev));
            assert_eq!(
                find_rsdp(&read),
                Some((0xf_5250, rsdp(rev))),
                "revision {rev}"
            );
        }
        // Not on a 16-byte boundary, or a bad checksum: not an RSDP.
        assert_eq!(find_rsdp(&low_memory_with(0xf_5258, &rsdp(0))), None);
        let mut bad = rsdp(0);
        bad[8] ^= 1;
        assert_eq!(find_rsdp(&low_memory_with(0xf_5250, &bad)), None);
        let mut bad_ext = rsdp(2);
        bad_ext[32] ^= 1;
        assert_eq!(find_rsdp(&low_memory_with(0xf_5250, &bad_ext)), None);
        // Outside both areas.
        assert_eq!(find_rsdp(&low_memory_with(0x8_0000, &rsdp(0))), None);
    }

    #[test]
    fn finds_the_rsdp_in_the_ebda() {
        let mut m = [0u8; 0x9_fc40];
        m[0x9_fc10..0x9_fc10 + RSDP_BYTES].copy_from_slice(&rsdp(2));
        let read_mem = low_memory_with(0, &m);
        let with_pointer = |a: u64, buf: &mut [u8]| {
            if a == EBDA_SEGMENT_POINTER && buf.len() == 2 {
                buf.copy_from_slice(&0x9fc0u16.to_le_bytes());
                return true;
            }
            read_mem(a, buf)
        };
        assert_eq!(find_rsdp(&with_pointer), Some((0x9_fc10, rsdp(2))));
    }

    #[test]
    fn devices_are_everything_but_ram_and_the_kernels_pages() {
        // QEMU with 3 GiB: RAM below 640 KiB and from 1 MiB to just under 3 GiB.
        let ram = [
            Range {
                start: 0,
                end: 0x9_fc00,
            },
            Range {
                start: 0x10_0000,
                end: 0xbffe_0000,
            },
        ];
        let kernel = [
            Range {
                start: 0xfec0_0000,
                end: 0xfec0_1000,
            },
            Range {
                start: 0xfee0_0000,
                end: 0xfee0_1000,
            },
        ];
        let mut out = [Range { start: 0, end: 0 }; 8];
        let n = device_ranges(&ram, &kernel, &mut out);
        let got: Vec<(u64, u64)> = out[..n].iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(
            got,
            vec![
                (0, 0x10_0000),
                (0xbffe_0000, 0xfec0_0000),
                (0xfec0_1000, 0xfee0_0000),
                (0xfee0_1000, USER_DEVICE_TOP),
            ]
        );
        // RAM above 4 GiB is not a device either; a full `out` stops early.
        let ram4 = [
            ram[1],
            Range {
                start: 0x1_0000_0000,
                end: 0x1_4000_0000,
            },
        ];
        let n = device_ranges(&ram4, &kernel, &mut out);
        assert_eq!(
            (out[n - 2].start, out[n - 2].end, out[n - 1].start),
            (0xfee0_1000, 0x1_0000_0000, 0x1_4000_0000)
        );
        let mut two = [Range { start: 0, end: 0 }; 2];
        assert_eq!(device_ranges(&ram, &kernel, &mut two), 2);
    }
}
