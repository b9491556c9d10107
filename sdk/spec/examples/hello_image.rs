//! Reference for the `microkit` tool's image stage, wired for `microkit-hello`: reads the PD
//! ELFs and the initialiser ELF, patches libmicrokit's symbols and setvars, builds the spec,
//! and attaches it to the initialiser. Usage:
//!   cargo run -p microkit-spec --example hello_image -- <aarch64|riscv64|x86_64> <dir>
//! where <dir> holds client.elf server.elf reader.elf driver.elf initialiser.elf; writes
//! <dir>/initialiser-system.elf.

use std::{env, fs, path::Path, process::exit};

use microkit_spec::layout::symbols as S;
use microkit_spec::microkit::*;
use microkit_spec::{elf, encode, Arch, IrqSource, Trigger};

fn die(msg: String) -> ! {
    eprintln!("hello_image: {msg}");
    exit(1)
}

fn main() {
    let args: Vec<String> = env::args().collect();
    let (arch, dir) = match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("aarch64"), Some(d)) => (Arch::Aarch64, d),
        (Some("riscv64"), Some(d)) => (Arch::Riscv64, d),
        (Some("x86_64"), Some(d)) => (Arch::X86_64, d),
        _ => die("usage: hello_image <aarch64|riscv64|x86_64> <dir>".into()),
    };
    let dir = Path::new(dir);
    let read = |n: &str| fs::read(dir.join(n)).unwrap_or_else(|e| die(format!("{n}: {e}")));
    // (name, priority, passive, notification bits, pp bits, irq bits, setvars)
    let shared_va = 0x400_0000u64;
    let rtc_va = 0x500_0000u64;
    let pds: [(&str, u8, bool, u64, u64, u64, &[(&str, u64)]); 4] = [
        ("server", 200, true, 1, 0, 0, &[]),
        ("driver", 150, false, 0, 0, 1, &[("rtc_vaddr", rtc_va)]),
        ("client", 100, false, 0b11, 1, 0, &[("shared_vaddr", shared_va)]),
        ("reader", 90, false, 1, 0, 0, &[("shared_vaddr", shared_va)]),
    ];
    let mut inputs = Vec::new();
    for (name, prio, passive, ntfn, pps, irqs, setvars) in pds {
        let mut e = read(&format!("{name}.elf"));
        let mut nm = name.as_bytes().to_vec();
        nm.push(0);
        let patch = |e: &mut Vec<u8>, s: &str, v: &[u8]| elf::patch_symbol(e, s, v).unwrap_or_else(|err| die(format!("{name}: {s}: {err:?}")));
        patch(&mut e, S::NAME, &nm);
        patch(&mut e, S::PASSIVE, &[passive as u8]);
        patch(&mut e, S::NOTIFICATIONS, &ntfn.to_le_bytes());
        patch(&mut e, S::PPS, &pps.to_le_bytes());
        patch(&mut e, S::IRQS, &irqs.to_le_bytes());
        for (s, v) in setvars {
            // The x86 driver uses I/O ports, not a mapped RTC.
            if !(arch == Arch::X86_64 && *s == "rtc_vaddr") {
                patch(&mut e, s, &v.to_le_bytes());
            }
        }
        // Microkit 2.3: the top user page, unless the ELF still has the pre-2.3 symbol.
        let ipc = elf::symbol(&e, S::IPC_BUFFER).map_or(microkit_spec::microkit::ipc_buffer(arch), |s| s.0);
        let mut pd = PdInput {
            name: name.into(),
            priority: prio,
            budget: 1000,
            period: 1000,
            passive,
            cpu: 0,
            stack_size: 0x2000,
            entry: elf::entry(&e).unwrap(),
            ipc_buffer_vaddr: ipc,
            segments: elf::segment_inputs(&e).unwrap(),
            maps: vec![],
            irqs: vec![],
            ioports: vec![],
            smc: false,
            parent: None,
        };
        match name {
            "client" => pd.maps.push(MapInput { region: 0, vaddr: shared_va, read: true, write: true, execute: false, cached: true }),
            "reader" => pd.maps.push(MapInput { region: 0, vaddr: shared_va, read: true, write: false, execute: false, cached: true }),
            "driver" => match arch {
                Arch::Aarch64 | Arch::Riscv64 => {
                    pd.maps.push(MapInput { region: 1, vaddr: rtc_va, read: true, write: true, execute: false, cached: false });
                    let irq = if arch == Arch::Aarch64 { 34 } else { 11 };
                    pd.irqs.push(IrqInput { id: 0, source: IrqSource::Plain { irq, trigger: Trigger::Level } });
                }
                Arch::X86_64 => {
                    pd.ioports.push(IoPortInput { id: 0, addr: 0x70, size: 2 });
                    pd.irqs.push(IrqInput { id: 0, source: IrqSource::IoApic { ioapic: 0, pin: 8, level: 0, polarity: 0, vector: 8 } });
                }
            },
            _ => {}
        }
        inputs.push(pd);
    }
    let rtc = match arch {
        Arch::Aarch64 => Some(0x901_0000),
        Arch::Riscv64 => Some(0x10_1000),
        Arch::X86_64 => None,
    };
    let mut regions = vec![RegionInput { name: "shared".into(), size: 0x1000, page_bits: 12, paddr: None, bootinfo: None, receive_untypeds: false }];
    if let Some(p) = rtc {
        regions.push(RegionInput { name: "rtc".into(), size: 0x1000, page_bits: 12, paddr: Some(p), bootinfo: None, receive_untypeds: false });
    }
    let end = |pd, id, pp| EndInput { pd, id, notify: true, pp };
    let system = SystemInput {
        arch,
        pds: inputs,
        regions,
        channels: vec![ChannelInput { a: end(2, 0, true), b: end(0, 0, false) }, ChannelInput { a: end(2, 1, false), b: end(3, 0, false) }],
    };
    let (spec, data) = build(&system).unwrap_or_else(|e| die(format!("build: {e:?}")));
    let blob = encode(&spec, &data);
    let init = read("initialiser.elf");
    let (out, vaddr) = elf::attach_system(&init, &blob).unwrap_or_else(|e| die(format!("attach: {e:?}")));
    // Read it back the way the initialiser will: MICROKIT_SYSTEM -> (vaddr, len) -> decode.
    let (sym, _) = elf::symbol(&out, S::SYSTEM).unwrap();
    let segs = elf::segments(&out).unwrap();
    let at = |va: u64, n: usize| {
        let s = segs.iter().find(|s| va >= s.vaddr && va + n as u64 <= s.vaddr + s.file_size).expect("in a segment");
        &out[(s.offset + va - s.vaddr) as usize..][..n]
    };
    let words = at(sym, 16);
    let (va, len) = (u64::from_le_bytes(words[..8].try_into().unwrap()), u64::from_le_bytes(words[8..].try_into().unwrap()));
    let (back, _) = microkit_spec::decode(at(va, len as usize)).unwrap_or_else(|e| die(format!("read back: {e:?}")));
    assert_eq!(back, spec);
    let path = dir.join("initialiser-system.elf");
    fs::write(&path, &out).unwrap_or_else(|e| die(format!("{}: {e}", path.display())));
    println!(
        "hello_image: {} objects, {} caps, {} mappings, {} data bytes; blob {} bytes at {vaddr:#x} -> {}",
        spec.objects.len(),
        spec.caps.len(),
        spec.mappings.len(),
        data.len(),
        blob.len(),
        path.display()
    );
}
