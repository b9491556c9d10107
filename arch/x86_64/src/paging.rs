//! x86_64 4-level page-table entry encoding (PML4, PDPT, PD, PT).

use kernel_hal::{MapAttrs, MapRights, PAddr, PageTableFormat, VAddr};

/// Present.
pub const PTE_P: u64 = 1 << 0;
/// Writable.
pub const PTE_RW: u64 = 1 << 1;
/// User accessible.
pub const PTE_US: u64 = 1 << 2;
/// Page-level write-through.
pub const PTE_PWT: u64 = 1 << 3;
/// Page-level cache disable.
pub const PTE_PCD: u64 = 1 << 4;
/// Accessed.
pub const PTE_A: u64 = 1 << 5;
/// Dirty.
pub const PTE_D: u64 = 1 << 6;
/// Page size (leaf at PDPT or PD level).
pub const PTE_PS: u64 = 1 << 7;
/// Global (not flushed on CR3 reload).
pub const PTE_G: u64 = 1 << 8;
/// Execute disable (needs EFER.NXE).
pub const PTE_NX: u64 = 1 << 63;
/// Physical address bits of an entry (bits 51..12).
pub const PTE_ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// The x86_64 page-table format (levels: 0 PML4, 1 PDPT, 2 PD, 3 PT).
#[derive(Clone, Copy, Debug, Default)]
pub struct X86PageTable;

impl PageTableFormat for X86PageTable {
    const LEVELS: usize = 4;
    const USER_TOP: VAddr = 0x0000_7fff_ffff_f000;

    fn index(vaddr: VAddr, level: usize) -> usize {
        ((vaddr >> (39 - 9 * level as u32)) & 0x1ff) as usize
    }

    fn leaf_size_bits(level: usize) -> Option<u32> {
        match level {
            1 => Some(30),
            2 => Some(21),
            3 => Some(12),
            _ => None,
        }
    }

    fn is_valid(pte: u64) -> bool {
        pte & PTE_P != 0
    }

    fn is_table(pte: u64, level: usize) -> bool {
        Self::is_valid(pte)
            && match level {
                0 => true,
                1 | 2 => pte & PTE_PS == 0,
                _ => false,
            }
    }

    /// For 2 MiB/1 GiB leaves bit 12 would be PAT; this kernel never sets PAT, so the
    /// same mask serves every level.
    fn entry_paddr(pte: u64) -> PAddr {
        pte & PTE_ADDR_MASK
    }

    fn table_entry(table: PAddr, _level: usize) -> u64 {
        (table & PTE_ADDR_MASK) | PTE_P | PTE_RW | PTE_US
    }

    fn leaf_entry(frame: PAddr, level: usize, rights: MapRights, attrs: MapAttrs) -> u64 {
        let mut e = (frame & PTE_ADDR_MASK) | PTE_P;
        // No read right means no user access at all (seL4 has no write-only mappings).
        if rights.read {
            e |= PTE_US;
            if rights.write {
                e |= PTE_RW;
            }
        }
        if !rights.execute {
            e |= PTE_NX;
        }
        if !attrs.cacheable {
            e |= PTE_PCD | PTE_PWT;
        }
        if level == 1 || level == 2 {
            e |= PTE_PS;
        }
        e
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
    const WB: MapAttrs = MapAttrs { cacheable: true };

    #[test]
    fn indices() {
        let v = 0x0000_7f12_3456_7000u64;
        assert_eq!(X86PageTable::index(v, 0), ((v >> 39) & 511) as usize);
        assert_eq!(X86PageTable::index(v, 3), ((v >> 12) & 511) as usize);
        assert_eq!(X86PageTable::index(0x4000_0000, 1), 1);
        assert_eq!(X86PageTable::index(0x20_0000, 2), 1);
        assert_eq!(X86PageTable::index(0xffff_ffff_8000_0000, 0), 511);
        assert_eq!(X86PageTable::index(0xffff_ffff_8000_0000, 1), 510);
    }

    #[test]
    fn leaf_sizes() {
        assert_eq!(X86PageTable::leaf_size_bits(0), None);
        assert_eq!(X86PageTable::leaf_size_bits(1), Some(30));
        assert_eq!(X86PageTable::leaf_size_bits(2), Some(21));
        assert_eq!(X86PageTable::leaf_size_bits(3), Some(12));
    }

    #[test]
    fn leaf_encoding() {
        let e = X86PageTable::leaf_entry(0x1234_5000, 3, RW, WB);
        assert_eq!(e, 0x1234_5000 | PTE_P | PTE_US | PTE_RW | PTE_NX);
        let e = X86PageTable::leaf_entry(0x20_0000, 2, RX, WB);
        assert_eq!(e, 0x20_0000 | PTE_P | PTE_US | PTE_PS);
        assert!(!X86PageTable::is_table(e, 2));
        assert!(X86PageTable::is_valid(e));
        assert_eq!(X86PageTable::entry_paddr(e), 0x20_0000);
        let dev = X86PageTable::leaf_entry(0xfee0_0000, 3, RW, MapAttrs { cacheable: false });
        assert_ne!(dev & PTE_PCD, 0);
        let none = MapRights {
            read: false,
            write: true,
            execute: false,
        };
        assert_eq!(
            X86PageTable::leaf_entry(0x1000, 3, none, WB) & (PTE_US | PTE_RW),
            0
        );
        let g = X86PageTable::leaf_entry(0x4000_0000, 1, RW, WB);
        assert_ne!(g & PTE_PS, 0);
    }

    #[test]
    fn table_encoding() {
        let t = X86PageTable::table_entry(0x9000, 1);
        assert!(X86PageTable::is_table(t, 1));
        assert!(X86PageTable::is_table(t, 0));
        assert!(!X86PageTable::is_table(t, 3));
        assert_eq!(X86PageTable::entry_paddr(t), 0x9000);
        assert!(!X86PageTable::is_valid(X86PageTable::invalid_entry()));
        assert_eq!(X86PageTable::USER_TOP, 0x7ffffffff000);
    }
}
