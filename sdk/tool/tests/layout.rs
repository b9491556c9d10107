//! Layout computation: cap slots, badges and patched symbols follow libmicrokit's numbering.

use std::path::Path;

use microkit_tool::args::Config;
use microkit_tool::board;
use microkit_tool::layout::{self, slots, CapObject, SymbolValue};

fn load(name: &str, board_name: &str) -> (sdf::SystemDescription, &'static board::Board) {
    let b = board::find(board_name).expect("board");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sdf/tests/fixtures/ok")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    let sys =
        sdf::parse_with_prefill(name, &text, &b.target_config(), &|_| Ok(4096)).expect("valid");
    (sys, b)
}

/// Like `load`, for a kernel with hypervisor support (our boards have none yet).
fn load_hyp(name: &str, board_name: &str) -> (sdf::SystemDescription, &'static board::Board) {
    let b = board::find(board_name).expect("board");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sdf/tests/fixtures/ok")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    let cfg = sdf::TargetConfig {
        hypervisor: true,
        ..b.target_config()
    };
    let sys = sdf::parse_with_prefill(name, &text, &cfg, &|_| Ok(4096)).expect("valid");
    (sys, b)
}

fn word(l: &layout::PdLayout, sym: &str) -> u64 {
    match l.symbols.iter().find(|s| s.symbol == sym).map(|s| &s.value) {
        Some(SymbolValue::Word(w)) => *w,
        other => panic!("{sym}: {other:?}"),
    }
}

#[test]
fn libmicrokit_slot_numbers() {
    assert_eq!(
        (
            slots::INPUT,
            slots::FAULT_EP,
            slots::VSPACE,
            slots::REPLY,
            slots::MONITOR_EP,
            slots::TCB,
            slots::ARM_SMC
        ),
        (1, 2, 3, 4, 5, 6, 7)
    );
    assert_eq!(
        (
            slots::BASE_OUTPUT_NOTIFICATION,
            slots::BASE_ENDPOINT,
            slots::BASE_IRQ,
            slots::BASE_TCB
        ),
        (10, 74, 138, 202)
    );
    assert_eq!(
        (slots::BASE_VM_TCB, slots::BASE_VCPU, slots::BASE_IOPORT),
        (266, 330, 394)
    );
    // Each block of 64 slots holds ids 0..=61 without running into the next block.
    const { assert!(slots::BASE_OUTPUT_NOTIFICATION + sdf::PD_MAX_ID < slots::BASE_ENDPOINT) };
    const { assert!(slots::BASE_IRQ + sdf::PD_MAX_ID < slots::BASE_TCB) };
}

#[test]
fn badges() {
    assert_eq!(layout::notification_badge(5), 0x20);
    assert_eq!(layout::ppc_badge(3), 0x8000_0000_0000_0003);
    assert_eq!(layout::fault_badge(2), 0x4000_0000_0000_0002);
}

#[test]
fn hello_ring_caps_and_symbols() {
    let (sys, b) = load("hello.system", "qemu_virt_aarch64");
    let lay = layout::compute(&sys, b, Config::Debug);
    let producer = &lay.pds[0];
    assert!(!producer.has_endpoint);
    // producer: ch 0 -> consumer (consumer's id 1), ch 1 is notify="false" towards logger.
    let n: Vec<(u64, Option<u64>)> = producer
        .caps
        .iter()
        .filter(|c| matches!(c.object, CapObject::Notification { .. }))
        .map(|c| (c.slot, c.badge))
        .collect();
    assert_eq!(n, [(10, Some(1 << 1))]);
    assert_eq!(word(producer, "microkit_notifications"), 0b01);
    assert_eq!(word(producer, "microkit_pps"), 0);
    assert_eq!(word(producer, "ring_vaddr"), 0x4000_0000);
    assert_eq!(word(producer, "ring_size"), 0x4000);
    let consumer = &lay.pds[1];
    assert_eq!(
        word(consumer, "microkit_notifications"),
        (1 << 1) | (1 << 2)
    );
    assert_eq!(
        producer.symbols[0].value,
        SymbolValue::Bytes(b"producer\0".to_vec())
    );
    assert!(!lay
        .pds
        .iter()
        .any(|p| p.symbols.iter().any(|s| s.symbol == "microkit_ioports")));
}

#[test]
fn children_get_tcb_caps_and_fault_badges() {
    let (sys, b) = load("children.system", "qemu_virt_aarch64");
    let lay = layout::compute(&sys, b, Config::Benchmark);
    let monitor = &lay.pds[0];
    assert!(monitor.has_endpoint);
    let tcbs: Vec<u64> = monitor
        .caps
        .iter()
        .filter(|c| matches!(c.object, CapObject::ChildTcb { .. }))
        .map(|c| c.slot)
        .collect();
    assert_eq!(tcbs, [202 + 1, 202 + 2]);
    assert!(monitor
        .caps
        .iter()
        .any(|c| c.slot == slots::TCB && c.object == CapObject::OwnTcb));
    let worker = &lay.pds[1];
    let fault = worker
        .caps
        .iter()
        .find(|c| c.slot == slots::FAULT_EP)
        .expect("fault ep");
    assert_eq!(
        fault.object,
        CapObject::FaultEndpoint {
            handler: "monitor".into()
        }
    );
    assert_eq!(fault.badge, Some((1 << 62) | 1));
    assert!(
        worker.has_endpoint,
        "worker has a child, so it gets an endpoint"
    );
    let helper = &lay.pds[2];
    assert_eq!(
        helper
            .caps
            .iter()
            .find(|c| c.slot == slots::FAULT_EP)
            .and_then(|c| c.badge),
        Some(layout::fault_badge(0))
    );
    assert_eq!(word(monitor, "worker_id"), 1);
}

#[test]
fn irqs_ioports_and_deferred_values() {
    let (sys, b) = load("uart_driver.system", "qemu_virt_aarch64");
    let lay = layout::compute(&sys, b, Config::Release);
    let uart = &lay.pds[0];
    assert!(uart.caps.iter().any(|c| c.slot == slots::BASE_IRQ + 5));
    assert_eq!(word(uart, "microkit_irqs"), 1 << 5);
    assert_eq!(word(uart, "uart_paddr"), 0x0900_0000);
    assert!(uart.has_endpoint, "uart is a PPC target");

    let (sys, b) = load("all_attributes_x86.system", "x86_64_generic");
    let lay = layout::compute(&sys, b, Config::Debug);
    let drv = &lay.pds[0];
    assert_eq!(word(drv, "microkit_ioports"), (1 << 0) | (1 << 61));
    assert!(drv.caps.iter().any(|c| c.slot == slots::BASE_IOPORT + 61));
    assert_eq!(word(drv, "com1_id"), 0);

    let (sys, b) = load_hyp("all_attributes_arm.system", "qemu_virt_aarch64");
    let lay = layout::compute(&sys, b, Config::Debug);
    let full = &lay.pds[0];
    let deferred = full
        .symbols
        .iter()
        .find(|s| s.symbol == "small_paddr")
        .map(|s| s.value.clone());
    assert!(
        matches!(deferred, Some(SymbolValue::Deferred(_))),
        "{deferred:?}"
    );
    assert!(full.caps.iter().any(|c| c.slot == slots::BASE_VCPU + 1));
    assert!(full.caps.iter().any(|c| c.slot == slots::BASE_VM_TCB));
}
