//! Host tests: the ARM VCPU encoders for a kernel with hypervisor support (`docs/hyp.md`):
//! labels 55..=59 (after `ARMASIDPoolAssign`) and `InjectIRQ`'s packed MR0. A test binary of
//! its own: it switches the crate's global kernel configuration.

use sel4_sys::abi::Arch;
use sel4_sys::invocation as inv;

#[test]
fn vcpu_methods_exist_only_with_hypervisor_support_and_pack_their_words() {
    let plain = sel4_sys::config::KernelConfig {
        hypervisor: false,
        ..sel4_sys::config::KernelConfig::SEL4_DEFAULT
    };
    sel4_sys::set_kernel_config(&plain);
    assert!(inv::vcpu_set_tcb(Arch::Aarch64, 5).is_err());
    assert!(inv::vcpu_inject_irq(Arch::Aarch64, 27, 0, 0, 0).is_err());
    let hyp = sel4_sys::config::KernelConfig {
        hypervisor: true,
        ..plain
    };
    sel4_sys::set_kernel_config(&hyp);
    let set = inv::vcpu_set_tcb(Arch::Aarch64, 5).unwrap();
    assert_eq!((set.label, set.caps[0], set.ncaps, set.args().len()), (55, 5, 1, 0));
    let irq = inv::vcpu_inject_irq(Arch::Aarch64, 0x3ff, 31, 1, 3).unwrap();
    assert_eq!(irq.label, 56);
    assert_eq!(irq.args(), &[0x3ff | 31 << 16 | 1 << 24 | 3 << 32]);
    let read = inv::vcpu_read_reg(Arch::Aarch64, 15).unwrap();
    assert_eq!((read.label, read.args()), (57, &[15u64][..]));
    let write = inv::vcpu_write_reg(Arch::Aarch64, 14, 0x4000_0800).unwrap();
    assert_eq!((write.label, write.args()), (58, &[14, 0x4000_0800][..]));
    let ack = inv::vcpu_ack_vppi(Arch::Aarch64, 27).unwrap();
    assert_eq!((ack.label, ack.args()), (59, &[27u64][..]));
    assert!(inv::vcpu_set_tcb(Arch::Riscv64, 5).is_err(), "aarch64 only");
}
