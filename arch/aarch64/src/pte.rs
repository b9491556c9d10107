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

/// Stage-2 descriptor fields (the user address spaces of the hypervisor build, `docs/hyp.md`):
/// S2AP (bits 7:6) grants EL1/EL0 read (bit 6) and write (bit 7); MemAttr (bits 5:2) gives the
/// memory type directly instead of an index into MAIR; XN is bit 54; there is no nG (stage-2
/// TLB entries are tagged with the VMID) and no PXN.
pub mod s2 {
    /// S2AP read.
    pub const S2AP_R: u64 = 1 << 6;
    /// S2AP write.
    pub const S2AP_W: u64 = 1 << 7;
    /// MemAttr shift (bits 5:2).
    pub const MEMATTR_SHIFT: u64 = 2;
    /// MemAttr of Device-nGnRnE memory.
    pub const MEMATTR_DEVICE: u64 = 0b0000;
    /// MemAttr of Normal, outer and inner write-back memory.
    pub const MEMATTR_NORMAL_WB: u64 = 0b1111;
    /// Execute-never (stage 2, any EL).
    pub const XN: u64 = 1 << 54;
    /// The user top of a stage-2 VSpace: the 40-bit IPA (`seL4_UserTop` + 1).
    pub const IPA_TOP: u64 = 1 << 40;
}

/// The stage-2 page-table format of the hypervisor build (`hyp` feature): 4 KiB granule,
/// 40-bit IPA starting at level 1 with a root of 1024 entries (two concatenated tables, the
/// 8 KiB `seL4_VSpaceBits` 13 object), so three levels: root (1 GiB per entry), 2 MiB, 4 KiB.
/// Native threads run with stage 1 off (HCR_EL2.TGE), so their virtual addresses are IPAs
/// and these tables are their only translation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Aarch64Stage2PageTable;

impl PageTableFormat for Aarch64Stage2PageTable {
    const LEVELS: usize = 3;
    const USER_TOP: VAddr = s2::IPA_TOP;

    fn index(vaddr: VAddr, level: usize) -> usize {
        debug_assert!(level < 3);
        match level {
            0 => ((vaddr >> 30) & 0x3FF) as usize,
            _ => ((vaddr >> (39 - 9 * (level as u64 + 1))) & 0x1FF) as usize,
        }
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
        pte & VALID != 0
    }

    fn is_table(pte: u64, level: usize) -> bool {
        level < 2 && pte & (VALID | TABLE_OR_PAGE) == VALID | TABLE_OR_PAGE
    }

    fn entry_paddr(pte: u64) -> PAddr {
        pte & ADDR_MASK
    }

    fn table_entry(table: PAddr, _level: usize) -> u64 {
        (table & ADDR_MASK) | VALID | TABLE_OR_PAGE
    }

    fn leaf_entry(frame: PAddr, level: usize, rights: MapRights, attrs: MapAttrs) -> u64 {
        let kind = if level == 2 {
            VALID | TABLE_OR_PAGE
        } else {
            VALID
        };
        let mem = if attrs.cacheable {
            (s2::MEMATTR_NORMAL_WB << s2::MEMATTR_SHIFT) | SH_INNER
        } else {
            s2::MEMATTR_DEVICE << s2::MEMATTR_SHIFT
        };
        // As at stage 1, write implies read; no rights at all: no access.
        let ap = match (rights.read || rights.write, rights.write) {
            (false, _) => 0,
            (true, false) => s2::S2AP_R,
            (true, true) => s2::S2AP_R | s2::S2AP_W,
        };
        let xn = if rights.execute && (rights.read || rights.write) {
            0
        } else {
            s2::XN
        };
        (frame & ADDR_MASK) | kind | mem | ap | AF | xn
    }
}

/// A level-1 block descriptor for the EL2 kernel window (hypervisor build, TTBR0_EL2):
/// AP[1] is RES1 in the single-privilege EL2 regime, AP[2] = 0 (read/write), bit 54 is XN
/// (devices are never executable; RAM is, since the kernel runs from it). No nG (EL2 has no
/// ASIDs without VHE) and no PXN.
pub const fn el2_kernel_block_1g(paddr: u64, device: bool) -> u64 {
    const AP1_RES1: u64 = 1 << 6;
    if device {
        (paddr & ADDR_MASK) | VALID | (MAIR_DEVICE << ATTR_SHIFT) | AF | AP1_RES1 | UXN
    } else {
        (paddr & ADDR_MASK) | VALID | (MAIR_NORMAL << ATTR_SHIFT) | SH_INNER | AF | AP1_RES1
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
    fn stage2_format() {
        type S = Aarch64Stage2PageTable;
        let va = 0x00AB_CDE1_2345u64;
        assert_eq!(S::index(va, 0), (va >> 30) as usize, "10-bit root index");
        assert_eq!(S::index(0xFF_C000_0000, 0), 1023);
        assert_eq!(S::index(va, 1), ((va >> 21) & 511) as usize);
        assert_eq!(S::index(va, 2), ((va >> 12) & 511) as usize);
        assert_eq!(S::leaf_size_bits(0), Some(30));
        assert_eq!(S::leaf_size_bits(2), Some(12));
        let e = S::leaf_entry(0x4123_4000, 2, RW, WB);
        assert_eq!(e & 3, 3, "level-3 page descriptor");
        assert_eq!((e >> 2) & 0xF, 0b1111, "MemAttr normal write-back");
        assert_eq!((e >> 6) & 3, 0b11, "S2AP read/write");
        assert!(e & s2::XN != 0 && e & AF != 0 && e & NG == 0);
        let x = S::leaf_entry(0x4123_4000, 2, RX, WB);
        assert_eq!((x >> 6) & 3, 0b01, "S2AP read-only");
        assert_eq!(x & s2::XN, 0, "executable");
        let d = S::leaf_entry(0x0900_0000, 1, RW, MapAttrs { cacheable: false });
        assert_eq!(d & 3, 1, "2 MiB block");
        assert_eq!((d >> 2) & 0xF, 0, "MemAttr device");
        let t = S::table_entry(0x4000_5000, 1);
        assert!(S::is_table(t, 0) && S::is_table(t, 1) && !S::is_table(t, 2));
        assert_eq!(S::USER_TOP, 1 << 40);
    }

    #[test]
    fn el2_kernel_blocks() {
        let ram = el2_kernel_block_1g(0x4000_0000, false);
        assert_eq!(ram & UXN, 0, "the EL2 kernel executes from RAM");
        assert!(ram & AP_USER != 0, "AP[1] RES1");
        assert!(el2_kernel_block_1g(0, true) & UXN != 0, "devices never executable");
    }

    #[test]
    fn kernel_blocks() {
        assert_eq!(kernel_block_1g(0x4000_0000, false), 0x0040_0000_4000_0705);
        assert_eq!(kernel_block_1g(0, true), 0x0060_0000_0000_0401);
        assert_eq!(MAIR_VALUE, 0x44FF00);
    }
}
