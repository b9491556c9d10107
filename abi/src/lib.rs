//! seL4 ABI numbers (placeholder; filled in by the kernel-core work).
#![no_std]
