//! AArch64 stage-1 translation-table descriptors (4 KiB granule, 48-bit VA, 4 levels).
//!
//! Level 0 is the root (512 GiB per entry); leaves (block or page descriptors) are allowed at
//! level 1 (1 GiB), level 2 (2 MiB) and level 3 (4 KiB). The MAIR_EL1 indices used here are
//! set up by the boot code: [`MAIR_DEVICE`] (Device-nGnRnE), [`MAIR_NORMAL`] (Normal
//! write-back) and [`MAIR_NORMAL_NC`] (Normal non-cacheable).

use kernel_hal::{MapAttrs, MapRights, PAddr, PageTableFormat, VAddr};

/// Descriptor is valid.
pub const VALID: u64 = 1 << 0;
/// At levels 0..=2: next-level table (else block). At level 3 it must be set for a page.
pub const TABLE_OR_PAGE: u64 = 1 << 1;
/// AttrIndx field shift (bits 4:2).
pub const ATTR_SHIFT: u64 = 2;
/// AP[1]: EL0 may access.
pub const AP_USER: u64 = 1 << 6;
/// AP[2]: read-only (at every EL that has access).
pub const AP_RO: u64 = 1 << 7;
/// Shareability: inner shareable (bits 9:8 = 0b11).
pub const SH_INNER: u64 = 3 << 8;
/// Access flag (no access-flag fault on first use).
pub const AF: u64 = 1 << 10;
/// Not global: the TLB entry is tagged with the ASID.
pub const NG: u64 = 1 << 11;
/// Privileged execute-never.
pub const PXN: u64 = 1 << 53;
/// Unprivileged execute-never.
pub const UXN: u64 = 1 << 54;
/// Output-address bits 47:12.
pub const ADDR_MASK: u64 = 0x0000_FFFF_FFFF_F000;

/// MAIR index of Device-nGnRnE memory.
pub const MAIR_DEVICE: u64 = 0;
/// MAIR index of Normal, inner/outer write-back read/write-allocate memory.
pub const MAIR_NORMAL: u64 = 1;
/// MAIR index of Normal non-cacheable memory.
pub const MAIR_NORMAL_NC: u64 = 2;
/// The MAIR_EL1 value matching the indices above.
pub const MAIR_VALUE: u64 =
    (0x00 << (8 * MAIR_DEVICE)) | (0xFF << (8 * MAIR_NORMAL)) | (0x44 << (8 * MAIR_NORMAL_NC));

/// The AArch64 page-table format (4 KiB granule, 4 levels, 48-bit user VA).
#[derive(Clone, Copy, Debug, Default)]
pub struct Aarch64PageTable;

impl PageTableFormat for Aarch64PageTable {
    const LEVELS: usize = 4;
    /// seL4's AArch64 user top (47-bit user addresses, as without hypervisor support).
    const USER_TOP: VAddr = 0x0000_8000_0000_0000;

    fn index(vaddr: VAddr, level: usize) -> usize {
        debug_assert!(level < 4);
        ((vaddr >> (39 - 9 * level as u64)) & 0x1FF) as usize
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
        pte & VALID != 0
    }

    fn is_table(pte: u64, level: usize) -> bool {
        level < 3 && pte & (VALID | TABLE_OR_PAGE) == VALID | TABLE_OR_PAGE
    }

    fn entry_paddr(pte: u64) -> PAddr {
        pte & ADDR_MASK
    }

    fn table_entry(table: PAddr, _level: usize) -> u64 {
        (table & ADDR_MASK) | VALID | TABLE_OR_PAGE
    }

    fn leaf_entry(frame: PAddr, level: usize, rights: MapRights, attrs: MapAttrs) -> u64 {
        let kind = if level == 3 {
            VALID | TABLE_OR_PAGE
        } else {
            VALID
        };
        let mem = if attrs.cacheable {
            (MAIR_NORMAL << ATTR_SHIFT) | SH_INNER
        } else {
            MAIR_DEVICE << ATTR_SHIFT
        };
        // AArch64 cannot express write-only: write implies read, as in seL4.
        let ap = match (rights.read || rights.write, rights.write) {
            (false, _) => 0, // kernel only (no user access)
            (true, false) => AP_USER | AP_RO,
            (true, true) => AP_USER,
        };
        let xn = if rights.execute && (rights.read || rights.write) {
            PXN
        } else {
            PXN | UXN
        };
        (frame & ADDR_MASK) | kind | mem | ap | AF | NG | xn
    }
}

/// A level-1 block descriptor for the kernel window: kernel-only, global, never executable
/// from EL0. `device` selects Device-nGnRnE (also PXN) instead of Normal write-back.
pub const fn kernel_block_1g(paddr: u64, device: bool) -> u64 {
    if device {
        (paddr & ADDR_MASK) | VALID | (MAIR_DEVICE << ATTR_SHIFT) | AF | PXN | UXN
    } else {
        (paddr & ADDR_MASK) | VALID | (MAIR_NORMAL << ATTR_SHIFT) | SH_INNER | AF | UXN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type F = Aarch64PageTable;

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
        let va = 0x0000_7F12_3456_7000u64;
        assert_eq!(F::index(va, 0), ((va >> 39) & 511) as usize);
        assert_eq!(F::index(va, 3), ((va >> 12) & 511) as usize);
        assert_eq!(F::index(0x40_0000, 2), 2);
        assert_eq!(F::leaf_size_bits(0), None);
        assert_eq!(F::leaf_size_bits(2), Some(21));
    }

    #[test]
    fn user_page_bits() {
        let e = F::leaf_entry(0x4123_4000, 3, RW, WB);
        assert_eq!(e & 3, 3, "level-3 page descriptor");
        assert_eq!(F::entry_paddr(e), 0x4123_4000);
        assert_eq!((e >> 2) & 7, MAIR_NORMAL);
        assert_eq!((e >> 6) & 3, 0b01, "EL0 RW");
        assert!(e & AF != 0 && e & NG != 0 && e & UXN != 0 && e & PXN != 0);
        let x = F::leaf_entry(0x4123_4000, 3, RX, WB);
        assert_eq!((x >> 6) & 3, 0b11, "EL0 RO");
        assert_eq!(x & UXN, 0, "user executable");
        assert!(x & PXN != 0, "never kernel executable");
        let b = F::leaf_entry(0x4000_0000, 1, RW, MapAttrs { cacheable: false });
        assert_eq!(b & 3, 1, "block descriptor");
        assert_eq!((b >> 2) & 7, MAIR_DEVICE);
        let none = F::leaf_entry(
            0x1000,
            3,
            MapRights {
                read: false,
                write: false,
                execute: true,
            },
            WB,
        );
        assert_eq!(none & AP_USER, 0, "no rights: no user access");
        assert!(none & UXN != 0);
    }

    #[test]
    fn tables() {
        let t = F::table_entry(0x4000_5000, 0);
        assert!(F::is_valid(t) && F::is_table(t, 0) && F::is_table(t, 2));
        assert!(!F::is_table(t, 3), "level 3 has no tables");
        assert_eq!(F::entry_paddr(t), 0x4000_5000);
        assert!(!F::is_valid(F::invalid_entry()));
    }

    #[test]
    fn kernel_blocks() {
        assert_eq!(kernel_block_1g(0x4000_0000, false), 0x0040_0000_4000_0705);
        assert_eq!(kernel_block_1g(0, true), 0x0060_0000_0000_0401);
        assert_eq!(MAIR_VALUE, 0x44FF00);
    }
}
