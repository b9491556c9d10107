//! One-word ABI values: `seL4_MessageInfo`, `seL4_CapRights`, CNode cap data (`sel4-abi.md` §3).

/// Maximum message length in words (`seL4_MsgMaxLength`).
pub const MSG_MAX_LENGTH: usize = 120;
/// Maximum extra caps per message (`seL4_MsgMaxExtraCaps`).
pub const MSG_MAX_EXTRA_CAPS: usize = 3;

/// `seL4_MessageInfo`: label bits 63..12, capsUnwrapped 11..9, extraCaps 8..7, length 6..0.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[repr(transparent)]
pub struct MessageInfo(pub u64);

impl MessageInfo {
    /// Builds a message info; fields wider than their bit field are truncated like libsel4.
    pub const fn new(label: u64, caps_unwrapped: u64, extra_caps: u64, length: u64) -> Self {
        MessageInfo(
            ((label & 0xf_ffff_ffff_ffff) << 12)
                | ((caps_unwrapped & 0x7) << 9)
                | ((extra_caps & 0x3) << 7)
                | (length & 0x7f),
        )
    }
    /// The label (52 bits).
    pub const fn label(self) -> u64 {
        self.0 >> 12
    }
    /// The capsUnwrapped mask.
    pub const fn caps_unwrapped(self) -> u64 {
        (self.0 >> 9) & 0x7
    }
    /// The number of extra caps.
    pub const fn extra_caps(self) -> u64 {
        (self.0 >> 7) & 0x3
    }
    /// The length in message registers.
    pub const fn length(self) -> u64 {
        self.0 & 0x7f
    }
}

/// `seL4_CapRights` word: bit0 Write, bit1 Read, bit2 Grant, bit3 GrantReply.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[repr(transparent)]
pub struct CapRights(pub u64);

impl CapRights {
    /// `seL4_CapRights_new(grant_reply, grant, read, write)`.
    pub const fn new(grant_reply: bool, grant: bool, read: bool, write: bool) -> Self {
        CapRights(
            (write as u64) | ((read as u64) << 1) | ((grant as u64) << 2) | ((grant_reply as u64) << 3),
        )
    }
    /// All four rights (`seL4_AllRights`).
    pub const ALL: CapRights = CapRights(0xf);
    /// Read and write (`seL4_ReadWrite`).
    pub const READ_WRITE: CapRights = CapRights(0x3);
    /// Read only (`seL4_CanRead`).
    pub const READ: CapRights = CapRights(0x2);
    /// Write only (`seL4_CanWrite`).
    pub const WRITE: CapRights = CapRights(0x1);
    /// No rights.
    pub const NONE: CapRights = CapRights(0);
}

/// `seL4_CNode_CapData`: guard in bits 63..6, guard size in bits 5..0.
pub const fn cnode_cap_data(guard: u64, guard_size: u64) -> u64 {
    (guard << 6) | (guard_size & 0x3f)
}
