//! The extra boot info an x86 root task gets after its boot info page, chunk for chunk as
//! seL4 builds it on pc99: the ACPI RSDP (when the firmware has one), the multiboot memory
//! map, the TSC frequency. Each chunk is a header {u64 id, u64 length including the header}
//! and its body, packed with no padding between chunks.
//!
//! seL4's other x86 chunks are absent here for the reason they are absent from seL4 booted
//! the same way: VBE information (id 1) comes only when the multiboot 1 loader set a video
//! mode, which it does only when the kernel's header asks for one (ours does not, like seL4's
//! default `KernelMultibootGFXModeNone`); the framebuffer (id 4) comes only from a multiboot 2
//! loader, and this kernel boots by multiboot 1.

use crate::firmware::RSDP_BYTES;
use crate::multiboot::RawMemoryMap;
use sel4_abi::bootinfo::{extra_id, x86_mmap, EXTRA_HEADER_BYTES};

/// Bytes of the RSDP chunk.
const RSDP_CHUNK_BYTES: usize = EXTRA_HEADER_BYTES + RSDP_BYTES;
/// Bytes of the TSC frequency chunk (its body is a u32).
const TSC_CHUNK_BYTES: usize = EXTRA_HEADER_BYTES + 4;

/// The most bytes [`build`] writes.
pub const MAX_BYTES: usize = RSDP_CHUNK_BYTES + x86_mmap::CHUNK_BYTES + TSC_CHUNK_BYTES;

/// Write the extra boot info into `out` and return its length (seL4's `extraLen`).
pub fn build(
    rsdp: Option<&[u8; RSDP_BYTES]>,
    mmap: &RawMemoryMap,
    tsc_mhz: u32,
    out: &mut [u8; MAX_BYTES],
) -> usize {
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        out[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    let header = |id: u64, len: usize| {
        let mut h = [0u8; EXTRA_HEADER_BYTES];
        h[..8].copy_from_slice(&id.to_le_bytes());
        h[8..].copy_from_slice(&(len as u64).to_le_bytes());
        h
    };
    if let Some(r) = rsdp {
        put(&header(extra_id::X86_ACPI_RSDP, RSDP_CHUNK_BYTES));
        put(r);
    }
    // The memory map chunk has its full size whatever the loader gave; the entries it did
    // not give stay zero.
    let len = mmap.len.min(x86_mmap::ENTRIES_BYTES);
    put(&header(extra_id::X86_MBMMAP, x86_mmap::CHUNK_BYTES));
    put(&(len as u32).to_le_bytes());
    put(&mmap.bytes[..len]);
    put(&[0u8; x86_mmap::ENTRIES_BYTES][len..]);
    put(&header(extra_id::X86_TSC_FREQ, TSC_CHUNK_BYTES));
    put(&tsc_mhz.to_le_bytes());
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }

    /// A memory map of `n` entries as a loader writes it: size 20, then base, length, type.
    fn raw_map(n: usize) -> RawMemoryMap {
        let mut m = RawMemoryMap::default();
        for i in 0..n {
            let e = &mut m.bytes[24 * i..24 * i + 24];
            e[..4].copy_from_slice(&20u32.to_le_bytes());
            e[4..12].copy_from_slice(&(0x10_0000 * i as u64).to_le_bytes());
            e[12..20].copy_from_slice(&0x8_0000u64.to_le_bytes());
            e[20..].copy_from_slice(&(1 + (i as u32 & 1)).to_le_bytes());
        }
        m.len = 24 * n;
        m
    }

    /// The chunks in order: (offset, id, length).
    fn chunks(b: &[u8]) -> [(usize, u64, u64); 3] {
        let mut out = [(0, 0, 0); 3];
        let mut at = 0;
        for c in out.iter_mut() {
            *c = (at, word(b, at), word(b, at + 8));
            at += c.2 as usize;
        }
        assert_eq!(at, b.len(), "the chunks fill extraLen exactly");
        out
    }

    #[test]
    fn rsdp_then_memory_map_then_tsc_packed() {
        let mut rsdp = [0u8; RSDP_BYTES];
        rsdp[..8].copy_from_slice(b"RSD PTR ");
        let map = raw_map(3);
        let mut out = [0xaau8; MAX_BYTES];
        let n = build(Some(&rsdp), &map, 2100, &mut out);
        // 52 + 1220 + 20, as seL4's extra_bi_size for a root task with an RSDP.
        assert_eq!(n, 1292);
        assert_eq!(n, MAX_BYTES);
        let b = &out[..n];
        assert_eq!(
            chunks(b),
            [(0, 3, 52), (52, 2, 1220), (1272, 5, 20)],
            "RSDP, memory map, TSC frequency, each right after the previous one"
        );
        assert_eq!(&b[16..52], &rsdp[..]);
        assert_eq!(u32::from_le_bytes(b[68..72].try_into().unwrap()), 72);
        assert_eq!(&b[72..72 + 72], &map.bytes[..72], "entries copied verbatim");
        assert!(b[72 + 72..1272].iter().all(|&x| x == 0), "unused entries zero");
        assert_eq!(u32::from_le_bytes(b[1288..1292].try_into().unwrap()), 2100);
    }

    #[test]
    fn without_rsdp_the_map_comes_first() {
        let mut out = [0u8; MAX_BYTES];
        let n = build(None, &raw_map(50), 3000, &mut out);
        assert_eq!(n, 1240);
        let b = &out[..n];
        let mut at = 0;
        for (id, len) in [(2u64, 1220u64), (5, 20)] {
            assert_eq!((word(b, at), word(b, at + 8)), (id, len));
            at += len as usize;
        }
        assert_eq!(u32::from_le_bytes(b[16..20].try_into().unwrap()), 1200);
        assert_eq!(&b[20..1220], &raw_map(50).bytes[..]);
    }

    #[test]
    fn no_memory_map_still_gives_the_empty_chunk() {
        let mut out = [0xffu8; MAX_BYTES];
        let n = build(None, &RawMemoryMap::default(), 1, &mut out);
        assert_eq!(n, 1240);
        assert_eq!((word(&out, 0), word(&out, 8)), (2, 1220));
        assert!(out[16..1220].iter().all(|&x| x == 0), "mmap_length 0, no entries");
    }
}
