//! Arch-independent kernel core (skeleton; see issue 3).
#![cfg_attr(not(test), no_std)]
