//! Typed kernel errors: seL4 syscall errors with their error message registers, and
//! lookup-failure descriptions.

use sel4_abi::{Error, LookupFailureType};

/// A lookup-failure description (`lookup_fault` in seL4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupFailure {
    /// The root was not a CNode.
    InvalidRoot,
    /// No cap where one was needed.
    MissingCapability {
        /// Bits left to resolve.
        bits_left: u64,
    },
    /// The remaining depth did not fit the CNode (or bits were left over).
    DepthMismatch {
        /// Bits left to resolve.
        bits_left: u64,
        /// Bits this level would resolve.
        bits_found: u64,
    },
    /// The guard did not match.
    GuardMismatch {
        /// Bits left to resolve.
        bits_left: u64,
        /// The CNode cap's guard.
        guard_found: u64,
        /// The CNode cap's guard size.
        guard_size: u64,
    },
}

impl LookupFailure {
    /// The failure type number.
    pub fn kind(&self) -> LookupFailureType {
        match self {
            LookupFailure::InvalidRoot => LookupFailureType::InvalidRoot,
            LookupFailure::MissingCapability { .. } => LookupFailureType::MissingCapability,
            LookupFailure::DepthMismatch { .. } => LookupFailureType::DepthMismatch,
            LookupFailure::GuardMismatch { .. } => LookupFailureType::GuardMismatch,
        }
    }

    /// The description as message words: type, then its fields (as libsel4 reads them).
    /// Returns the number of words written (1..=4).
    pub fn to_words(&self, out: &mut [u64; 4]) -> usize {
        out[0] = self.kind() as u64;
        match *self {
            LookupFailure::InvalidRoot => 1,
            LookupFailure::MissingCapability { bits_left } => {
                out[1] = bits_left;
                2
            }
            LookupFailure::DepthMismatch {
                bits_left,
                bits_found,
            } => {
                out[1] = bits_left;
                out[2] = bits_found;
                3
            }
            LookupFailure::GuardMismatch {
                bits_left,
                guard_found,
                guard_size,
            } => {
                out[1] = bits_left;
                out[2] = guard_found;
                out[3] = guard_size;
                4
            }
        }
    }

    /// Parse back from [`LookupFailure::to_words`] (for storing in a TCB).
    pub fn from_words(w: [u64; 4]) -> Option<LookupFailure> {
        Some(match w[0] {
            1 => LookupFailure::InvalidRoot,
            2 => LookupFailure::MissingCapability { bits_left: w[1] },
            3 => LookupFailure::DepthMismatch {
                bits_left: w[1],
                bits_found: w[2],
            },
            4 => LookupFailure::GuardMismatch {
                bits_left: w[1],
                guard_found: w[2],
                guard_size: w[3],
            },
            _ => return None,
        })
    }
}

/// A syscall error reported to the caller of a `Call` (`current_syscall_error` in seL4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallError {
    /// Argument `n` is invalid.
    InvalidArgument(u64),
    /// Cap `n` is invalid (0 = the invoked cap, k = extra cap k−1).
    InvalidCapability(u64),
    /// The operation is not allowed.
    IllegalOperation,
    /// An argument is outside `min..=max`.
    RangeError {
        /// Minimum.
        min: u64,
        /// Maximum.
        max: u64,
    },
    /// Misaligned argument.
    AlignmentError,
    /// A lookup failed.
    FailedLookup {
        /// Whether the source (rather than destination) lookup failed.
        source: bool,
        /// Why.
        failure: LookupFailure,
    },
    /// Too few message registers or extra caps.
    TruncatedMessage,
    /// The destination must be deleted first.
    DeleteFirst,
    /// The object must be revoked first.
    RevokeFirst,
    /// Not enough untyped memory; `bytes_left` are free.
    NotEnoughMemory(u64),
}

impl SyscallError {
    /// The `seL4_Error` number.
    pub fn code(&self) -> Error {
        match self {
            SyscallError::InvalidArgument(_) => Error::InvalidArgument,
            SyscallError::InvalidCapability(_) => Error::InvalidCapability,
            SyscallError::IllegalOperation => Error::IllegalOperation,
            SyscallError::RangeError { .. } => Error::RangeError,
            SyscallError::AlignmentError => Error::AlignmentError,
            SyscallError::FailedLookup { .. } => Error::FailedLookup,
            SyscallError::TruncatedMessage => Error::TruncatedMessage,
            SyscallError::DeleteFirst => Error::DeleteFirst,
            SyscallError::RevokeFirst => Error::RevokeFirst,
            SyscallError::NotEnoughMemory(_) => Error::NotEnoughMemory,
        }
    }

    /// The error message registers (seL4 `setMRs_syscall_error`); returns the length.
    pub fn to_mrs(&self, out: &mut [u64; 5]) -> usize {
        match *self {
            SyscallError::InvalidArgument(n) | SyscallError::InvalidCapability(n) => {
                out[0] = n;
                1
            }
            SyscallError::RangeError { min, max } => {
                out[0] = min;
                out[1] = max;
                2
            }
            SyscallError::FailedLookup { source, failure } => {
                out[0] = source as u64;
                let mut w = [0; 4];
                let n = failure.to_words(&mut w);
                out[1..1 + n].copy_from_slice(&w[..n]);
                1 + n
            }
            SyscallError::NotEnoughMemory(b) => {
                out[0] = b;
                1
            }
            _ => 0,
        }
    }
}

/// Result of a decode or an invocation.
pub type KResult<T> = Result<T, SyscallError>;
