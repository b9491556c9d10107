//! System layout: for each PD, the capability slots libmicrokit expects, the badges its
//! events arrive with, and the symbols the tool patches into its ELF.
//!
//! Facts (numbers only) come from Microkit's libmicrokit in seL4/microkit:
//! `libmicrokit/include/microkit.h` (cap slot bases, `MICROKIT_PD_NAME_LENGTH`, the patched
//! `microkit_irqs` / `microkit_notifications` / `microkit_pps` / `microkit_ioports` words)
//! and `libmicrokit/src/main.c` (`INPUT_CAP`, `REPLY_CAP`, the `microkit_passive` flag and the
//! event loop's badge decoding: bit 63 = protected procedure call with the channel id in the
//! low 6 bits, bit 62 = fault with the child id in the low 8 bits, otherwise one bit per
//! notifying channel or IRQ).

use microkit_spec::layout::{self as mk, symbols};
use sdf::{IrqSource, ProtectionDomain, SetVarKind, SystemDescription};

use crate::args::Config;
use crate::board::Board;

/// Cap slots in every PD's CSpace, as libmicrokit addresses them: the tool's names for
/// the slot numbers defined once in `microkit-layout` (see there for their meaning).
pub mod slots {
    pub use microkit_spec::layout::{
        ARM_SMC_CAP as ARM_SMC, BASE_ENDPOINT_CAP as BASE_ENDPOINT, BASE_IOPORT_CAP as BASE_IOPORT,
        BASE_IRQ_CAP as BASE_IRQ, BASE_OUTPUT_NOTIFICATION_CAP as BASE_OUTPUT_NOTIFICATION,
        BASE_TCB_CAP as BASE_TCB, BASE_VCPU_CAP as BASE_VCPU, BASE_VM_TCB_CAP as BASE_VM_TCB,
        FAULT_EP_CAP as FAULT_EP, INPUT_CAP as INPUT, MONITOR_EP_CAP as MONITOR_EP,
        REPLY_CAP as REPLY, TCB_CAP as TCB, VSPACE_CAP as VSPACE,
    };
}

/// Badge bit marking a protected procedure call (main.c tests `badge >> 63`).
pub const PPC_BADGE_BIT: u64 = mk::PPC_BADGE;
/// Badge bit marking a fault from a child (main.c tests `(badge >> 62) & 1`).
pub const FAULT_BADGE_BIT: u64 = mk::FAULT_BADGE;
/// Size of libmicrokit's `microkit_name` buffer, including the terminating NUL.
pub const NAME_BUFFER_LEN: usize = mk::PD_NAME_LENGTH;

/// Badge delivered when the other end notifies channel `id` (or IRQ `id` fires).
pub fn notification_badge(id: u64) -> u64 {
    1u64 << (id & 63)
}

/// Badge on the endpoint cap a caller uses to PPC into a PD that knows the channel as `id`.
pub fn ppc_badge(id: u64) -> u64 {
    PPC_BADGE_BIT | id
}

/// Badge on the fault endpoint of child `child_id`, received by its parent.
pub fn fault_badge(child_id: u64) -> u64 {
    FAULT_BADGE_BIT | child_id
}

/// What object a cap slot refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapObject {
    /// This PD's own endpoint.
    OwnEndpoint,
    /// This PD's own notification.
    OwnNotification,
    /// This PD's reply object.
    Reply,
    /// The fault endpoint: the parent's endpoint for a child, the monitor's otherwise.
    FaultEndpoint { handler: String },
    /// This PD's own VSpace.
    OwnVspace,
    /// The monitor's endpoint (passive PDs report the end of `init` on it).
    MonitorEndpoint,
    /// This PD's TCB.
    OwnTcb,
    /// SMC forwarding.
    ArmSmc,
    /// Another PD's notification.
    Notification { pd: String },
    /// Another PD's endpoint.
    Endpoint { pd: String },
    /// An IRQ handler.
    IrqHandler { source: IrqSource },
    /// A child PD's TCB.
    ChildTcb { pd: String },
    /// The TCB of a vCPU thread of this PD's virtual machine.
    VmTcb { vm: String, vcpu: u64 },
    /// A vCPU object.
    Vcpu { vm: String, vcpu: u64 },
    /// An x86 I/O port range.
    IoPort { addr: u64, size: u64 },
}

/// One filled slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapSlot {
    /// Slot index in the PD's CSpace.
    pub slot: u64,
    /// Object it refers to.
    pub object: CapObject,
    /// Badge minted into the cap, if any.
    pub badge: Option<u64>,
}

/// Value written into a patched symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolValue {
    /// NUL-terminated bytes (`microkit_name`).
    Bytes(Vec<u8>),
    /// A boolean byte (`microkit_passive`).
    Bool(bool),
    /// A machine word.
    Word(u64),
    /// A word known only when the image is built (prefill size) or at boot (the physical
    /// address of a region the initialiser allocates).
    Deferred(String),
}

/// A symbol and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolPatch {
    /// Symbol name in the PD's ELF.
    pub symbol: String,
    /// Value to write.
    pub value: SymbolValue,
}

/// Layout of one PD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdLayout {
    /// PD name.
    pub name: String,
    /// Whether the PD gets an endpoint (it is a PPC target, has children or a VM).
    pub has_endpoint: bool,
    /// Filled cap slots, sorted by slot.
    pub caps: Vec<CapSlot>,
    /// Symbols to patch, in a fixed order: libmicrokit's, then the PD's setvars.
    pub symbols: Vec<SymbolPatch>,
}

/// Layout of the whole system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemLayout {
    /// One entry per PD, in the description's order.
    pub pds: Vec<PdLayout>,
}

/// Whether `pd_index` needs an endpoint: Microkit gives one to PPC targets, parents and
/// PDs with a virtual machine (`needs_ep` in Microkit's sdf.rs).
pub fn needs_endpoint(sys: &SystemDescription, pd_index: usize) -> bool {
    let pd = &sys.protection_domains[pd_index];
    pd.virtual_machine.is_some()
        || sys
            .protection_domains
            .iter()
            .any(|p| p.parent == Some(pd_index))
        || sys.channels.iter().any(|c| {
            (c.end_a.pp && c.end_b.pd == pd_index) || (c.end_b.pp && c.end_a.pd == pd_index)
        })
}

fn name_bytes(name: &str) -> Vec<u8> {
    let mut v: Vec<u8> = name.bytes().take(NAME_BUFFER_LEN - 1).collect();
    v.push(0);
    v
}

/// Computes the layout of every PD.
pub fn compute(sys: &SystemDescription, board: &Board, config: Config) -> SystemLayout {
    let pds = (0..sys.protection_domains.len())
        .map(|i| pd_layout(sys, i, board, config))
        .collect();
    SystemLayout { pds }
}

fn pd_layout(sys: &SystemDescription, i: usize, board: &Board, config: Config) -> PdLayout {
    let pd: &ProtectionDomain = &sys.protection_domains[i];
    let has_endpoint = needs_endpoint(sys, i);
    let mut caps = vec![
        CapSlot {
            slot: slots::INPUT,
            object: if has_endpoint {
                CapObject::OwnEndpoint
            } else {
                CapObject::OwnNotification
            },
            badge: None,
        },
        CapSlot {
            slot: slots::REPLY,
            object: CapObject::Reply,
            badge: None,
        },
        CapSlot {
            slot: slots::FAULT_EP,
            object: CapObject::FaultEndpoint {
                handler: pd.parent.map_or("monitor".to_string(), |p| {
                    sys.protection_domains[p].name.clone()
                }),
            },
            badge: Some(match (pd.parent, pd.child_id) {
                (Some(_), Some(id)) => fault_badge(id),
                _ => i as u64 + 1,
            }),
        },
        CapSlot {
            slot: slots::VSPACE,
            object: CapObject::OwnVspace,
            badge: None,
        },
    ];
    if pd.passive {
        caps.push(CapSlot {
            slot: slots::MONITOR_EP,
            object: CapObject::MonitorEndpoint,
            badge: Some(i as u64 + 1),
        });
    }
    if config.is_benchmark() {
        caps.push(CapSlot {
            slot: slots::TCB,
            object: CapObject::OwnTcb,
            badge: None,
        });
    }
    if pd.smc {
        caps.push(CapSlot {
            slot: slots::ARM_SMC,
            object: CapObject::ArmSmc,
            badge: None,
        });
    }
    let (mut notifications, mut pps, mut irqs, mut ioports) = (0u64, 0u64, 0u64, 0u64);
    for ch in &sys.channels {
        for (me, other) in [(&ch.end_a, &ch.end_b), (&ch.end_b, &ch.end_a)] {
            if me.pd != i {
                continue;
            }
            let other_name = sys.protection_domains[other.pd].name.clone();
            if me.notify {
                notifications |= notification_badge(me.id);
                caps.push(CapSlot {
                    slot: slots::BASE_OUTPUT_NOTIFICATION + me.id,
                    object: CapObject::Notification {
                        pd: other_name.clone(),
                    },
                    badge: Some(notification_badge(other.id)),
                });
            }
            if me.pp {
                pps |= notification_badge(me.id);
                caps.push(CapSlot {
                    slot: slots::BASE_ENDPOINT + me.id,
                    object: CapObject::Endpoint { pd: other_name },
                    badge: Some(ppc_badge(other.id)),
                });
            }
        }
    }
    for irq in &pd.irqs {
        irqs |= notification_badge(irq.id);
        caps.push(CapSlot {
            slot: slots::BASE_IRQ + irq.id,
            object: CapObject::IrqHandler { source: irq.source },
            badge: None,
        });
    }
    for (ci, child) in sys.protection_domains.iter().enumerate() {
        if child.parent == Some(i) && ci != i {
            let id = child.child_id.unwrap_or(0);
            caps.push(CapSlot {
                slot: slots::BASE_TCB + id,
                object: CapObject::ChildTcb {
                    pd: child.name.clone(),
                },
                badge: None,
            });
        }
    }
    if let Some(vm) = &pd.virtual_machine {
        for v in &vm.vcpus {
            caps.push(CapSlot {
                slot: slots::BASE_VM_TCB + v.id,
                object: CapObject::VmTcb {
                    vm: vm.name.clone(),
                    vcpu: v.id,
                },
                badge: None,
            });
            caps.push(CapSlot {
                slot: slots::BASE_VCPU + v.id,
                object: CapObject::Vcpu {
                    vm: vm.name.clone(),
                    vcpu: v.id,
                },
                badge: None,
            });
        }
    }
    for p in &pd.ioports {
        ioports |= notification_badge(p.id);
        caps.push(CapSlot {
            slot: slots::BASE_IOPORT + p.id,
            object: CapObject::IoPort {
                addr: p.addr,
                size: p.size,
            },
            badge: None,
        });
    }
    caps.sort_by_key(|c| c.slot);
    if pd.template {
        // No ELF: nothing to patch (`program::load` gives it an empty program).
        return PdLayout {
            name: pd.name.clone(),
            has_endpoint,
            caps,
            symbols: Vec::new(),
        };
    }

    let mut symbols = vec![
        SymbolPatch {
            symbol: symbols::NAME.into(),
            value: SymbolValue::Bytes(name_bytes(&pd.name)),
        },
        SymbolPatch {
            symbol: symbols::PASSIVE.into(),
            value: SymbolValue::Bool(pd.passive),
        },
        SymbolPatch {
            symbol: symbols::IRQS.into(),
            value: SymbolValue::Word(irqs),
        },
        SymbolPatch {
            symbol: symbols::NOTIFICATIONS.into(),
            value: SymbolValue::Word(notifications),
        },
        SymbolPatch {
            symbol: symbols::PPS.into(),
            value: SymbolValue::Word(pps),
        },
    ];
    if board.arch == sdf::Arch::X86_64 {
        symbols.push(SymbolPatch {
            symbol: symbols::IOPORTS.into(),
            value: SymbolValue::Word(ioports),
        });
    }
    for sv in &pd.setvars {
        let value = match &sv.kind {
            SetVarKind::Vaddr { vaddr } => SymbolValue::Word(*vaddr),
            SetVarKind::Id { id } => SymbolValue::Word(*id),
            SetVarKind::IoPortAddr { addr } => SymbolValue::Word(*addr),
            SetVarKind::Size { mr } => match sys.memory_region(mr) {
                Some(r) => SymbolValue::Word(r.size),
                None => SymbolValue::Deferred(format!("size of '{mr}'")),
            },
            SetVarKind::PhysAddr { mr } => match sys.memory_region(mr).and_then(|r| r.phys_addr) {
                Some(pa) => SymbolValue::Word(pa),
                None => SymbolValue::Deferred(format!(
                    "physical address of '{mr}', written by the initialiser before the PD starts"
                )),
            },
            SetVarKind::PrefillSize { mr } => SymbolValue::Deferred(format!(
                "size of the prefill data of '{mr}', set when the image is built"
            )),
        };
        symbols.push(SymbolPatch {
            symbol: sv.symbol.clone(),
            value,
        });
    }
    PdLayout {
        name: pd.name.clone(),
        has_endpoint,
        caps,
        symbols,
    }
}
