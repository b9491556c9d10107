//! One error type for root-task steps, printed as `<seL4 error name> (<number>)` plus detail.

use sel4_abi::Error;
use sel4_sys::ops::InvokeError;

use crate::alloc::AllocError;
use crate::bootinfo::BootInfoError;

/// Why a root-task step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootError {
    /// The kernel answered an invocation with an `seL4_Error`; `mr0` is its first MR.
    Kernel {
        /// The error.
        error: Error,
        /// First error message register.
        mr0: u64,
    },
    /// The kernel answered with a label that is no `seL4_Error`.
    UnknownLabel(u64),
    /// The method does not exist on this architecture.
    NoSuchMethod,
    /// Out of slots or untyped memory.
    Alloc(AllocError),
    /// Unusable boot info.
    BootInfo(BootInfoError),
    /// A value differs from what the step expects.
    Unexpected {
        /// What was checked.
        what: &'static str,
        /// The value seen.
        got: u64,
        /// The value expected.
        want: u64,
    },
    /// An invocation succeeded that should have failed with `want`.
    UnexpectedSuccess {
        /// The expected error.
        want: Error,
    },
}

impl RootError {
    /// The seL4 error, if this is a kernel error.
    pub fn kernel_error(&self) -> Option<Error> {
        match self {
            RootError::Kernel { error, .. } => Some(*error),
            _ => None,
        }
    }
}

impl From<InvokeError> for RootError {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::Kernel { error, mr0 } => RootError::Kernel { error, mr0 },
            InvokeError::UnknownLabel(l) => RootError::UnknownLabel(l),
            InvokeError::NoSuchMethod => RootError::NoSuchMethod,
        }
    }
}

impl From<AllocError> for RootError {
    fn from(e: AllocError) -> Self {
        RootError::Alloc(e)
    }
}

impl From<BootInfoError> for RootError {
    fn from(e: BootInfoError) -> Self {
        RootError::BootInfo(e)
    }
}

/// `Name (number)` of an seL4 error, e.g. `DeleteFirst (8)`.
pub struct ErrorName(pub Error);

impl core::fmt::Display for ErrorName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?} ({})", self.0, self.0 as u64)
    }
}

impl core::fmt::Display for RootError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RootError::Kernel { error, mr0 } => write!(f, "{} mr0 {:#x}", ErrorName(*error), mr0),
            RootError::UnknownLabel(l) => write!(f, "unknown reply label {l:#x}"),
            RootError::NoSuchMethod => write!(f, "no such method on this architecture"),
            RootError::Alloc(e) => write!(f, "{e}"),
            RootError::BootInfo(e) => write!(f, "{e}"),
            RootError::Unexpected { what, got, want } => {
                write!(f, "{what}: got {got:#x}, expected {want:#x}")
            }
            RootError::UnexpectedSuccess { want } => {
                write!(f, "succeeded, expected {}", ErrorName(*want))
            }
        }
    }
}

/// `Ok` if `got == want`, else an [`RootError::Unexpected`] naming `what`.
pub fn expect_eq(what: &'static str, got: u64, want: u64) -> Result<(), RootError> {
    if got == want {
        Ok(())
    } else {
        Err(RootError::Unexpected { what, got, want })
    }
}

/// `Ok` if `r` failed with exactly `want`; the error otherwise.
pub fn expect_error<T>(r: Result<T, RootError>, want: Error) -> Result<(), RootError> {
    match r {
        Ok(_) => Err(RootError::UnexpectedSuccess { want }),
        Err(e) if e.kernel_error() == Some(want) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn formats() {
        let e = RootError::Kernel {
            error: Error::DeleteFirst,
            mr0: 0,
        };
        assert_eq!(format!("{e}"), "DeleteFirst (8) mr0 0x0");
        assert_eq!(
            format!("{}", ErrorName(Error::IllegalOperation)),
            "IllegalOperation (3)"
        );
        let u = RootError::Unexpected {
            what: "badge",
            got: 5,
            want: 0x61,
        };
        assert_eq!(format!("{u}"), "badge: got 0x5, expected 0x61");
    }

    #[test]
    fn expectations() {
        assert!(expect_eq("x", 1, 1).is_ok());
        assert!(expect_eq("x", 1, 2).is_err());
        let del: Result<(), RootError> = Err(RootError::Kernel {
            error: Error::DeleteFirst,
            mr0: 0,
        });
        assert!(expect_error(del, Error::DeleteFirst).is_ok());
        assert!(expect_error(del, Error::RangeError).is_err());
        assert_eq!(
            expect_error(Ok(()), Error::DeleteFirst),
            Err(RootError::UnexpectedSuccess {
                want: Error::DeleteFirst
            })
        );
    }
}
