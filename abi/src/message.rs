//! `seL4_MessageInfo`, `seL4_CapRights`, CNode cap data and the IPC buffer layout.

/// `seL4_MsgLengthBits`.
pub const MSG_LENGTH_BITS: u32 = 7;
/// `seL4_MsgExtraCapBits`.
pub const MSG_EXTRA_CAP_BITS: u32 = 2;
/// `seL4_MsgMaxLength`.
pub const MSG_MAX_LENGTH: u64 = 120;
/// `seL4_MsgMaxExtraCaps`.
pub const MSG_MAX_EXTRA_CAPS: u64 = 3;
/// `seL4_FastMessageRegisters`.
pub const FAST_MESSAGE_REGISTERS: usize = 4;

/// `seL4_MessageInfo`: label 63..12, capsUnwrapped 11..9, extraCaps 8..7, length 6..0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MessageInfo {
    /// The 52-bit label.
    pub label: u64,
    /// Bit i set: extra cap i was unwrapped into a badge.
    pub caps_unwrapped: u64,
    /// Number of extra caps (0..=3).
    pub extra_caps: u64,
    /// Number of message registers (0..=127 encoded; the kernel clamps to 120).
    pub length: u64,
}

impl MessageInfo {
    /// A message info with the given fields (truncated to their widths).
    pub const fn new(label: u64, caps_unwrapped: u64, extra_caps: u64, length: u64) -> Self {
        MessageInfo {
            label: label & ((1 << 52) - 1),
            caps_unwrapped: caps_unwrapped & 7,
            extra_caps: extra_caps & 3,
            length: length & 0x7f,
        }
    }
    /// Decode a word exactly as written by user space (no clamping).
    pub const fn from_word(w: u64) -> Self {
        MessageInfo {
            label: w >> 12,
            caps_unwrapped: (w >> 9) & 7,
            extra_caps: (w >> 7) & 3,
            length: w & 0x7f,
        }
    }
    /// Decode a word as the kernel does on syscall entry: length clamped to 120.
    pub const fn from_word_clamped(w: u64) -> Self {
        let mut m = Self::from_word(w);
        if m.length > MSG_MAX_LENGTH {
            m.length = MSG_MAX_LENGTH;
        }
        m
    }
    /// Encode to one word.
    pub const fn to_word(self) -> u64 {
        (self.label << 12)
            | ((self.caps_unwrapped & 7) << 9)
            | ((self.extra_caps & 3) << 7)
            | (self.length & 0x7f)
    }
}

/// `seL4_CapRights`: bit0 Write, bit1 Read, bit2 Grant, bit3 GrantReply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct CapRights(pub u8);

impl CapRights {
    /// No rights.
    pub const NONE: CapRights = CapRights(0);
    /// All four rights.
    pub const ALL: CapRights = CapRights(0xf);
    /// Read and write.
    pub const RW: CapRights = CapRights(3);
    /// Write (send).
    pub const WRITE: u8 = 1;
    /// Read (receive).
    pub const READ: u8 = 2;
    /// Grant.
    pub const GRANT: u8 = 4;
    /// GrantReply.
    pub const GRANT_REPLY: u8 = 8;

    /// `seL4_CapRights_new(grant_reply, grant, read, write)`.
    pub const fn new(grant_reply: bool, grant: bool, read: bool, write: bool) -> Self {
        CapRights(
            (write as u8) | ((read as u8) << 1) | ((grant as u8) << 2) | ((grant_reply as u8) << 3),
        )
    }
    /// From a user word (bits above 3 ignored).
    pub const fn from_word(w: u64) -> Self {
        CapRights((w & 0xf) as u8)
    }
    /// To a word.
    pub const fn to_word(self) -> u64 {
        self.0 as u64
    }
    /// Write right.
    pub const fn write(self) -> bool {
        self.0 & Self::WRITE != 0
    }
    /// Read right.
    pub const fn read(self) -> bool {
        self.0 & Self::READ != 0
    }
    /// Grant right.
    pub const fn grant(self) -> bool {
        self.0 & Self::GRANT != 0
    }
    /// GrantReply right.
    pub const fn grant_reply(self) -> bool {
        self.0 & Self::GRANT_REPLY != 0
    }
    /// Intersection (`maskCapRights`).
    pub const fn and(self, o: CapRights) -> CapRights {
        CapRights(self.0 & o.0)
    }
    /// Whether every right in `self` is also in `o`.
    pub const fn is_subset_of(self, o: CapRights) -> bool {
        self.0 & !o.0 == 0
    }
}

/// `seL4_CNode_CapData`: guard in bits 63..6, guardSize in bits 5..0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CNodeCapData {
    /// The guard value (58 bits).
    pub guard: u64,
    /// The guard size in bits (0..=63).
    pub guard_size: u64,
}

impl CNodeCapData {
    /// Decode a cap-data word.
    pub const fn from_word(w: u64) -> Self {
        CNodeCapData {
            guard: w >> 6,
            guard_size: w & 0x3f,
        }
    }
    /// Encode to a word.
    pub const fn to_word(self) -> u64 {
        (self.guard << 6) | (self.guard_size & 0x3f)
    }
}

/// IPC buffer layout (`seL4_IPCBuffer`), byte offsets.
pub mod ipc_buffer {
    /// Size of the IPC buffer (2^10).
    pub const SIZE: u64 = 1024;
    /// `tag` (MessageInfo).
    pub const TAG: u64 = 0;
    /// `msg[0]`; `msg[i]` is at `MSG + 8*i`.
    pub const MSG: u64 = 8;
    /// `userData`.
    pub const USER_DATA: u64 = 968;
    /// `caps_or_badges[0]`; entry i at `CAPS_OR_BADGES + 8*i`.
    pub const CAPS_OR_BADGES: u64 = 976;
    /// `receiveCNode`.
    pub const RECEIVE_CNODE: u64 = 1000;
    /// `receiveIndex`.
    pub const RECEIVE_INDEX: u64 = 1008;
    /// `receiveDepth`.
    pub const RECEIVE_DEPTH: u64 = 1016;
    /// Byte offset of message register `i` (only meaningful for i ≥ 4 in the kernel).
    pub const fn mr_offset(i: usize) -> u64 {
        MSG + 8 * i as u64
    }
}
