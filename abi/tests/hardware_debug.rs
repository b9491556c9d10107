//! `CONFIG_HARDWARE_DEBUG_API` label numbering: Microkit's `debug` configuration builds seL4
//! with it on aarch64 and x86_64, which moves every label from `TCBSetTLSBase` on by four. A
//! PD built for that configuration (libmicrokit's or ours) acks an IRQ with label 31; the
//! numbers below are those of seL4 16.0's generated `invocation.h` for Microkit's
//! `qemu_virt_aarch64` debug kernel.

use sel4_abi::config::KernelConfig;
use sel4_abi::label::{
    arch_label_in, arch_label_number_in, canonical_label, has_hardware_debug_labels, wire_label,
};
use sel4_abi::{Arch, ArchLabel, Label};

#[test]
fn microkit_debug_numbers_labels_with_the_debug_methods_on_arm_and_x86_only() {
    let d = KernelConfig::MICROKIT_DEBUG;
    assert!(has_hardware_debug_labels(Arch::Aarch64, &d));
    assert!(has_hardware_debug_labels(Arch::X86_64, &d));
    assert!(!has_hardware_debug_labels(Arch::Riscv64, &d));
    for c in [KernelConfig::SEL4_DEFAULT, KernelConfig::MICROKIT_RELEASE, KernelConfig::MICROKIT_BENCHMARK] {
        for a in [Arch::Aarch64, Arch::Riscv64, Arch::X86_64] {
            assert!(!has_hardware_debug_labels(a, &c));
        }
    }
}

#[test]
fn wire_numbers_match_sel4s_debug_build() {
    let d = KernelConfig::MICROKIT_DEBUG;
    let a = Arch::Aarch64;
    let w = |l: Label| wire_label(a, &d, l as u64);
    // Unmoved: before the debug methods.
    assert_eq!(w(Label::UntypedRetype), 1);
    assert_eq!(w(Label::TCBWriteRegisters), 3);
    assert_eq!(w(Label::TCBSuspend), 12);
    assert_eq!(w(Label::TCBResume), 13);
    assert_eq!(w(Label::TCBUnbindNotification), 15);
    // Moved by four.
    assert_eq!(w(Label::TCBSetTLSBase), 20);
    assert_eq!(w(Label::TCBSetFlags), 21);
    assert_eq!(w(Label::CNodeRevoke), 22);
    assert_eq!(w(Label::IRQAckIRQ), 31);
    assert_eq!(w(Label::SchedContextYieldTo), 42);
    // Arch labels start at nInvocationLabels = 43; ARMSMCCall is the fifth.
    let smc = arch_label_number_in(a, &d, ArchLabel::SmcCall).unwrap();
    assert_eq!(wire_label(a, &d, smc), 47);
    // Release: seL4's plain numbering.
    assert_eq!(wire_label(a, &KernelConfig::MICROKIT_RELEASE, Label::IRQAckIRQ as u64), 27);
    // RISC-V has no such option: unmoved even in debug.
    assert_eq!(wire_label(Arch::Riscv64, &d, Label::IRQAckIRQ as u64), 27);
}

#[test]
fn kernel_side_undoes_the_shift_and_refuses_the_debug_methods() {
    for (arch, config) in [
        (Arch::Aarch64, KernelConfig::MICROKIT_DEBUG),
        (Arch::X86_64, KernelConfig::MICROKIT_DEBUG),
        (Arch::Riscv64, KernelConfig::MICROKIT_DEBUG),
        (Arch::Aarch64, KernelConfig::SEL4_DEFAULT),
        (Arch::X86_64, KernelConfig::MICROKIT_RELEASE),
    ] {
        for n in 0..80u64 {
            assert_eq!(canonical_label(arch, &config, wire_label(arch, &config, n)), Some(n));
        }
        let shifted = has_hardware_debug_labels(arch, &config);
        for n in 16..20u64 {
            assert_eq!(canonical_label(arch, &config, n).is_none(), shifted, "{arch:?} {n}");
        }
    }
    let d = KernelConfig::MICROKIT_DEBUG;
    assert_eq!(canonical_label(Arch::Aarch64, &d, 31).and_then(Label::from_u64), Some(Label::IRQAckIRQ));
    let smc = canonical_label(Arch::Aarch64, &d, 47).unwrap();
    assert_eq!(arch_label_in(Arch::Aarch64, &d, smc), Some(ArchLabel::SmcCall));
}

#[test]
fn the_option_is_in_the_record_and_settable_by_name() {
    let d = KernelConfig::MICROKIT_DEBUG;
    assert_eq!(KernelConfig::from_words(&d.to_words()), d);
    let off = d.with_option("CONFIG_HARDWARE_DEBUG_API", 0).unwrap();
    assert!(!off.hardware_debug_api);
    assert_eq!(KernelConfig::from_words(&off.to_words()), off);
    assert!(d.options().contains(&("CONFIG_HARDWARE_DEBUG_API", 1)));
}
