//! VM attributes passed to `Page_Map` / `PageTable_Map` (`seL4_<ARCH>_VMAttributes`), per arch,
//! as `(C name, value)` pairs, with the default each arch's libsel4 names.

use crate::label::Arch;

/// The attribute names and values of `arch`, and the name of its default.
pub const fn vm_attributes(arch: Arch) -> &'static [(&'static str, u64)] {
    match arch {
        Arch::Aarch64 => &[
            ("seL4_ARM_PageCacheable", 1),
            ("seL4_ARM_ParityEnabled", 2),
            ("seL4_ARM_Default_VMAttributes", 3),
            ("seL4_ARM_ExecuteNever", 4),
        ],
        Arch::Riscv64 => &[
            ("seL4_RISCV_ExecuteNever", 1),
            ("seL4_RISCV_Default_VMAttributes", 0),
        ],
        Arch::X86_64 => &[
            ("seL4_X86_WriteBack", 0),
            ("seL4_X86_WriteThrough", 1),
            ("seL4_X86_CacheDisabled", 2),
            ("seL4_X86_Uncacheable", 3),
            ("seL4_X86_WriteCombining", 4),
            ("seL4_X86_Default_VMAttributes", 0),
        ],
    }
}
