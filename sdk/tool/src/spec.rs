//! Spec stage: turns the validated system description, the board and the PD ELFs into the
//! `microkit-spec` system the initialiser applies (objects, caps at libmicrokit's slots with
//! Microkit's badges, mappings, frame fills, PD threads).
//!
//! The object and cap conventions are `microkit_spec::microkit::build`'s; this stage supplies
//! its input (PD segments with the patched symbols, memory regions, channels, IRQs, I/O
//! ports, parents) and adds what depends on the tool's options: memory-region prefill data
//! and, in the benchmark configuration, each PD's own TCB cap.

use std::path::PathBuf;

use microkit_spec::microkit::{
    self as mk, ChannelInput, EndInput, IoPortInput, IrqInput, MapInput, PdInput, RegionInput,
    SystemInput,
};
use microkit_spec::{rights, Cap, CapSlot, Fill, IrqSource as SpecIrq, ObjectKind, Spec, Trigger};
use sdf::{Arch, IrqSource, Polarity, SystemDescription};

use crate::args::Config;
use crate::board::Board;
use crate::error::ToolError;
use crate::layout::{slots, SystemLayout};
use crate::program::{self, Program};
use crate::system::find_file;

/// The built system.
#[derive(Debug, Clone)]
pub struct Built {
    /// The spec.
    pub spec: Spec,
    /// The data blob its frame fills refer to.
    pub data: Vec<u8>,
    /// The PD programs, in PD order.
    pub programs: Vec<Program>,
}

/// The spec's architecture for an SDF architecture.
pub fn spec_arch(a: Arch) -> microkit_spec::Arch {
    match a {
        Arch::Aarch64 => microkit_spec::Arch::Aarch64,
        Arch::Riscv64 => microkit_spec::Arch::Riscv64,
        Arch::X86_64 => microkit_spec::Arch::X86_64,
    }
}

fn trigger(t: sdf::Trigger) -> Trigger {
    match t {
        sdf::Trigger::Level => Trigger::Level,
        sdf::Trigger::Edge => Trigger::Edge,
    }
}

/// The spec's IRQ source for an SDF one.
pub fn irq_source(s: &IrqSource) -> SpecIrq {
    match *s {
        IrqSource::Line { irq, trigger: t } => SpecIrq::Plain {
            irq,
            trigger: trigger(t),
        },
        IrqSource::IoApic {
            ioapic,
            pin,
            trigger: t,
            polarity,
            vector,
        } => SpecIrq::IoApic {
            ioapic,
            pin,
            level: u64::from(t == sdf::Trigger::Level),
            polarity: u64::from(polarity == Polarity::Low),
            vector,
        },
        IrqSource::Msi {
            bus,
            device,
            function,
            handle,
            vector,
        } => SpecIrq::Msi {
            bus,
            dev: device,
            func: function,
            handle,
            vector,
        },
    }
}

fn prefill_bytes(
    sys: &SystemDescription,
    dirs: &[PathBuf],
) -> Result<Vec<Option<Vec<u8>>>, ToolError> {
    sys.memory_regions
        .iter()
        .map(|mr| {
            let Some(p) = &mr.prefill_path else {
                return Ok(None);
            };
            let path = find_file(p, dirs).ok_or_else(|| ToolError::Read {
                path: PathBuf::from(p),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "prefill file not found in the search path",
                ),
            })?;
            let bytes = std::fs::read(&path).map_err(|source| ToolError::Read {
                path: path.clone(),
                source,
            })?;
            if bytes.len() as u64 > mr.size {
                return Err(ToolError::Unsupported(format!(
                    "prefill file '{}' ({} bytes) is larger than memory region '{}' ({:#x} bytes)",
                    path.display(),
                    bytes.len(),
                    mr.name,
                    mr.size
                )));
            }
            Ok(Some(bytes))
        })
        .collect()
}

fn u16_port(pd: &str, v: u64) -> Result<u16, ToolError> {
    u16::try_from(v)
        .map_err(|_| ToolError::Unsupported(format!("PD '{pd}': I/O port {v:#x} is beyond 0xffff")))
}

/// `setvar region_paddr` naming a region without `phys_addr`: the initialiser allocates the
/// region (physically contiguous) and writes its base address into the PD's variable before
/// any PD starts. The ELF got a zero placeholder ([`program::load`]); this finds the ELF page
/// frame and offset holding it and the region's frames (`mr_<region>_<k>`, consecutive).
fn paddr_vars(
    sys: &SystemDescription,
    spec: &Spec,
    programs: &[Program],
) -> Result<Vec<microkit_spec::PaddrVar>, ToolError> {
    let mut out = Vec::new();
    for ((pd, sp), prog) in sys.protection_domains.iter().zip(&spec.pds).zip(programs) {
        for sv in &pd.setvars {
            let sdf::SetVarKind::PhysAddr { mr } = &sv.kind else {
                continue;
            };
            let Some(region) = sys.memory_region(mr) else {
                continue;
            };
            if region.phys_addr.is_some() {
                continue;
            }
            let what = |why: String| {
                ToolError::Unsupported(format!("PD '{}': setvar '{}': {why}", pd.name, sv.symbol))
            };
            let addr = prog
                .patched
                .iter()
                .find(|(s, ..)| *s == sv.symbol)
                .map(|(_, a, _)| *a)
                .ok_or_else(|| what("the symbol was not patched".into()))?;
            let page = addr & !(program::PAGE - 1);
            let offset = addr - page;
            if offset + 8 > program::PAGE {
                return Err(what(format!(
                    "the variable at {addr:#x} crosses a page boundary (align it to 8 bytes)"
                )));
            }
            let frame = spec
                .mappings
                .iter()
                .find(|m| {
                    m.vspace == sp.vspace
                        && m.vaddr == page
                        && spec.objects[m.frame as usize].name.starts_with("elf_")
                })
                .map(|m| m.frame)
                .ok_or_else(|| what(format!("no ELF page is mapped at {page:#x}")))?;
            let first_name = format!("mr_{}_0", region.name);
            let first = spec
                .objects
                .iter()
                .position(|o| o.name == first_name)
                .ok_or_else(|| ToolError::Spec(format!("no frame object '{first_name}'")))?;
            let count = u32::try_from(region.page_count())
                .map_err(|_| what(format!("memory region '{mr}' has too many pages")))?;
            out.push(microkit_spec::PaddrVar {
                first: first as u32,
                count,
                frame,
                offset,
            });
        }
    }
    Ok(out)
}

/// The `<virtual_machine>`s of `sys` for the initialiser (which does not build them yet,
/// `docs/hyp.md`): each with its managing PD's index in `spec.pds`, its vCPUs, and one
/// guest-physical mapping per frame of each mapped region (frames `mr_<region>_<page>`).
fn vms(sys: &SystemDescription, spec: &Spec) -> Result<Vec<microkit_spec::Vm>, ToolError> {
    let mut out = Vec::new();
    for pd in &sys.protection_domains {
        let Some(vm) = &pd.virtual_machine else {
            continue;
        };
        let owner = spec
            .pds
            .iter()
            .position(|p| p.name == pd.name)
            .ok_or_else(|| ToolError::Spec(format!("no PD '{}' in the spec", pd.name)))?;
        let mut mappings = Vec::new();
        for m in &vm.maps {
            let mr = sys
                .memory_regions
                .iter()
                .find(|r| r.name == m.mr)
                .ok_or_else(|| ToolError::Spec(format!("unknown memory region '{}'", m.mr)))?;
            for k in 0..mr.page_count() {
                let want = format!("mr_{}_{k}", mr.name);
                let frame = spec
                    .objects
                    .iter()
                    .position(|o| o.name == want)
                    .ok_or_else(|| ToolError::Spec(format!("no frame object '{want}'")))?;
                mappings.push(microkit_spec::VmMapping {
                    gpa: m.vaddr + k * mr.page_size,
                    frame: frame as u32,
                    read: m.perms.read,
                    write: m.perms.write,
                    execute: m.perms.execute,
                    cached: m.cached,
                });
            }
        }
        out.push(microkit_spec::Vm {
            name: vm.name.clone(),
            pd: owner as u32,
            priority: vm.priority,
            budget: vm.budget,
            period: vm.period,
            vcpus: vm
                .vcpus
                .iter()
                .map(|v| microkit_spec::VmVcpu {
                    id: v.id,
                    cpu: v.cpu,
                })
                .collect(),
            mappings,
        });
    }
    Ok(out)
}

/// Builds the spec for `sys` on `board`.
pub fn build(
    sys: &SystemDescription,
    lay: &SystemLayout,
    board: &Board,
    config: Config,
    dirs: &[PathBuf],
) -> Result<Built, ToolError> {
    let prefills = prefill_bytes(sys, dirs)?;
    let prefill_len = |mr: &str| -> Option<u64> {
        let i = sys.memory_regions.iter().position(|r| r.name == mr)?;
        prefills[i].as_ref().map(|b| b.len() as u64)
    };
    let mut programs = Vec::new();
    for (i, pl) in lay.pds.iter().enumerate() {
        programs.push(program::load(sys, i, pl, board, dirs, &prefill_len)?);
    }

    let regions = sys
        .memory_regions
        .iter()
        .map(|r| RegionInput {
            name: r.name.clone(),
            size: r.size,
            page_bits: r.page_size.trailing_zeros() as u8,
            paddr: r.phys_addr,
            bootinfo: r.prefill_bootinfo.map(sdf::BootInfoKind::id),
            receive_untypeds: r.receive_all_untypeds,
        })
        .collect();
    let mut pds = Vec::new();
    for (pd, prog) in sys.protection_domains.iter().zip(&programs) {
        let maps = pd
            .maps
            .iter()
            .map(|m| {
                let region = sys
                    .memory_regions
                    .iter()
                    .position(|r| r.name == m.mr)
                    .ok_or_else(|| ToolError::Spec(format!("unknown memory region '{}'", m.mr)))?;
                Ok(MapInput {
                    region,
                    vaddr: m.vaddr,
                    read: m.perms.read,
                    write: m.perms.write,
                    execute: m.perms.execute,
                    cached: m.cached,
                })
            })
            .collect::<Result<Vec<_>, ToolError>>()?;
        let ioports = pd
            .ioports
            .iter()
            .map(|p| {
                Ok(IoPortInput {
                    id: p.id,
                    addr: u16_port(&pd.name, p.addr)?,
                    size: u16_port(&pd.name, p.size)?,
                })
            })
            .collect::<Result<Vec<_>, ToolError>>()?;
        pds.push(PdInput {
            name: pd.name.clone(),
            priority: pd.priority,
            budget: pd.budget,
            period: pd.period,
            passive: pd.passive,
            cpu: u8::try_from(pd.cpu).map_err(|_| ToolError::Unsupported(format!("PD '{}': cpu {} is out of range", pd.name, pd.cpu)))?,
            stack_size: pd.stack_size,
            entry: prog.entry,
            ipc_buffer_vaddr: prog.ipc_buffer,
            segments: prog.segments.clone(),
            maps,
            irqs: pd
                .irqs
                .iter()
                .map(|q| IrqInput {
                    id: q.id,
                    source: irq_source(&q.source),
                })
                .collect(),
            ioports,
            smc: pd.smc,
            parent: pd.parent.map(|p| (p, pd.child_id.unwrap_or(0))),
        });
    }
    let end = |e: &sdf::ChannelEnd| EndInput {
        pd: e.pd,
        id: e.id,
        notify: e.notify,
        pp: e.pp,
    };
    let channels = sys
        .channels
        .iter()
        .map(|c| ChannelInput {
            a: end(&c.end_a),
            b: end(&c.end_b),
        })
        .collect();
    let input = SystemInput {
        arch: spec_arch(board.arch),
        pds,
        regions,
        channels,
    };
    let (mut spec, mut data) = mk::build(&input).map_err(|e| ToolError::Spec(format!("{e:?}")))?;
    // Scheduling domains: each PD's domain id, and the schedule the initialiser installs.
    let pd_domains: Vec<u8> = sys
        .protection_domains
        .iter()
        .map(|p| p.domain.as_ref().map_or(0, |d| d.id))
        .collect();
    let schedule = sys.domains.as_ref().map(|d| microkit_spec::DomainSchedule {
        entries: d
            .schedule
            .iter()
            .map(|e| (e.domain, e.duration.kernel_ticks()))
            .collect(),
        shift: d.index_shift,
        start: d.start_index,
    });
    mk::set_domains(&mut spec, &pd_domains, schedule)
        .map_err(|e| ToolError::Spec(format!("{e:?}")))?;

    // Prefill data: region frames are named `mr_<region>_<page>` by the builder.
    for (mr, bytes) in sys.memory_regions.iter().zip(&prefills) {
        let Some(bytes) = bytes else { continue };
        let base = data.len() as u64;
        data.extend_from_slice(bytes);
        let page = mr.page_size;
        for k in 0..mr.page_count() {
            let lo = k * page;
            let hi = ((k + 1) * page).min(bytes.len() as u64);
            if hi <= lo {
                break;
            }
            let want = format!("mr_{}_{k}", mr.name);
            let obj = spec
                .objects
                .iter_mut()
                .find(|o| o.name == want)
                .ok_or_else(|| ToolError::Spec(format!("no frame object '{want}'")))?;
            match &mut obj.kind {
                ObjectKind::Frame { fill, .. } => fill.push(Fill {
                    frame_offset: 0,
                    data_offset: base + lo,
                    len: hi - lo,
                }),
                _ => return Err(ToolError::Spec(format!("'{want}' is not a frame"))),
            }
        }
    }
    // IOMMU: IO address spaces and the region frames each device may DMA into.
    crate::iommu::add_to_spec(sys, &mut spec)?;
    spec.paddr_vars = paddr_vars(sys, &spec, &programs)?;
    // Benchmark configuration: every PD may use its own TCB (benchmark calls).
    if config.is_benchmark() {
        for p in &spec.pds {
            // The PD's own CNode (under the top level for a PD receiving untypeds).
            let own = format!("cnode_{}", p.name);
            let cnode = spec
                .objects
                .iter()
                .position(|o| o.name == own)
                .map_or(p.cspace, |i| i as u32);
            spec.caps.push(CapSlot {
                cnode,
                slot: slots::TCB,
                cap: Cap {
                    object: p.tcb,
                    rights: rights::ALL,
                    badge: 0,
                },
            });
        }
    }
    spec.vms = vms(sys, &spec)?;
    // Capability sharing: after every Microkit cap is in place (PD CNodes move below a root).
    crate::capshare::apply(sys, &mut spec)?;
    microkit_spec::validate(&spec, data.len() as u64)
        .map_err(|e| ToolError::Spec(format!("the built spec is invalid: {e:?}")))?;
    Ok(Built {
        spec,
        data,
        programs,
    })
}
