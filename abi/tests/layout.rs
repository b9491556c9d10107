//! Round-trip and layout tests for the ABI encodings.

use sel4_abi::bootinfo::{offsets, BootInfo, UntypedDesc};
use sel4_abi::object::*;
use sel4_abi::{CNodeCapData, CapRights, MessageInfo};

#[test]
fn message_info_packing() {
    let m = MessageInfo::new(0x1234, 5, 2, 100);
    let w = m.to_word();
    assert_eq!(w, (0x1234 << 12) | (5 << 9) | (2 << 7) | 100);
    assert_eq!(MessageInfo::from_word(w), m);
    assert_eq!(MessageInfo::from_word_clamped(127).length, 120);
    assert_eq!(MessageInfo::from_word_clamped(120).length, 120);
    assert_eq!(MessageInfo::from_word(u64::MAX).label, (1 << 52) - 1);
}

#[test]
fn rights_and_capdata() {
    let r = CapRights::new(true, false, true, false);
    assert_eq!(r.0, 0b1010);
    assert!(r.read() && r.grant_reply() && !r.write() && !r.grant());
    assert!(CapRights(2).is_subset_of(r));
    let d = CNodeCapData::from_word((0x55 << 6) | 7);
    assert_eq!((d.guard, d.guard_size), (0x55, 7));
    assert_eq!(d.to_word(), (0x55 << 6) | 7);
}

#[test]
fn object_tables() {
    use sel4_abi::Arch::*;
    assert_eq!(
        object_type(Aarch64, 9),
        Some(ObjectKind::Frame { size_bits: 12 })
    );
    assert_eq!(object_type(Aarch64, 8), Some(ObjectKind::VSpace));
    assert_eq!(
        object_type(Riscv64, 8),
        Some(ObjectKind::Frame { size_bits: 12 })
    );
    assert_eq!(object_type(Riscv64, 10), Some(ObjectKind::PageTable));
    assert_eq!(
        object_type(X86_64, 10),
        Some(ObjectKind::Frame { size_bits: 12 })
    );
    assert_eq!(object_type(X86_64, 13), Some(ObjectKind::X86PageDirectory));
    assert_eq!(object_type_count(Aarch64), 12);
    assert_eq!(object_type_count(Riscv64), 11);
    assert_eq!(object_type_count(X86_64), 15);
    for a in [Aarch64, Riscv64, X86_64] {
        for n in 0..object_type_count(a) {
            let k = object_type(a, n).unwrap();
            assert_eq!(object_type_number(a, k), Some(n));
        }
        assert_eq!(object_type(a, object_type_count(a)), None);
    }
    assert_eq!(sched_context_refills(7), 2);
    assert_eq!(sched_context_refills(8), 10);
}

#[test]
fn bootinfo_bytes_roundtrip() {
    let mut bi = BootInfo {
        ipc_buffer: 0x1000,
        ..BootInfo::default()
    };
    bi.schedcontrol.start = 20;
    bi.untyped.end = 44;
    bi.untyped_list[3] = UntypedDesc {
        paddr: 0x4000_0000,
        size_bits: 20,
        is_device: 1,
        padding: [0; 6],
    };
    let mut b = [0u8; BootInfo::SIZE];
    bi.to_bytes(&mut b);
    assert_eq!(u64::from_le_bytes(b[152..160].try_into().unwrap()), 20);
    assert_eq!(b[offsets::UNTYPED_LIST + 3 * 16 + 8], 20);
    assert_eq!(BootInfo::from_bytes(&b), bi);
}
