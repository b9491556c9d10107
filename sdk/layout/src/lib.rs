//! Microkit's PD-visible layout: cap slots, badges and patched symbol names.
//!
//! A dependency-free `no_std` crate so PDs (which have no allocator) can share it with the
//! host-side spec builder and tool.
//!
//! These facts come from Microkit (seL4/microkit): `libmicrokit/include/microkit.h` (slot
//! bases `BASE_OUTPUT_NOTIFICATION_CAP` 10 … `BASE_IOPORT_CAP` 394, `MONITOR_EP` 5,
//! `MICROKIT_PD_NAME_LENGTH` 64), `libmicrokit/src/main.c` (`INPUT_CAP` 1, `REPLY_CAP` 4,
//! badge decoding: bit 63 = PPC, bit 62 = fault from a child, `PD_MASK` 0xff,
//! `CHANNEL_MASK` 0x3f) and `tool/microkit/src/capdl/builder.rs` (fault EP slot 2, VSpace slot
//! 3, CNode of 512 slots, `PPC_BADGE`/`FAULT_BADGE`, notification badge `1 << channel`, SC
//! badge 0x100 + PD index, PD fault badge to the monitor = PD index + 1). Keeping them equal
//! lets a PD linked against libmicrokit find its caps where our initialiser puts them.
#![no_std]

/// The PD's input cap: its endpoint if it has PPC callers or children, else its notification.
pub const INPUT_CAP: u64 = 1;
/// A badged cap to the endpoint receiving this PD's faults (monitor or parent).
pub const FAULT_EP_CAP: u64 = 2;
/// The PD's own VSpace.
pub const VSPACE_CAP: u64 = 3;
/// The PD's reply object.
pub const REPLY_CAP: u64 = 4;
/// Passive PDs: endpoint to the monitor (signalled once `init` is done).
pub const MONITOR_EP_CAP: u64 = 5;
/// Benchmark configuration only: the PD's own TCB.
pub const TCB_CAP: u64 = 6;
/// ARM SMC cap (PDs with `smc="true"`).
pub const ARM_SMC_CAP: u64 = 7;
/// Notification caps to other PDs: slot = base + channel id.
pub const BASE_OUTPUT_NOTIFICATION_CAP: u64 = 10;
/// PPC endpoint caps: slot = base + channel id.
pub const BASE_ENDPOINT_CAP: u64 = 74;
/// IRQ handler caps: slot = base + channel id.
pub const BASE_IRQ_CAP: u64 = 138;
/// Child PD TCB caps: slot = base + child id.
pub const BASE_TCB_CAP: u64 = 202;
/// Virtual-machine TCB caps.
pub const BASE_VM_TCB_CAP: u64 = 266;
/// vCPU caps.
pub const BASE_VCPU_CAP: u64 = 330;
/// x86 I/O port caps: slot = base + ioport id.
pub const BASE_IOPORT_CAP: u64 = 394;
/// log2 of the PD CNode size (512 slots).
pub const PD_CNODE_BITS: u64 = 9;

/// log2 of the size of the root CNode a PD with a `<cspace>` gets (64 slots), as libmicrokit's
/// `PD_ROOT_CAP_BITS`. Slot 0 of it holds the PD's Microkit CNode (guard
/// [`MICROKIT_CNODE_GUARD_BITS`]), so every small cptr above still names the same cap; slots
/// 1..=[`USER_CAP_SLOT_MAX`] hold the caps the `<cspace>` lists.
pub const PD_ROOT_CAP_BITS: u64 = 6;
/// Root CNode slot holding the PD's Microkit CNode.
pub const MICROKIT_CNODE_SLOT: u64 = 0;
/// Highest user slot of the root CNode.
pub const USER_CAP_SLOT_MAX: u64 = (1 << PD_ROOT_CAP_BITS) - 1;
/// Bits of a cptr left after the root CNode's index: a CNode placed in a root slot
/// (`<cap_cspace>`) gets guard `USER_CNODE_DEPTH - radix`, so `cptr(slot) | i` names its slot
/// `i`, and `USER_CNODE_DEPTH` is the depth CNode invocations use with it as root.
pub const USER_CNODE_DEPTH: u64 = 64 - PD_ROOT_CAP_BITS;
/// Guard size of the Microkit CNode's cap in root slot 0.
pub const MICROKIT_CNODE_GUARD_BITS: u64 = USER_CNODE_DEPTH - PD_CNODE_BITS;

/// The cptr of user slot `slot` of the root CNode (libmicrokit's
/// `microkit_cspace_slot_to_cptr`): the slot number in the top [`PD_ROOT_CAP_BITS`] bits.
pub const fn cspace_slot_to_cptr(slot: u64) -> u64 {
    slot << USER_CNODE_DEPTH
}

/// Badge bit on endpoint caps used for protected procedure calls.
pub const PPC_BADGE: u64 = 1 << 63;
/// Badge bit on the fault endpoint caps a parent holds for its children.
pub const FAULT_BADGE: u64 = 1 << 62;
/// Mask of the channel id in a PPC badge.
pub const CHANNEL_MASK: u64 = 0x3f;
/// Mask of the child id in a fault badge.
pub const PD_MASK: u64 = 0xff;
/// Channel, IRQ and child ids are 0..=62 (`MICROKIT_MAX_CHANNELS` = 62 usable by notify).
pub const MAX_CHANNEL_ID: u64 = 62;
/// Length of the `microkit_name` array.
pub const PD_NAME_LENGTH: usize = 64;
/// Scheduling-context badge of PD `i` is `SC_BADGE_BASE + i`.
pub const SC_BADGE_BASE: u64 = 0x100;

/// Untyped handoff (`receive_all_untypeds`): the receiving PD's CSpace root is a CNode of
/// 2^`UNTYPED_TOP_BITS` slots (guard 0). Its slot 0 holds the PD's ordinary CNode (guard
/// 64 − top bits − [`PD_CNODE_BITS`]), so every small CPtr still names the usual slot; its
/// slot [`UNTYPED_TOP_SLOT`] holds the untyped CNode (2^[`UNTYPED_CNODE_BITS`] slots).
pub mod untypeds {
    /// log2 slots of the receiving PD's top-level CNode.
    pub const UNTYPED_TOP_BITS: u64 = 6;
    /// Top-level slot of the untyped CNode.
    pub const UNTYPED_TOP_SLOT: u64 = 1;
    /// log2 slots of the untyped CNode.
    pub const UNTYPED_CNODE_BITS: u64 = 9;
    /// The CPtr that names slot 0 of the untyped CNode; `CNODE_CPTR + i` names slot `i`.
    /// Slot 0 holds a cap to the untyped CNode itself (guard 0), so `CNODE_CPTR` can be given
    /// as the root of `seL4_Untyped_Retype` (depth 0: the object lands in slot `offset`), and
    /// invoked for CNode operations with index = slot and depth = [`UNTYPED_CNODE_BITS`].
    pub const CNODE_CPTR: u64 = UNTYPED_TOP_SLOT << (64 - UNTYPED_TOP_BITS);
    /// Slot of the first untyped cap; slots `FIRST_SLOT..end` hold them.
    pub const FIRST_SLOT: u64 = 1;
    /// Entries of the descriptor list (`CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS`); at most
    /// `MAX_DESCS - FIRST_SLOT` untypeds are handed over.
    pub const MAX_DESCS: u64 = 230;
    /// Byte offset of the descriptor list in the region (after cptr, start, end).
    pub const DESC_OFFSET: u64 = 24;
    /// Bytes of one `seL4_UntypedDesc` (paddr, size_bits, is_device, 6 bytes padding).
    pub const DESC_SIZE: u64 = 16;

    // The PD CNode and the untyped CNode fit below the top level, the description fits one
    // page, and every described slot exists.
    const _: () = assert!(UNTYPED_TOP_BITS + super::PD_CNODE_BITS <= 64);
    const _: () = assert!(UNTYPED_TOP_BITS + UNTYPED_CNODE_BITS <= 64);
    const _: () = assert!(DESC_OFFSET + MAX_DESCS * DESC_SIZE <= 4096);
    const _: () = assert!(MAX_DESCS < 1 << UNTYPED_CNODE_BITS);
    const _: () = assert!(CNODE_CPTR == 1 << 58);
}

/// Where Microkit 2.3 puts each PD's IPC buffer and stack: the tool maps the IPC buffer
/// itself at the highest user page, `seL4_UserVSpaceTop & !0xfff` (libmicrokit 2.3 points
/// libsel4's `__sel4_ipc_buffer` there and has no `__sel4_ipc_buffer_obj` any more); the stack
/// ends one (unmapped) guard page below it. The user tops are seL4 16's inclusive
/// `seL4_UserVSpaceTop` for the configurations Microkit builds for our boards:
/// `qemu_virt_aarch64` runs seL4 as a hypervisor with a 40-bit IPA (top `0xff_ffff_ffff`),
/// RISC-V Sv39 and x86_64 have `seL4_UserTop - 1`. Our AArch64 kernel runs at EL1 with 48-bit
/// user addresses, so the same page is mapped there too and a PD binary runs unchanged on
/// both kernels.
pub mod vspace {
    /// Size of the IPC buffer page and of the stack guard page.
    pub const PAGE_SIZE: u64 = 0x1000;
    /// `seL4_UserVSpaceTop` of Microkit's `qemu_virt_aarch64` (hypervisor mode, 40-bit IPA).
    pub const USER_VSPACE_TOP_AARCH64: u64 = 0xff_ffff_ffff;
    /// `seL4_UserVSpaceTop` on RISC-V 64 (Sv39): `seL4_UserTop` 0x3f_ffff_f000 minus one.
    pub const USER_VSPACE_TOP_RISCV64: u64 = 0x3f_ffff_efff;
    /// `seL4_UserVSpaceTop` on x86_64: `seL4_UserTop` 0x7fff_ffff_f000 minus one.
    pub const USER_VSPACE_TOP_X86_64: u64 = 0x7fff_ffff_efff;

    /// The IPC buffer page of a PD in an address space whose inclusive top is `top`.
    pub const fn ipc_buffer(top: u64) -> u64 {
        top & !(PAGE_SIZE - 1)
    }

    /// The (exclusive) top of a PD's stack: one guard page below the IPC buffer.
    pub const fn stack_top(top: u64) -> u64 {
        ipc_buffer(top) - PAGE_SIZE
    }

    /// The IPC buffer page on the target this crate is compiled for (PD builds).
    #[cfg(target_arch = "aarch64")]
    pub const IPC_BUFFER_VADDR: u64 = ipc_buffer(USER_VSPACE_TOP_AARCH64);
    /// The IPC buffer page on the target this crate is compiled for (PD builds).
    #[cfg(target_arch = "riscv64")]
    pub const IPC_BUFFER_VADDR: u64 = ipc_buffer(USER_VSPACE_TOP_RISCV64);
    /// The IPC buffer page on the target this crate is compiled for (PD builds).
    #[cfg(target_arch = "x86_64")]
    pub const IPC_BUFFER_VADDR: u64 = ipc_buffer(USER_VSPACE_TOP_X86_64);

    const _: () = assert!(ipc_buffer(USER_VSPACE_TOP_AARCH64) == 0xff_ffff_f000);
    const _: () = assert!(ipc_buffer(USER_VSPACE_TOP_RISCV64) == 0x3f_ffff_e000);
    const _: () = assert!(ipc_buffer(USER_VSPACE_TOP_X86_64) == 0x7fff_ffff_e000);
}

/// Symbols the tool patches in every PD ELF.
pub mod symbols {
    /// `char microkit_name[64]`: the PD's name, NUL-terminated.
    pub const NAME: &str = "microkit_name";
    /// `bool microkit_passive`.
    pub const PASSIVE: &str = "microkit_passive";
    /// `seL4_Word microkit_irqs`: bit *i* set if channel *i* is an IRQ.
    pub const IRQS: &str = "microkit_irqs";
    /// `seL4_Word microkit_notifications`: bit *i* set if channel *i* may be notified.
    pub const NOTIFICATIONS: &str = "microkit_notifications";
    /// `seL4_Word microkit_pps`: bit *i* set if channel *i* may be PPC'd into.
    pub const PPS: &str = "microkit_pps";
    /// `seL4_Word microkit_ioports`: bit *i* set if I/O port id *i* exists (x86).
    pub const IOPORTS: &str = "microkit_ioports";
    /// The IPC buffer page of libmicrokit releases before 2.3 (`__sel4_ipc_buffer_obj`,
    /// page-aligned, 4 KiB). When a PD's ELF has it, the tool maps the IPC buffer there; 2.3
    /// PDs have none and get [`crate::vspace`]'s top page.
    pub const IPC_BUFFER: &str = "__sel4_ipc_buffer_obj";
    /// Initialiser: `[u64; 2]` = (vaddr, length) of the appended system blob.
    pub const SYSTEM: &str = "MICROKIT_SYSTEM";
    /// Initialiser: `[u64; 4]`, the configuration record of the kernel it is packed with
    /// (`sel4_abi::config`'s words, magic first; all zero when the tool found none), so that
    /// it numbers its invocation labels as that kernel does.
    pub const KERNEL_CONFIG: &str = "MICROKIT_KERNEL_CONFIG";
}

/// What a badge received on a PD's input cap means (libmicrokit's `handler_loop`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Bit 62: a fault of child `badge & PD_MASK` (checked first, as libmicrokit does).
    Fault {
        /// The child id.
        child: u64,
    },
    /// Bit 63: a protected procedure call on channel `badge & CHANNEL_MASK`.
    Protected {
        /// The channel id.
        channel: u64,
    },
    /// Otherwise: bit *i* set = notification (or IRQ) on channel *i*.
    Notified {
        /// The set of channels.
        channels: Channels,
    },
}

/// Decodes a badge.
pub const fn decode_badge(badge: u64) -> Event {
    if badge & FAULT_BADGE != 0 {
        Event::Fault {
            child: badge & PD_MASK,
        }
    } else if badge & PPC_BADGE != 0 {
        Event::Protected {
            channel: badge & CHANNEL_MASK,
        }
    } else {
        Event::Notified {
            channels: Channels(badge),
        }
    }
}

/// A set of channel ids (a notification word); iterates in ascending order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channels(pub u64);

impl Iterator for Channels {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros() as u64;
        self.0 &= self.0 - 1;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_decode_like_libmicrokit() {
        assert_eq!(decode_badge(PPC_BADGE | 5), Event::Protected { channel: 5 });
        assert_eq!(decode_badge(FAULT_BADGE | 3), Event::Fault { child: 3 });
        // Bit 62 wins over bit 63, as in libmicrokit's handler loop.
        assert_eq!(
            decode_badge(PPC_BADGE | FAULT_BADGE | 7),
            Event::Fault { child: 7 }
        );
        assert_eq!(
            decode_badge(0b1000_0101),
            Event::Notified {
                channels: Channels(0b1000_0101)
            }
        );
        let ids: [Option<u64>; 4] = {
            let mut c = Channels(0b1000_0101);
            [c.next(), c.next(), c.next(), c.next()]
        };
        assert_eq!(ids, [Some(0), Some(2), Some(7), None]);
        assert_eq!(Channels(0).next(), None);
        assert_eq!(Channels(1 << 62).next(), Some(62));
    }

    #[test]
    fn slot_bases_do_not_overlap() {
        let bases = [
            BASE_OUTPUT_NOTIFICATION_CAP,
            BASE_ENDPOINT_CAP,
            BASE_IRQ_CAP,
            BASE_TCB_CAP,
            BASE_VM_TCB_CAP,
            BASE_VCPU_CAP,
            BASE_IOPORT_CAP,
        ];
        for w in bases.windows(2) {
            assert_eq!(w[1] - w[0], 64);
        }
        assert!(BASE_IOPORT_CAP + MAX_CHANNEL_ID < 1 << PD_CNODE_BITS);
        assert!(MONITOR_EP_CAP < BASE_OUTPUT_NOTIFICATION_CAP);
    }

    #[test]
    fn user_slots_sit_above_the_microkit_cnode() {
        assert_eq!(cspace_slot_to_cptr(1), 1 << 58);
        assert_eq!(cspace_slot_to_cptr(USER_CAP_SLOT_MAX) >> 58, 63);
        // A plain Microkit cptr (< 512) has the root index 0 and so walks through slot 0.
        assert_eq!(
            (BASE_IOPORT_CAP + MAX_CHANNEL_ID) >> USER_CNODE_DEPTH,
            MICROKIT_CNODE_SLOT
        );
        assert_eq!(
            PD_ROOT_CAP_BITS + MICROKIT_CNODE_GUARD_BITS + PD_CNODE_BITS,
            64
        );
    }
}
