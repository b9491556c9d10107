//! Report stage: a plain-text description of the validated system and its layout.

use std::fmt::Write as _;

use sdf::{IrqSource, SystemDescription, Trigger};

use crate::args::Config;
use crate::board::Board;
use crate::layout::{self, CapObject, SymbolValue, SystemLayout};
use microkit_spec::layout as mk;

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
        CapObject::OwnVspace => "own VSpace".into(),
        CapObject::MonitorEndpoint => "monitor endpoint (passive init done)".into(),
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
        SymbolValue::Deferred(what) => format!("<{what}>"),
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
    if config.is_smp() {
        let _ = writeln!(
            o,
            "multicore kernel: {} cores (CONFIG_MAX_NUM_NODES); each PD runs on the core its cpu attribute names (the initialiser configures its SC through that core's SchedControl cap; only the AArch64 multicore kernel runs threads on cores other than 0 yet)",
            board.cores(config)
        );
    }
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
            .map_or("allocated by the initialiser at boot".to_string(), |p| {
                format!("{p:#x}")
            });
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
                + &mr.prefill_bootinfo.map_or(String::new(), |k| {
                    format!(", filled at boot with boot info '{}' (id {})", k.name(), k.id())
                })
                + if mr.receive_all_untypeds {
                    ", receives the untyped description"
                } else {
                    ""
                }
        );
    }

    if let Some(d) = &sys.domains {
        let _ = writeln!(o, "\n## Scheduling domains ({})", d.domains.len());
        for x in &d.domains {
            let _ = writeln!(o, "domain '{}': id {}", x.name, x.id);
        }
        let _ = writeln!(
            o,
            "schedule ({} entries, start index {}, index shift {}; durations in kernel ticks = us):",
            d.schedule.len(),
            d.start_index,
            d.index_shift
        );
        for (i, e) in d.schedule.iter().enumerate() {
            let at = d.index_shift + i as u64;
            match e.duration {
                sdf::domains::Duration::EndMarker => {
                    let _ = writeln!(o, "  [{at}] end marker");
                }
                dur => {
                    let _ = writeln!(o, "  [{at}] domain {} for {}", e.domain, dur.kernel_ticks());
                }
            }
        }
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
        if pd.template {
            let _ = writeln!(
                o,
                "template: no program image; starts at address 0 (its first fault goes to the parent, which loads code and restarts it)"
            );
        } else {
            let _ = writeln!(o, "program image: {}", pd.program_image);
        }
        if let Some(d) = &pd.domain {
            let _ = writeln!(o, "scheduling domain: '{}' (id {})", d.name, d.id);
        }
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
        if !pd.cspace.is_empty() {
            let _ = writeln!(
                o,
                "extra caps (root CNode of {} slots; slot 0 = the CNode above; cptr = slot << {}):",
                1u64 << mk::PD_ROOT_CAP_BITS,
                mk::USER_CNODE_DEPTH
            );
            for u in &pd.cspace {
                let what = match u.kind {
                    sdf::UserCapKind::Tcb => "TCB of PD",
                    sdf::UserCapKind::Sc => "scheduling context of PD",
                    sdf::UserCapKind::VSpace => "VSpace of PD",
                    sdf::UserCapKind::PdCSpace => "CSpace root of PD",
                    sdf::UserCapKind::CNode => "shared cnode",
                };
                let _ = writeln!(
                    o,
                    "  {:>3}: {what} '{}' (cptr {:#x})",
                    u.slot,
                    u.target,
                    mk::cspace_slot_to_cptr(u.slot)
                );
            }
        }
        let _ = writeln!(o, "patched symbols:");
        for s in &pl.symbols {
            let _ = writeln!(o, "  {} = {}", s.symbol, value_text(&s.value));
        }
    }
    o
}

fn kind_text(spec: &microkit_spec::Spec, k: &microkit_spec::ObjectKind) -> String {
    use microkit_spec::{IrqSource as S, ObjectKind as K};
    let name = |id: u32| {
        spec.objects
            .get(id as usize)
            .map_or("?", |o| o.name.as_str())
    };
    match k {
        K::CNode { radix } => format!("cnode, {} slots", 1u64 << radix),
        K::SchedContext {
            size_bits,
            budget,
            period,
            badge,
            ..
        } => format!(
            "sched_context, {} bytes, budget {budget} us, period {period} us, badge {badge:#x}",
            1u64 << size_bits
        ),
        K::Frame {
            size_bits,
            paddr,
            fill,
        } => {
            let filled: u64 = fill.iter().map(|f| f.len).sum();
            format!(
                "frame, {:#x} bytes{}{}",
                1u64 << size_bits,
                paddr.map_or(String::new(), |p| format!(", paddr {p:#x}")),
                if filled > 0 {
                    format!(", {filled:#x} bytes filled")
                } else {
                    String::new()
                }
            )
        }
        K::Irq {
            source,
            notification,
        } => {
            let src = match source {
                S::Plain { irq, trigger } => format!("irq {irq} ({trigger:?})"),
                S::IoApic {
                    ioapic,
                    pin,
                    level,
                    polarity,
                    vector,
                } => format!(
                    "ioapic {ioapic} pin {pin} level {level} polarity {polarity} vector {vector}"
                ),
                S::Msi {
                    bus,
                    dev,
                    func,
                    handle,
                    vector,
                } => format!("msi {bus:02x}:{dev:02x}.{func} handle {handle} vector {vector}"),
            };
            match notification {
                Some((n, b)) => format!("irq handler, {src} -> '{}' badge {b:#x}", name(*n)),
                None => format!("irq handler, {src}"),
            }
        }
        K::IoPort { first, last } => format!("ioport [{first:#x}, {last:#x}]"),
        other => other.name().to_string(),
    }
}

fn rights_text(r: u8) -> String {
    use microkit_spec::rights as R;
    let mut s = String::new();
    for (bit, c) in [
        (R::READ, 'R'),
        (R::WRITE, 'W'),
        (R::GRANT, 'G'),
        (R::GRANT_REPLY, 'P'),
    ] {
        s.push(if r & bit != 0 { c } else { '-' });
    }
    s
}

/// Renders the build half of the report: SDK files, every object, every cap per PD, every
/// mapping per PD, the PD threads, the patched symbols and the image's memory layout.
pub fn render_build(
    built: &crate::spec::Built,
    img: &crate::image::ImageLayout,
    files: &crate::sdk::SdkFiles,
    output: &std::path::Path,
) -> String {
    let spec = &built.spec;
    let mut o = String::new();
    let name = |id: u32| {
        spec.objects
            .get(id as usize)
            .map_or("?", |o| o.name.as_str())
    };
    let _ = writeln!(o, "\n## SDK");
    let _ = writeln!(
        o,
        "kernel: {}",
        files
            .kernel
            .as_ref()
            .map_or("(not part of the image on x86_64)".to_string(), |p| p
                .display()
                .to_string())
    );
    let _ = writeln!(o, "initialiser: {}", files.initialiser.display());

    let _ = writeln!(o, "\n## Objects ({})", spec.objects.len());
    for (i, ob) in spec.objects.iter().enumerate() {
        let _ = writeln!(o, "{i:>5} {:<28} {}", ob.name, kind_text(spec, &ob.kind));
    }
    let _ = writeln!(
        o,
        "data blob: {:#x} bytes (ELF segment and prefill contents)",
        built.data.len()
    );
    let _ = writeln!(
        o,
        "monitor endpoint (served by the initialiser): {}",
        spec.fault_ep.map_or("none", name)
    );
    for f in &spec.bootinfo_fills {
        let frames: Vec<&str> = f.frames.iter().map(|x| name(*x)).collect();
        let _ = writeln!(o, "boot info chunk {} copied into: {}", f.id, frames.join(", "));
    }
    if let Some(h) = &spec.untyped_handoff {
        let frames: Vec<&str> = h.frames.iter().map(|x| name(*x)).collect();
        let _ = writeln!(
            o,
            "untyped handoff: remaining untypeds moved to '{}' from slot {} (cptr {:#x}), described in {}",
            name(h.cnode),
            h.first_slot,
            h.cptr,
            frames.join(", ")
        );
    }

    let _ = writeln!(o, "\n## PD threads (start order: {})", {
        let v: Vec<&str> = spec
            .start_order
            .iter()
            .filter_map(|&i| spec.pds.get(i as usize).map(|p| p.name.as_str()))
            .collect();
        v.join(", ")
    });
    for (p, prog) in spec.pds.iter().zip(&built.programs) {
        let _ = writeln!(o, "\n### {}", p.name);
        let _ = writeln!(o, "program: {}", prog.path.display());
        let _ = writeln!(
            o,
            "tcb '{}', cspace '{}' (guard {}), vspace '{}', sc {}, bound notification {}",
            name(p.tcb),
            name(p.cspace),
            p.cspace_guard_size,
            name(p.vspace),
            p.sc.map_or("none", name),
            p.bound_notification.map_or("none", name)
        );
        let _ = writeln!(
            o,
            "priority {}, mcp {}, entry {:#x}, sp {:#x}, ipc buffer {:#x} ('{}'), passive {}, fault ep {}",
            p.priority,
            p.mcp,
            p.entry,
            p.sp,
            p.ipc_buffer.0,
            name(p.ipc_buffer.1),
            p.passive,
            p.fault_ep
                .map_or("none".to_string(), |(e, b)| format!("'{}' badge {b:#x}", name(e)))
        );
        let _ = writeln!(o, "patched symbols:");
        for (sym, addr, bytes) in &prog.patched {
            let val = if bytes.len() == 8 {
                format!(
                    "{:#x}",
                    u64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8]))
                )
            } else if bytes.len() == 1 {
                format!("{}", bytes[0])
            } else {
                format!(
                    "{:?}",
                    String::from_utf8_lossy(bytes.split(|&b| b == 0).next().unwrap_or(&[]))
                )
            };
            let _ = writeln!(o, "  {sym} @ {addr:#x} ({} bytes) = {val}", bytes.len());
        }
        // A PD with extra caps has a root CNode whose slot 0 holds its Microkit CNode.
        let microkit_cnode = spec
            .caps
            .iter()
            .find(|c| {
                c.cnode == p.cspace
                    && c.slot == mk::MICROKIT_CNODE_SLOT
                    && c.cap.badge == mk::MICROKIT_CNODE_GUARD_BITS
                    && matches!(
                        spec.objects.get(p.cspace as usize).map(|ob| &ob.kind),
                        Some(microkit_spec::ObjectKind::CNode { radix }) if u64::from(*radix) == mk::PD_ROOT_CAP_BITS
                    )
            })
            .map_or(p.cspace, |c| c.cap.object);
        let mut listed = vec![("caps", microkit_cnode)];
        if microkit_cnode != p.cspace {
            listed.push(("root CNode caps (cptr = slot << 58)", p.cspace));
        }
        for (title, cnode) in listed {
            let mut caps: Vec<_> = spec.caps.iter().filter(|c| c.cnode == cnode).collect();
            caps.sort_by_key(|c| c.slot);
            let _ = writeln!(o, "{title} ({}):", caps.len());
            for c in caps {
                let kind = spec
                    .objects
                    .get(c.cap.object as usize)
                    .map_or("?", |ob| ob.kind.name());
                let _ = writeln!(
                    o,
                    "  slot {:>3}: {kind} '{}' rights {}{}",
                    c.slot,
                    name(c.cap.object),
                    rights_text(c.cap.rights),
                    if kind == "cnode" {
                        format!(" guard bits {}", c.cap.badge)
                    } else if c.cap.badge != 0 {
                        format!(" badge {:#x}", c.cap.badge)
                    } else {
                        String::new()
                    }
                );
            }
        }
        let maps: Vec<_> = spec
            .mappings
            .iter()
            .filter(|m| m.vspace == p.vspace)
            .collect();
        let _ = writeln!(o, "mappings ({}):", maps.len());
        for m in maps {
            let (size, paddr) = match spec.objects.get(m.frame as usize).map(|f| &f.kind) {
                Some(microkit_spec::ObjectKind::Frame {
                    size_bits, paddr, ..
                }) => (1u64 << size_bits, *paddr),
                _ => (0, None),
            };
            let _ = writeln!(
                o,
                "  {:#018x}..{:#018x} {}{}{} {} '{}'{}",
                m.vaddr,
                m.vaddr + size,
                if m.read { "r" } else { "-" },
                if m.write { "w" } else { "-" },
                if m.execute { "x" } else { "-" },
                if m.cached { "cached  " } else { "uncached" },
                name(m.frame),
                paddr.map_or(String::new(), |p| format!(" paddr {p:#x}"))
            );
        }
    }

    let _ = writeln!(o, "\n## Image");
    let _ = writeln!(
        o,
        "file: {} ({:#x} bytes)",
        output.display(),
        img.image_size
    );
    let _ = writeln!(o, "kind: {}", img.kind);
    let _ = writeln!(o, "format (--image-type): {}", img.format.name());
    let _ = writeln!(o, "boot: {}", crate::format::boot_hint(img.format, &img.kernel));
    let seg = |o: &mut String, s: &crate::image::SegmentInfo| {
        let _ = writeln!(
            o,
            "  vaddr {:#018x} paddr {:#018x} filesz {:#10x} memsz {:#10x} {}",
            s.vaddr, s.paddr, s.filesz, s.memsz, s.perms
        );
    };
    if !img.kernel.is_empty() {
        let _ = writeln!(o, "kernel segments:");
        for s in &img.kernel {
            seg(&mut o, s);
        }
    }
    if let Some((pa, len)) = img.payload {
        let _ = writeln!(
            o,
            "boot payload (holds the initialiser): paddr [{pa:#x}, {:#x}), {len:#x} bytes",
            pa + len
        );
    }
    let _ = writeln!(o, "initialiser segments (the last holds the system):");
    for s in &img.initialiser {
        seg(&mut o, s);
    }
    let _ = writeln!(
        o,
        "system blob: vaddr [{:#x}, {:#x}), {:#x} bytes (MICROKIT_SYSTEM)",
        img.system.0,
        img.system.0 + img.system.1,
        img.system.1
    );
    o
}
