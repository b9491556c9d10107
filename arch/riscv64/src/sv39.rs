//! Sv39 page-table geometry and entry encoding (three levels; leaves at 1 GiB, 2 MiB, 4 KiB).

use kernel_hal::{MapAttrs, MapRights, PAddr, PageTableFormat, VAddr};

/// PTE valid bit.
pub const PTE_V: u64 = 1 << 0;
/// PTE readable.
pub const PTE_R: u64 = 1 << 1;
/// PTE writable.
pub const PTE_W: u64 = 1 << 2;
/// PTE executable.
pub const PTE_X: u64 = 1 << 3;
/// PTE accessible from user mode.
pub const PTE_U: u64 = 1 << 4;
/// PTE global (present in every address space).
pub const PTE_G: u64 = 1 << 5;
/// PTE accessed (set up front, as seL4 does, so no A/D faults are taken).
pub const PTE_A: u64 = 1 << 6;
/// PTE dirty.
pub const PTE_D: u64 = 1 << 7;
/// Mask of the 44-bit physical page number field (bits 53..10).
const PPN_MASK: u64 = (1 << 44) - 1;

/// `satp.MODE` value selecting Sv39.
pub const SATP_MODE_SV39: u64 = 8 << 60;

/// A `satp` value for root table `root` (physical, 4 KiB aligned) and address-space id `asid`.
pub const fn satp(root: PAddr, asid: u16) -> u64 {
    SATP_MODE_SV39 | ((asid as u64) << 44) | ((root >> 12) & PPN_MASK)
}

/// The Sv39 page-table format.
pub struct Sv39;

impl Sv39 {
    /// Physical page number field of an entry for `paddr`.
    const fn ppn_field(paddr: PAddr) -> u64 {
        ((paddr >> 12) & PPN_MASK) << 10
    }
}

impl PageTableFormat for Sv39 {
    const LEVELS: usize = 3;
    const USER_TOP: VAddr = 0x0000_003f_ffff_f000;

    fn index(vaddr: VAddr, level: usize) -> usize {
        let shift = 12 + 9 * (2 - level.min(2));
        ((vaddr >> shift) & 0x1ff) as usize
    }

    fn leaf_size_bits(level: usize) -> Option<u32> {
        match level {
            0 => Some(30),
            1 => Some(21),
            2 => Some(12),
            _ => None,
        }
    }

    fn is_valid(pte: u64) -> bool {
        pte & PTE_V != 0
    }

    fn is_table(pte: u64, level: usize) -> bool {
        level < 2 && pte & PTE_V != 0 && pte & (PTE_R | PTE_W | PTE_X) == 0
    }

    fn entry_paddr(pte: u64) -> PAddr {
        ((pte >> 10) & PPN_MASK) << 12
    }

    fn table_entry(table: PAddr, _level: usize) -> u64 {
        Self::ppn_field(table) | PTE_V
    }

    /// As seL4's `makeUserPTE`: A and D preset, user bit set; no read and no execute gives an
    /// invalid entry; write is granted only together with read (W without R is reserved in
    /// RISC-V). Cacheability is a physical-memory attribute on this platform (no Svpbmt), so
    /// `attrs` does not change the entry.
    fn leaf_entry(frame: PAddr, _level: usize, rights: MapRights, _attrs: MapAttrs) -> u64 {
        let mut perms = 0;
        if rights.read {
            perms |= PTE_R;
            if rights.write {
                perms |= PTE_W;
            }
        }
        if rights.execute {
            perms |= PTE_X;
        }
        if perms == 0 {
            return 0;
        }
        Self::ppn_field(frame) | perms | PTE_V | PTE_U | PTE_A | PTE_D
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RW: MapRights = MapRights {
        read: true,
        write: true,
        execute: false,
    };
    const RX: MapRights = MapRights {
        read: true,
        write: false,
        execute: true,
    };
    const CACHED: MapAttrs = MapAttrs { cacheable: true };

    #[test]
    fn indices() {
        let va = 0x0000_0012_3456_7000u64;
        assert_eq!(Sv39::index(va, 0), ((va >> 30) & 0x1ff) as usize);
        assert_eq!(Sv39::index(va, 1), ((va >> 21) & 0x1ff) as usize);
        assert_eq!(Sv39::index(va, 2), ((va >> 12) & 0x1ff) as usize);
        assert_eq!(Sv39::index(Sv39::USER_TOP - 1, 0), 255);
        assert_eq!(Sv39::index(0xffff_ffc0_0000_0000, 0), 256);
    }

    #[test]
    fn leaf_sizes() {
        assert_eq!(Sv39::leaf_size_bits(0), Some(30));
        assert_eq!(Sv39::leaf_size_bits(1), Some(21));
        assert_eq!(Sv39::leaf_size_bits(2), Some(12));
        assert_eq!(Sv39::leaf_size_bits(3), None);
    }

    #[test]
    fn table_entries() {
        let e = Sv39::table_entry(0x8123_4000, 0);
        assert_eq!(e, (0x81234 << 10) | PTE_V);
        assert!(Sv39::is_valid(e));
        assert!(Sv39::is_table(e, 0) && Sv39::is_table(e, 1));
        assert!(!Sv39::is_table(e, 2), "level 2 entries are always leaves");
        assert_eq!(Sv39::entry_paddr(e), 0x8123_4000);
        assert!(!Sv39::is_valid(Sv39::invalid_entry()));
    }

    #[test]
    fn leaf_entries() {
        let e = Sv39::leaf_entry(0x8765_4000, 2, RW, CACHED);
        assert_eq!(
            e,
            (0x87654 << 10) | PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
        );
        assert!(!Sv39::is_table(e, 1));
        assert_eq!(Sv39::entry_paddr(e), 0x8765_4000);
        let x = Sv39::leaf_entry(0x8000_0000, 0, RX, CACHED);
        assert_eq!(x & (PTE_R | PTE_W | PTE_X), PTE_R | PTE_X);
        // Write without read maps nothing writable; nothing at all gives an invalid entry.
        let w = Sv39::leaf_entry(
            0x1000,
            2,
            MapRights {
                read: false,
                write: true,
                execute: false,
            },
            CACHED,
        );
        assert_eq!(w, 0);
        let xo = Sv39::leaf_entry(
            0x1000,
            2,
            MapRights {
                read: false,
                write: false,
                execute: true,
            },
            CACHED,
        );
        assert_eq!(xo & (PTE_R | PTE_W | PTE_X), PTE_X);
    }

    #[test]
    fn large_physical_addresses_keep_44_bit_ppn() {
        let pa = 0x00ff_ffff_ffff_f000u64;
        assert_eq!(Sv39::entry_paddr(Sv39::leaf_entry(pa, 2, RW, CACHED)), pa);
    }

    #[test]
    fn satp_encoding() {
        assert_eq!(satp(0x8020_0000, 3), (8 << 60) | (3 << 44) | 0x80200);
    }
}
