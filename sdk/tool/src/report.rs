//! Report stage: a plain-text description of the validated system and its layout.

use std::fmt::Write as _;

use sdf::{IrqSource, SystemDescription, Trigger};

use crate::args::Config;
use crate::board::Board;
use crate::layout::{self, CapObject, SymbolValue, SystemLayout};

fn trigger(t: Trigger) -> &'static str {
    match t {
        Trigger::Level => "level",
        Trigger::Edge => "edge",
    }
}

fn irq_text(s: &IrqSource) -> String {
    match s {
        IrqSource::Line { irq, trigger: t } => format!("irq {irq} ({})", trigger(*t)),
        IrqSource::IoApic {
            ioapic,
            pin,
            trigger: t,
            polarity,
            vector,
        } => {
            format!(
                "ioapic {ioapic} pin {pin} ({}, {polarity:?} active) -> vector {vector}",
                trigger(*t)
            )
        }
        IrqSource::Msi {
            bus,
            device,
            function,
            handle,
            vector,
        } => {
            format!("msi pci {bus:02x}:{device:02x}.{function} handle {handle} -> vector {vector}")
        }
    }
}

fn object_text(o: &CapObject) -> String {
    match o {
        CapObject::OwnEndpoint => "own endpoint (input)".into(),
        CapObject::OwnNotification => "own notification (input)".into(),
        CapObject::Reply => "reply object".into(),
        CapObject::FaultEndpoint { handler } => format!("fault endpoint -> {handler}"),
        CapObject::OwnTcb => "own TCB".into(),
        CapObject::ArmSmc => "Arm SMC".into(),
        CapObject::Notification { pd } => format!("notification of '{pd}'"),
        CapObject::Endpoint { pd } => format!("endpoint of '{pd}' (PPC)"),
        CapObject::IrqHandler { source } => format!("IRQ handler for {}", irq_text(source)),
        CapObject::ChildTcb { pd } => format!("TCB of child '{pd}'"),
        CapObject::VmTcb { vm, vcpu } => format!("TCB of '{vm}' vCPU {vcpu}"),
        CapObject::Vcpu { vm, vcpu } => format!("vCPU {vcpu} of '{vm}'"),
        CapObject::IoPort { addr, size } => format!("I/O ports [{addr:#x}, {:#x})", addr + size),
    }
}

fn value_text(v: &SymbolValue) -> String {
    match v {
        SymbolValue::Bytes(b) => format!(
            "{:?}",
            String::from_utf8_lossy(b.strip_suffix(&[0]).unwrap_or(b))
        ),
        SymbolValue::Bool(b) => b.to_string(),
        SymbolValue::Word(w) => format!("{w:#x}"),
        SymbolValue::Deferred(what) => format!("<{what}, set when the image is built>"),
    }
}

/// Renders the report.
pub fn render(
    system_file: &str,
    sys: &SystemDescription,
    lay: &SystemLayout,
    board: &Board,
    config: Config,
) -> String {
    let mut o = String::new();
    // Writing to a String cannot fail; the results are ignored on purpose below.
    let _ = writeln!(o, "# Microkit system report");
    let _ = writeln!(o, "system file: {system_file}");
    let _ = writeln!(
        o,
        "board: {} ({}), config: {}",
        board.name,
        board.arch.name(),
        config.name()
    );
    let _ = writeln!(o, "user address space top: {:#x}", board.user_top);
    for r in board.ram {
        let _ = writeln!(
            o,
            "ram: [{:#x}, {:#x}) ({})",
            r.base,
            r.base + r.size,
            board.ram_note
        );
    }
    let _ = writeln!(o, "uart: {}", board.uart);
    for w in &sys.warnings {
        let _ = writeln!(o, "{w}");
    }

    let _ = writeln!(o, "\n## Memory regions ({})", sys.memory_regions.len());
    for mr in &sys.memory_regions {
        let pa = mr
            .phys_addr
            .map_or("allocated at build".to_string(), |p| format!("{p:#x}"));
        let _ = writeln!(
            o,
            "{}: size {:#x}, page size {:#x}{}, {} page(s), phys {}{}",
            mr.name,
            mr.size,
            mr.page_size,
            if mr.page_size_explicit {
                ""
            } else {
                " (chosen)"
            },
            mr.page_count(),
            pa,
            mr.prefill_path
                .as_ref()
                .map_or(String::new(), |p| format!(", prefilled from '{p}'"))
        );
    }

    let _ = writeln!(
        o,
        "\n## Protection domains ({})",
        sys.protection_domains.len()
    );
    for (i, (pd, pl)) in sys.protection_domains.iter().zip(&lay.pds).enumerate() {
        let _ = writeln!(o, "\n### {} (index {i})", pd.name);
        let _ = writeln!(
            o,
            "priority {}, budget {} us, period {} us, passive {}, stack {:#x}, cpu {}, fpu {}, smc {}",
            pd.priority, pd.budget, pd.period, pd.passive, pd.stack_size, pd.cpu, pd.fpu, pd.smc
        );
        let _ = writeln!(o, "program image: {}", pd.program_image);
        if let (Some(p), Some(id)) = (pd.parent, pd.child_id) {
            let _ = writeln!(
                o,
                "child {id} of '{}'; its faults reach the parent with badge {:#x}",
                sys.protection_domains[p].name,
                layout::fault_badge(id)
            );
        }
        let _ = writeln!(
            o,
            "input object: {}",
            if pl.has_endpoint {
                "endpoint (notification bound)"
            } else {
                "notification"
            }
        );
        let _ = writeln!(o, "channels:");
        for ch in &sys.channels {
            for (me, other) in [(&ch.end_a, &ch.end_b), (&ch.end_b, &ch.end_a)] {
                if me.pd != i {
                    continue;
                }
                let mut rx = Vec::new();
                if other.notify {
                    rx.push(format!(
                        "notifications arrive with badge {:#x}",
                        layout::notification_badge(me.id)
                    ));
                }
                if other.pp {
                    rx.push(format!(
                        "PPCs arrive with badge {:#x}",
                        layout::ppc_badge(me.id)
                    ));
                }
                let mut tx = Vec::new();
                if me.notify {
                    tx.push("may notify");
                }
                if me.pp {
                    tx.push("may PPC");
                }
                let _ = writeln!(
                    o,
                    "  ch {:>2} <-> '{}' (its id {}): {}; {}",
                    me.id,
                    sys.protection_domains[other.pd].name,
                    other.id,
                    if tx.is_empty() {
                        "sends nothing".to_string()
                    } else {
                        tx.join(", ")
                    },
                    if rx.is_empty() {
                        "receives nothing".to_string()
                    } else {
                        rx.join(", ")
                    }
                );
            }
        }
        let _ = writeln!(o, "irqs:");
        for irq in &pd.irqs {
            let _ = writeln!(
                o,
                "  ch {:>2}: {}, badge {:#x}",
                irq.id,
                irq_text(&irq.source),
                layout::notification_badge(irq.id)
            );
        }
        for p in &pd.ioports {
            let _ = writeln!(
                o,
                "  ioport {}: [{:#x}, {:#x})",
                p.id,
                p.addr,
                p.addr + p.size
            );
        }
        let _ = writeln!(o, "maps:");
        for m in &pd.maps {
            let (size, ps) = sys
                .memory_region(&m.mr)
                .map_or((0, 0), |r| (r.size, r.page_size));
            let _ = writeln!(
                o,
                "  {:#018x}..{:#018x} {} {} '{}' (page size {ps:#x})",
                m.vaddr,
                m.vaddr + size,
                m.perms,
                if m.cached { "cached  " } else { "uncached" },
                m.mr
            );
        }
        if let Some(vm) = &pd.virtual_machine {
            let _ = writeln!(
                o,
                "virtual machine '{}': priority {}, budget {} us, period {} us, {} vCPU(s), {} map(s)",
                vm.name,
                vm.priority,
                vm.budget,
                vm.period,
                vm.vcpus.len(),
                vm.maps.len()
            );
        }
        let _ = writeln!(o, "cap slots:");
        for c in &pl.caps {
            let badge = c.badge.map_or(String::new(), |b| format!(" badge {b:#x}"));
            let _ = writeln!(o, "  {:>3}: {}{badge}", c.slot, object_text(&c.object));
        }
        let _ = writeln!(o, "patched symbols:");
        for s in &pl.symbols {
            let _ = writeln!(o, "  {} = {}", s.symbol, value_text(&s.value));
        }
    }
    o
}
