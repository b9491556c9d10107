//! The host-testable half of the fuzzer root task (`src/main.rs` is the root task itself):
//! the per-call random stream, the object kinds the templates target, which seL4 error a
//! malformed invocation must get, and the rules that keep a campaign from switching the
//! machine off.
//!
//! Reproducibility: every call draws from its own stream, [`Rng::for_call`]`(seed, index)`,
//! so call *i* of a campaign is the same bytes whatever happened before it; the kernel state
//! it meets is the same when the campaign is re-run with the same seed up to *i*.
#![no_std]

use sel4_abi::{arch_label_number, Arch, ArchLabel, Error, Label};

/// SplitMix64: small, fast, and good enough to drive a fuzzer.
#[derive(Clone, Debug)]
pub struct Rng(u64);

/// One SplitMix64 output step applied to `z`.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream of call `index` of the campaign with `seed`.
    pub fn for_call(seed: u64, index: u64) -> Rng {
        Rng(mix(seed ^ mix(index.wrapping_add(0x9e37_79b9_7f4a_7c15))))
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }
    /// Uniform in `0..n` (0 if `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            ((self.next_u64() as u128 * n as u128) >> 64) as u64
        }
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    /// True with probability `num`/`den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
    /// A word that is often an edge value (0, 1, all ones, a power of two ± 1, a small
    /// number) and otherwise 64 random bits.
    pub fn junk(&mut self) -> u64 {
        match self.below(8) {
            0 => 0,
            1 => u64::MAX,
            2 => self.below(16),
            3 => 1u64 << self.below(64),
            4 => (1u64 << self.below(64)).wrapping_sub(1),
            5 => (1u64 << self.below(64)).wrapping_add(1),
            _ => self.next_u64(),
        }
    }
    /// One element of `xs` (panics on an empty slice: callers pass constants).
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// What a cap the fuzzer targets is (its idea of it: caps move, so this may be stale).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Obj {
    /// Nothing known (empty slot or lost track).
    None = 0,
    Untyped,
    CNode,
    Tcb,
    SchedContext,
    SchedControl,
    Endpoint,
    Notification,
    Reply,
    IrqControl,
    IrqHandler,
    IoPortControl,
    IoPort,
    Frame,
    PageTable,
    PageDirectory,
    Pdpt,
    VSpace,
    AsidControl,
    AsidPool,
    Smc,
    Domain,
    /// Raw system calls with random numbers, caps and messages (not a kernel object).
    Raw,
}

/// Number of [`Obj`] values.
pub const NUM_OBJ: usize = 23;

impl Obj {
    /// Every value, in code order.
    pub const ALL: [Obj; NUM_OBJ] = [
        Obj::None,
        Obj::Untyped,
        Obj::CNode,
        Obj::Tcb,
        Obj::SchedContext,
        Obj::SchedControl,
        Obj::Endpoint,
        Obj::Notification,
        Obj::Reply,
        Obj::IrqControl,
        Obj::IrqHandler,
        Obj::IoPortControl,
        Obj::IoPort,
        Obj::Frame,
        Obj::PageTable,
        Obj::PageDirectory,
        Obj::Pdpt,
        Obj::VSpace,
        Obj::AsidControl,
        Obj::AsidPool,
        Obj::Smc,
        Obj::Domain,
        Obj::Raw,
    ];
    /// The value with code `n` (None for an unknown code).
    pub fn from_u8(n: u8) -> Obj {
        Obj::ALL.get(n as usize).copied().unwrap_or(Obj::None)
    }
    /// Name in the coverage table.
    pub const fn name(self) -> &'static str {
        match self {
            Obj::None => "-",
            Obj::Untyped => "Untyped",
            Obj::CNode => "CNode",
            Obj::Tcb => "TCB",
            Obj::SchedContext => "SchedContext",
            Obj::SchedControl => "SchedControl",
            Obj::Endpoint => "Endpoint",
            Obj::Notification => "Notification",
            Obj::Reply => "Reply",
            Obj::IrqControl => "IRQControl",
            Obj::IrqHandler => "IRQHandler",
            Obj::IoPortControl => "IOPortControl",
            Obj::IoPort => "IOPort",
            Obj::Frame => "Frame",
            Obj::PageTable => "PageTable",
            Obj::PageDirectory => "PageDirectory",
            Obj::Pdpt => "PDPT",
            Obj::VSpace => "VSpace",
            Obj::AsidControl => "ASIDControl",
            Obj::AsidPool => "ASIDPool",
            Obj::Smc => "SMC",
            Obj::Domain => "DomainSet",
            Obj::Raw => "raw",
        }
    }
    /// Whether `arch` has objects of this kind.
    pub const fn exists_on(self, arch: Arch) -> bool {
        match self {
            Obj::IoPortControl | Obj::IoPort | Obj::PageDirectory | Obj::Pdpt => {
                matches!(arch, Arch::X86_64)
            }
            Obj::Smc => matches!(arch, Arch::Aarch64),
            _ => true,
        }
    }
    /// Whether the kernel answers every invocation of this kind with a reply (a Call on it
    /// never blocks): true for all kernel objects but endpoints and reply objects.
    pub const fn always_replies(self) -> bool {
        !matches!(self, Obj::None | Obj::Endpoint | Obj::Reply | Obj::Raw)
    }
}

/// The label number of `l` on `arch` (`u64::MAX` if the arch has no such method).
pub fn arch_label(arch: Arch, l: ArchLabel) -> u64 {
    arch_label_number(arch, l).unwrap_or(u64::MAX)
}

/// The least message length and number of extra caps seL4 needs for method `label` on an
/// object of kind `obj` before it looks at anything else, or None when the fuzzer does not
/// predict truncation for that method (no arguments, or seL4 checks something first).
pub fn min_args(arch: Arch, obj: Obj, label: u64) -> Option<(u64, u64)> {
    let al = |l| arch_label(arch, l);
    let g = Label::from_u64(label);
    Some(match (obj, g) {
        (Obj::Untyped, Some(Label::UntypedRetype)) => (6, 1),
        (
            Obj::CNode,
            Some(
                Label::CNodeRevoke
                | Label::CNodeDelete
                | Label::CNodeCancelBadgedSends
                | Label::CNodeCopy
                | Label::CNodeMint
                | Label::CNodeMove
                | Label::CNodeMutate
                | Label::CNodeRotate,
            ),
        ) => (2, 0),
        (Obj::Tcb, Some(Label::TCBReadRegisters | Label::TCBWriteRegisters)) => (2, 0),
        (
            Obj::Tcb,
            Some(Label::TCBSetPriority | Label::TCBSetMCPriority | Label::TCBCopyRegisters),
        ) => (1, 1),
        (Obj::Tcb, Some(Label::TCBSetIPCBuffer)) => (1, 1),
        (Obj::Tcb, Some(Label::TCBSetTLSBase)) => (1, 0),
        (Obj::Tcb, Some(Label::TCBBindNotification | Label::TCBSetTimeoutEndpoint)) => (0, 1),
        (Obj::Tcb, Some(Label::TCBSetSchedParams)) => (2, 3),
        (Obj::Tcb, Some(Label::TCBSetSpace)) => (2, 3),
        (Obj::Tcb, Some(Label::TCBConfigure)) => (3, 3),
        (Obj::SchedControl, Some(Label::SchedControlConfigureFlags)) => (5, 1),
        (Obj::SchedContext, Some(Label::SchedContextBind | Label::SchedContextUnbindObject)) => {
            (0, 1)
        }
        (Obj::IrqControl, Some(Label::IRQIssueIRQHandler)) => (3, 1),
        (Obj::Domain, Some(Label::DomainSetSet)) => (1, 1),
        (Obj::Domain, Some(Label::DomainScheduleConfigure)) => (3, 0),
        (Obj::Domain, Some(Label::DomainScheduleSetStart)) => (1, 0),
        (Obj::AsidControl, _) if label == al(ArchLabel::AsidControlMakePool) => (2, 2),
        (Obj::AsidPool, _) if label == al(ArchLabel::AsidPoolAssign) => (0, 1),
        (Obj::IoPortControl, _) if label == al(ArchLabel::IoPortControlIssue) => (4, 1),
        (Obj::IoPort, _)
            if label == al(ArchLabel::IoPortIn8)
                || label == al(ArchLabel::IoPortIn16)
                || label == al(ArchLabel::IoPortIn32) =>
        {
            (1, 0)
        }
        (Obj::IoPort, _)
            if label == al(ArchLabel::IoPortOut8)
                || label == al(ArchLabel::IoPortOut16)
                || label == al(ArchLabel::IoPortOut32) =>
        {
            (2, 0)
        }
        (Obj::Frame, _) if label == al(ArchLabel::PageMap) => (3, 1),
        (Obj::PageTable, _) if label == al(ArchLabel::PageTableMap) => (2, 1),
        (Obj::PageDirectory, _) if label == al(ArchLabel::PageDirectoryMap) => (2, 1),
        (Obj::Pdpt, _) if label == al(ArchLabel::PdptMap) => (2, 1),
        _ => return None,
    })
}

/// The error seL4 gives for a message of `len` words and `ncaps` extra caps, label `label`,
/// sent with `seL4_Call` to a cap of kind `obj` with all rights: `IllegalOperation` for a
/// label no method of the object has (`junk_label`), `TruncatedMessage` when the message is
/// shorter than the method's arguments, `None` when the fuzzer makes no prediction.
pub fn predicted_error(
    arch: Arch,
    obj: Obj,
    label: u64,
    len: u64,
    ncaps: u64,
    junk_label: bool,
) -> Option<Error> {
    if !obj.always_replies() || obj == Obj::Notification {
        return None;
    }
    if junk_label {
        return Some(Error::IllegalOperation);
    }
    let (l, c) = min_args(arch, obj, label)?;
    (len < l || ncaps < c).then_some(Error::TruncatedMessage)
}

/// Whether an error reply with label `error` (1..=10) and message length `len` has the shape
/// seL4 gives it (`seL4_SetMR` words of `current_syscall_error`): InvalidArgument and
/// InvalidCapability name one argument or cap, RangeError gives min and max, NotEnoughMemory
/// the bytes available, FailedLookup a source flag then the lookup failure (type plus 0–3
/// words); the others carry nothing.
pub fn error_reply_shape_ok(error: u64, len: u64) -> bool {
    match error {
        1 | 2 | 10 => len == 1,
        4 => len == 2,
        6 => (2..=5).contains(&len),
        3 | 5 | 7 | 8 | 9 => len == 0,
        _ => false,
    }
}

/// A label that no object has on any architecture (the generic labels end at 38, the arch
/// labels at 61), drawn from `rng`.
pub fn junk_label(rng: &mut Rng) -> u64 {
    match rng.below(3) {
        0 => rng.range(100, 0xfff),
        1 => rng.range(0x1000, 0xf_ffff),
        _ => rng.range(0x10_0000, (1 << 52) - 1),
    }
}

/// I/O ports the fuzzer may write (x86_64): a window no q35 device decodes. Writes elsewhere
/// could stop the machine (isa-debug-exit at 0xf4, reset at 0x64/0xcf9, ACPI sleep).
pub const SAFE_PORTS: (u16, u16) = (0x200, 0x23f);

/// Keeps a message from writing an I/O port outside [`SAFE_PORTS`]: when `label`'s low 20
/// bits are one of `arch`'s `IOPort_Out*` labels (the kernel may truncate the label), the low
/// 16 bits of `mr0` (the port) are moved into the window; other bits stay as they were.
pub fn sanitize_port_write(arch: Arch, label: u64, mr0: u64) -> u64 {
    if arch != Arch::X86_64 {
        return mr0;
    }
    let outs = [
        ArchLabel::IoPortOut8,
        ArchLabel::IoPortOut16,
        ArchLabel::IoPortOut32,
    ];
    let l = label & 0xf_ffff;
    if !outs
        .iter()
        .any(|&o| arch_label(arch, o) == l || arch_label(arch, o) == label & 0xffff)
    {
        return mr0;
    }
    let (lo, hi) = SAFE_PORTS;
    let port = lo as u64 + (mr0 & 0xffff) % (hi - lo + 1) as u64;
    (mr0 & !0xffff) | port
}

/// Parses a decimal number at compile time (the build script passes the seed and call count
/// in decimal).
pub const fn parse_u64(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n: u64 = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "not a decimal number");
        n = n * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_stream_depends_only_on_seed_and_index() {
        let mut x = Rng::for_call(7, 12345);
        let mut y = Rng::for_call(7, 12345);
        for _ in 0..100 {
            assert_eq!(x.next_u64(), y.next_u64());
        }
        let mut z = Rng::for_call(7, 12346);
        let mut w = Rng::for_call(8, 12345);
        let first = Rng::for_call(7, 12345).next_u64();
        assert_ne!(first, z.next_u64());
        assert_ne!(first, w.next_u64());
    }

    #[test]
    fn bounded_draws_stay_in_range_and_cover_it() {
        let mut r = Rng::for_call(1, 0);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let v = r.below(10);
            assert!(v < 10);
            seen[v as usize] = true;
            let w = r.range(5, 7);
            assert!((5..=7).contains(&w));
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn junk_labels_name_no_method() {
        let mut r = Rng::for_call(3, 9);
        for _ in 0..1000 {
            let l = junk_label(&mut r);
            assert!(l >= 100 && l < 1 << 52);
            assert!(Label::from_u64(l).is_none());
            for arch in [Arch::Aarch64, Arch::Riscv64, Arch::X86_64] {
                assert!(sel4_abi::arch_label(arch, l).is_none());
            }
        }
    }

    #[test]
    fn predictions() {
        let a = Arch::Aarch64;
        let retype = Label::UntypedRetype as u64;
        assert_eq!(
            predicted_error(a, Obj::Untyped, retype, 5, 1, false),
            Some(Error::TruncatedMessage)
        );
        assert_eq!(
            predicted_error(a, Obj::Untyped, retype, 6, 0, false),
            Some(Error::TruncatedMessage)
        );
        assert_eq!(predicted_error(a, Obj::Untyped, retype, 6, 1, false), None);
        assert_eq!(
            predicted_error(a, Obj::Tcb, 5000, 0, 0, true),
            Some(Error::IllegalOperation)
        );
        // No prediction where a Call may block or has no error path.
        assert_eq!(predicted_error(a, Obj::Endpoint, 5000, 0, 0, true), None);
        assert_eq!(
            predicted_error(a, Obj::Notification, 5000, 0, 0, true),
            None
        );
        assert_eq!(
            predicted_error(a, Obj::Tcb, Label::TCBSuspend as u64, 0, 0, false),
            None
        );
        let map = arch_label(a, ArchLabel::PageTableMap);
        assert_eq!(
            predicted_error(a, Obj::PageTable, map, 1, 1, false),
            Some(Error::TruncatedMessage)
        );
        // x86-only methods have no truncation rule on other arches.
        let issue = arch_label(Arch::X86_64, ArchLabel::IoPortControlIssue);
        assert_eq!(
            min_args(Arch::X86_64, Obj::IoPortControl, issue),
            Some((4, 1))
        );
        assert_eq!(min_args(Arch::Aarch64, Obj::IoPortControl, issue), None);
    }

    #[test]
    fn port_writes_stay_in_the_safe_window() {
        let x = Arch::X86_64;
        let out8 = arch_label(x, ArchLabel::IoPortOut8);
        let in8 = arch_label(x, ArchLabel::IoPortIn8);
        let mut r = Rng::for_call(5, 5);
        for _ in 0..1000 {
            let mr0 = r.next_u64();
            for label in [out8, out8 | (r.next_u64() << 20)] {
                let p = (sanitize_port_write(x, label, mr0) & 0xffff) as u16;
                assert!(
                    (SAFE_PORTS.0..=SAFE_PORTS.1).contains(&p),
                    "{label:#x} {mr0:#x} -> {p:#x}"
                );
            }
            assert_eq!(sanitize_port_write(x, in8, mr0), mr0);
            assert_eq!(sanitize_port_write(Arch::Aarch64, out8, mr0), mr0);
        }
        assert_eq!(
            sanitize_port_write(x, out8, 0xf4) & 0xffff,
            0x200 + 0xf4 % 0x40
        );
    }

    #[test]
    fn error_reply_shapes() {
        assert!(error_reply_shape_ok(Error::InvalidArgument as u64, 1));
        assert!(!error_reply_shape_ok(Error::InvalidArgument as u64, 0));
        assert!(error_reply_shape_ok(Error::RangeError as u64, 2));
        assert!(error_reply_shape_ok(Error::FailedLookup as u64, 2));
        assert!(error_reply_shape_ok(Error::FailedLookup as u64, 5));
        assert!(!error_reply_shape_ok(Error::FailedLookup as u64, 6));
        assert!(error_reply_shape_ok(Error::TruncatedMessage as u64, 0));
        assert!(!error_reply_shape_ok(Error::DeleteFirst as u64, 1));
        assert!(error_reply_shape_ok(Error::NotEnoughMemory as u64, 1));
        assert!(!error_reply_shape_ok(0, 0) && !error_reply_shape_ok(11, 0));
    }

    #[test]
    fn compile_time_numbers() {
        assert_eq!(parse_u64("0"), 0);
        assert_eq!(parse_u64("18446744073709551615"), u64::MAX);
        assert_eq!(parse_u64("20000"), 20000);
    }

    #[test]
    fn object_codes_round_trip() {
        for (i, o) in Obj::ALL.iter().enumerate() {
            assert_eq!(Obj::from_u8(i as u8), *o);
        }
        assert_eq!(Obj::from_u8(200), Obj::None);
        assert!(Obj::Smc.exists_on(Arch::Aarch64) && !Obj::Smc.exists_on(Arch::X86_64));
    }
}
