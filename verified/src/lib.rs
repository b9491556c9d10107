//! Verification of the kernel core: an executable abstract specification of the seL4 (MCS)
//! subset we implement ([`spec`]), its invariants ([`invariants`]), an exhaustive bounded
//! explorer ([`explore`]) over small systems ([`model`]), and (with kernel-core) lockstep
//! refinement checks.
//!
//! Nothing here is a proof: every property is checked on the states a bounded search or a
//! random test reaches. See `README.md` ("What is verified").
#![forbid(unsafe_code)]

pub mod explore;
pub mod invariants;
pub mod model;
pub mod refine;
pub mod spec;
