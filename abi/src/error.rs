//! `seL4_Error` and `seL4_LookupFailureType`.

/// An seL4 error, returned as the label of the reply to a failed `Call`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Error {
    /// `seL4_InvalidArgument` (MR0 = argument number).
    InvalidArgument = 1,
    /// `seL4_InvalidCapability` (MR0 = cap number).
    InvalidCapability = 2,
    /// `seL4_IllegalOperation`.
    IllegalOperation = 3,
    /// `seL4_RangeError` (MR0 = min, MR1 = max).
    RangeError = 4,
    /// `seL4_AlignmentError`.
    AlignmentError = 5,
    /// `seL4_FailedLookup` (MR0 = source flag, MR1.. = lookup failure).
    FailedLookup = 6,
    /// `seL4_TruncatedMessage`.
    TruncatedMessage = 7,
    /// `seL4_DeleteFirst`.
    DeleteFirst = 8,
    /// `seL4_RevokeFirst`.
    RevokeFirst = 9,
    /// `seL4_NotEnoughMemory` (MR0 = bytes left).
    NotEnoughMemory = 10,
}

impl Error {
    /// The error with number `n` (0, `seL4_NoError`, is not an error).
    pub fn from_u64(n: u64) -> Option<Error> {
        Some(match n {
            1 => Error::InvalidArgument,
            2 => Error::InvalidCapability,
            3 => Error::IllegalOperation,
            4 => Error::RangeError,
            5 => Error::AlignmentError,
            6 => Error::FailedLookup,
            7 => Error::TruncatedMessage,
            8 => Error::DeleteFirst,
            9 => Error::RevokeFirst,
            10 => Error::NotEnoughMemory,
            _ => return None,
        })
    }
}

/// `seL4_NoError`.
pub const NO_ERROR: u64 = 0;
/// `seL4_NumErrors`.
pub const NUM_ERRORS: u64 = 11;

/// `seL4_LookupFailureType`: the first word of a lookup-failure description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum LookupFailureType {
    /// `seL4_NoFailure`.
    NoFailure = 0,
    /// `seL4_InvalidRoot`.
    InvalidRoot = 1,
    /// `seL4_MissingCapability` (+ bitsLeft).
    MissingCapability = 2,
    /// `seL4_DepthMismatch` (+ bitsLeft, bitsFound).
    DepthMismatch = 3,
    /// `seL4_GuardMismatch` (+ bitsLeft, guardFound, guardSize).
    GuardMismatch = 4,
}
