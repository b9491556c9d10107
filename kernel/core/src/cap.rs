//! Capabilities: the [`Cap`] enum, its exact two-word encoding in a slot, rights masking,
//! and seL4's relations between caps (`sameRegionAs`, `sameObjectAs`, revocability).

use kernel_hal::PAddr;
use sel4_abi::bootinfo::cap_tag;
use sel4_abi::{Arch, CNodeCapData, CapRights};

/// Where a frame or page table is mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mapping {
    /// ASID of the VSpace (never 0).
    pub asid: u16,
    /// Virtual address (below 2^48, page aligned).
    pub vaddr: u64,
}

/// What a zombie cap is finalising.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ZombieKind {
    /// A CNode with `2^radix` slots.
    CNode {
        /// log2 of the slot count.
        radix: u8,
    },
    /// A TCB (its [`crate::object::TCB_SLOTS`] cap slots).
    Tcb,
}

/// Level a [`Cap::PageTable`] may be mapped at when it is not fixed by its type.
pub const PT_LEVEL_ANY: u8 = 0;
/// Marker level for x86 IOMMU page tables.
pub const PT_LEVEL_IO: u8 = 15;

/// A capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Cap {
    /// The null cap (empty slot).
    #[default]
    Null,
    /// Untyped memory `[paddr, paddr + 2^size_bits)`; `free_index` is the watermark in
    /// 16-byte units.
    Untyped {
        /// Base physical address (aligned to the size).
        paddr: PAddr,
        /// log2 size in bytes.
        size_bits: u8,
        /// Watermark in 16-byte units (`freeIndex`).
        free_index: u64,
        /// Device memory (frames and untypeds only, never zeroed).
        is_device: bool,
    },
    /// Endpoint.
    Endpoint {
        /// Object address.
        ptr: PAddr,
        /// Badge (0 = unbadged).
        badge: u64,
        /// Write = send, Read = receive, Grant, GrantReply.
        rights: CapRights,
    },
    /// Notification.
    Notification {
        /// Object address.
        ptr: PAddr,
        /// Badge (0 = unbadged).
        badge: u64,
        /// Write = signal, Read = wait (Grant bits are kept clear).
        rights: CapRights,
    },
    /// Reply object (MCS).
    Reply {
        /// Object address.
        ptr: PAddr,
        /// Grant: caps may be transferred in the reply.
        can_grant: bool,
    },
    /// CNode with `2^radix` slots and a guard.
    CNode {
        /// Object address.
        ptr: PAddr,
        /// log2 of the slot count.
        radix: u8,
        /// Guard size in bits.
        guard_size: u8,
        /// Guard value.
        guard: u64,
    },
    /// Thread (TCB).
    Thread {
        /// Object address.
        ptr: PAddr,
    },
    /// Authority to create IRQ handler caps.
    IrqControl,
    /// Authority over one IRQ.
    IrqHandler {
        /// IRQ number.
        irq: u64,
    },
    /// A cap being finalised (CNode or TCB whose slots are being emptied).
    Zombie {
        /// Object address.
        ptr: PAddr,
        /// What is being finalised.
        kind: ZombieKind,
        /// Slots still to empty.
        remaining: u64,
    },
    /// Domain authority.
    Domain,
    /// Scheduling context (MCS).
    SchedContext {
        /// Object address.
        ptr: PAddr,
        /// log2 size in bytes.
        size_bits: u8,
    },
    /// Authority to configure scheduling contexts on a core (MCS).
    SchedControl {
        /// Core number.
        core: u64,
    },
    /// A frame.
    Frame {
        /// Base physical address.
        paddr: PAddr,
        /// log2 size (12, 21, 30 or 39).
        size_bits: u8,
        /// Rights: none, Read, or Read|Write.
        rights: CapRights,
        /// Device memory.
        device: bool,
        /// Where this cap maps the frame.
        mapped: Option<Mapping>,
    },
    /// A page table (or x86 PDPT / page directory, by `level`).
    PageTable {
        /// Base physical address.
        paddr: PAddr,
        /// Level it must sit at (x86: 1 PDPT, 2 PD, 3 PT), or [`PT_LEVEL_ANY`].
        level: u8,
        /// Where it is mapped (vaddr of the region it covers).
        mapped: Option<Mapping>,
    },
    /// A VSpace root (aarch64 VSpace, riscv root table, x86 PML4).
    VSpace {
        /// Base physical address.
        paddr: PAddr,
        /// Assigned ASID (`None` until `ASIDPool_Assign`).
        asid: Option<u16>,
    },
    /// Authority to create ASID pools.
    AsidControl,
    /// An ASID pool.
    AsidPool {
        /// Base physical address.
        paddr: PAddr,
        /// First ASID of the pool.
        base: u16,
    },
    /// x86 I/O port control.
    IoPortControl,
    /// x86 I/O port range `first..=last`.
    IoPort {
        /// First port.
        first: u16,
        /// Last port (inclusive).
        last: u16,
    },
    /// Arm SMC authority (aarch64 only): `seL4_ARM_SMC_Call` makes a Secure Monitor Call.
    Smc {
        /// The only function id (x0) this cap may call; 0 = any.
        badge: u64,
    },
    /// ARM VCPU (aarch64 kernels with hypervisor support, `crate::vcpu`).
    Vcpu {
        /// Object address (4 KiB aligned).
        ptr: PAddr,
    },
}

pub(crate) mod tag {
    pub const NULL: u64 = 0;
    pub const UNTYPED: u64 = 2;
    pub const ENDPOINT: u64 = 4;
    pub const NOTIFICATION: u64 = 6;
    pub const REPLY: u64 = 8;
    pub const CNODE: u64 = 10;
    pub const THREAD: u64 = 12;
    pub const IRQ_CONTROL: u64 = 14;
    pub const IRQ_HANDLER: u64 = 16;
    pub const ZOMBIE: u64 = 18;
    pub const DOMAIN: u64 = 20;
    pub const SCHED_CONTEXT: u64 = 22;
    pub const SCHED_CONTROL: u64 = 24;
    pub const FRAME: u64 = 1;
    pub const PAGE_TABLE: u64 = 3;
    pub const VSPACE: u64 = 9;
    pub const ASID_CONTROL: u64 = 11;
    pub const ASID_POOL: u64 = 13;
    pub const IO_PORT_CONTROL: u64 = 15;
    pub const IO_PORT: u64 = 17;
    pub const SMC: u64 = 25;
    pub const VCPU: u64 = 5;
}

const fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

const ADDR_MASK_52: u64 = mask(52);
const VADDR_MASK: u64 = mask(48);

fn size_class(bits: u8) -> u64 {
    match bits {
        21 => 1,
        30 => 2,
        39 => 3,
        _ => 0,
    }
}

fn class_size(c: u64) -> u8 {
    [12, 21, 30, 39][(c & 3) as usize]
}

fn enc_mapping(m: Option<Mapping>) -> u64 {
    match m {
        Some(m) => (m.vaddr & VADDR_MASK) | ((m.asid as u64) << 48),
        None => 0,
    }
}

fn dec_mapping(w: u64) -> Option<Mapping> {
    let asid = (w >> 48) as u16;
    if asid == 0 {
        None
    } else {
        Some(Mapping {
            asid,
            vaddr: w & VADDR_MASK,
        })
    }
}

impl Cap {
    /// Encode into the two cap words of a slot.
    ///
    /// Field ranges assumed (guaranteed by how caps are created): object addresses below
    /// 2^52 and aligned to their object size, vaddrs below 2^48, ASIDs non-zero.
    pub fn encode(&self) -> [u64; 2] {
        use tag::*;
        match *self {
            Cap::Null => [NULL, 0],
            Cap::Untyped {
                paddr,
                size_bits,
                free_index,
                is_device,
            } => [
                UNTYPED
                    | ((size_bits as u64 & 0x3f) << 5)
                    | ((is_device as u64) << 11)
                    | ((free_index & mask(52)) << 12),
                paddr,
            ],
            Cap::Endpoint { ptr, badge, rights } => [
                ENDPOINT | (rights.to_word() << 5) | (((ptr & ADDR_MASK_52) >> 4) << 9),
                badge,
            ],
            Cap::Notification { ptr, badge, rights } => [
                NOTIFICATION | (rights.to_word() << 5) | (((ptr & ADDR_MASK_52) >> 4) << 9),
                badge,
            ],
            Cap::Reply { ptr, can_grant } => [REPLY | ((can_grant as u64) << 5), ptr],
            Cap::CNode {
                ptr,
                radix,
                guard_size,
                guard,
            } => [
                CNODE
                    | ((radix as u64 & 0x3f) << 5)
                    | ((guard_size as u64 & 0x3f) << 11)
                    | (((ptr & ADDR_MASK_52) >> 5) << 17),
                guard,
            ],
            Cap::Thread { ptr } => [THREAD, ptr],
            Cap::IrqControl => [IRQ_CONTROL, 0],
            Cap::IrqHandler { irq } => [IRQ_HANDLER, irq],
            Cap::Zombie {
                ptr,
                kind,
                remaining,
            } => {
                let (is_tcb, radix) = match kind {
                    ZombieKind::Tcb => (1, 0),
                    ZombieKind::CNode { radix } => (0, radix as u64 & 0x3f),
                };
                [
                    ZOMBIE | (is_tcb << 5) | (radix << 6) | ((remaining & mask(52)) << 12),
                    ptr,
                ]
            }
            Cap::Domain => [DOMAIN, 0],
            Cap::SchedContext { ptr, size_bits } => {
                [SCHED_CONTEXT | ((size_bits as u64 & 0x3f) << 5), ptr]
            }
            Cap::SchedControl { core } => [SCHED_CONTROL, core],
            Cap::Frame {
                paddr,
                size_bits,
                rights,
                device,
                mapped,
            } => [
                FRAME
                    | (size_class(size_bits) << 5)
                    | (rights.to_word() << 7)
                    | ((device as u64) << 11)
                    | (paddr & !mask(12)),
                enc_mapping(mapped),
            ],
            Cap::PageTable {
                paddr,
                level,
                mapped,
            } => [
                PAGE_TABLE | ((level as u64 & 0xf) << 5) | (paddr & !mask(12)),
                enc_mapping(mapped),
            ],
            Cap::VSpace { paddr, asid } => [
                VSPACE | (paddr & !mask(12)),
                asid.map(|a| a as u64).unwrap_or(0),
            ],
            Cap::AsidControl => [ASID_CONTROL, 0],
            Cap::AsidPool { paddr, base } => [ASID_POOL | (paddr & !mask(12)), base as u64],
            Cap::IoPortControl => [IO_PORT_CONTROL, 0],
            Cap::IoPort { first, last } => [IO_PORT, first as u64 | ((last as u64) << 16)],
            Cap::Smc { badge } => [SMC, badge],
            Cap::Vcpu { ptr } => [VCPU, ptr],
        }
    }

    /// Decode the two cap words of a slot (inverse of [`Cap::encode`]; an unknown tag reads
    /// as [`Cap::Null`]).
    #[inline(always)]
    pub fn decode(w: [u64; 2]) -> Cap {
        use tag::*;
        let [w0, w1] = w;
        match w0 & 0x1f {
            NULL => Cap::Null,
            UNTYPED => Cap::Untyped {
                paddr: w1,
                size_bits: ((w0 >> 5) & 0x3f) as u8,
                is_device: (w0 >> 11) & 1 != 0,
                free_index: w0 >> 12,
            },
            ENDPOINT => Cap::Endpoint {
                ptr: (w0 >> 9) << 4,
                badge: w1,
                rights: CapRights::from_word(w0 >> 5),
            },
            NOTIFICATION => Cap::Notification {
                ptr: (w0 >> 9) << 4,
                badge: w1,
                rights: CapRights::from_word(w0 >> 5),
            },
            REPLY => Cap::Reply {
                ptr: w1,
                can_grant: (w0 >> 5) & 1 != 0,
            },
            CNODE => Cap::CNode {
                ptr: (w0 >> 17) << 5,
                radix: ((w0 >> 5) & 0x3f) as u8,
                guard_size: ((w0 >> 11) & 0x3f) as u8,
                guard: w1,
            },
            THREAD => Cap::Thread { ptr: w1 },
            IRQ_CONTROL => Cap::IrqControl,
            IRQ_HANDLER => Cap::IrqHandler { irq: w1 },
            ZOMBIE => Cap::Zombie {
                ptr: w1,
                kind: if (w0 >> 5) & 1 != 0 {
                    ZombieKind::Tcb
                } else {
                    ZombieKind::CNode {
                        radix: ((w0 >> 6) & 0x3f) as u8,
                    }
                },
                remaining: w0 >> 12,
            },
            DOMAIN => Cap::Domain,
            SCHED_CONTEXT => Cap::SchedContext {
                ptr: w1,
                size_bits: ((w0 >> 5) & 0x3f) as u8,
            },
            SCHED_CONTROL => Cap::SchedControl { core: w1 },
            FRAME => Cap::Frame {
                paddr: w0 & !mask(12),
                size_bits: class_size(w0 >> 5),
                rights: CapRights::from_word(w0 >> 7),
                device: (w0 >> 11) & 1 != 0,
                mapped: dec_mapping(w1),
            },
            PAGE_TABLE => Cap::PageTable {
                paddr: w0 & !mask(12),
                level: ((w0 >> 5) & 0xf) as u8,
                mapped: dec_mapping(w1),
            },
            VSPACE => Cap::VSpace {
                paddr: w0 & !mask(12),
                asid: if w1 == 0 { None } else { Some(w1 as u16) },
            },
            ASID_CONTROL => Cap::AsidControl,
            ASID_POOL => Cap::AsidPool {
                paddr: w0 & !mask(12),
                base: w1 as u16,
            },
            IO_PORT_CONTROL => Cap::IoPortControl,
            IO_PORT => Cap::IoPort {
                first: w1 as u16,
                last: (w1 >> 16) as u16,
            },
            SMC => Cap::Smc { badge: w1 },
            VCPU => Cap::Vcpu { ptr: w1 },
            _ => Cap::Null,
        }
    }

    /// Whether this is the null cap.
    pub fn is_null(&self) -> bool {
        matches!(self, Cap::Null)
    }

    /// `seL4_DebugCapIdentify` tag for this cap on `arch`.
    pub fn debug_tag(&self, arch: Arch) -> u64 {
        match *self {
            Cap::Null => cap_tag::NULL,
            Cap::Untyped { .. } => cap_tag::UNTYPED,
            Cap::Endpoint { .. } => cap_tag::ENDPOINT,
            Cap::Notification { .. } => cap_tag::NOTIFICATION,
            Cap::Reply { .. } => cap_tag::REPLY,
            Cap::CNode { .. } => cap_tag::CNODE,
            Cap::Thread { .. } => cap_tag::THREAD,
            Cap::IrqControl => cap_tag::IRQ_CONTROL,
            Cap::IrqHandler { .. } => cap_tag::IRQ_HANDLER,
            Cap::Zombie { .. } => cap_tag::ZOMBIE,
            Cap::Domain => cap_tag::DOMAIN,
            Cap::SchedContext { .. } => cap_tag::SCHED_CONTEXT,
            Cap::SchedControl { .. } => cap_tag::SCHED_CONTROL,
            Cap::Frame { .. } => cap_tag::FRAME,
            Cap::PageTable { level, .. } => match (arch, level) {
                (Arch::X86_64, 1) => cap_tag::X86_PDPT,
                (Arch::X86_64, 2) => cap_tag::X86_PAGE_DIRECTORY,
                _ => cap_tag::PAGE_TABLE,
            },
            Cap::VSpace { .. } => match arch {
                Arch::Riscv64 => cap_tag::PAGE_TABLE,
                _ => cap_tag::VSPACE,
            },
            Cap::AsidControl => cap_tag::ASID_CONTROL,
            Cap::AsidPool { .. } => cap_tag::ASID_POOL,
            Cap::IoPortControl => 31,
            Cap::IoPort { .. } => 19,
            Cap::Smc { .. } => cap_tag::SMC,
            // seL4's aarch64 `cap_vcpu_cap` tag.
            Cap::Vcpu { .. } => 15,
        }
    }

    /// The physical region `[base, base + size)` of the object this cap names, for caps to
    /// memory objects (`cap_get_capIsPhysical`).
    pub fn region(&self) -> Option<(PAddr, u64)> {
        use sel4_abi::object as o;
        Some(match *self {
            Cap::Untyped {
                paddr, size_bits, ..
            } => (paddr, 1 << size_bits),
            Cap::Endpoint { ptr, .. } => (ptr, 1 << o::ENDPOINT_BITS),
            Cap::Notification { ptr, .. } => (ptr, 1 << o::NOTIFICATION_BITS),
            Cap::Reply { ptr, .. } => (ptr, 1 << o::REPLY_BITS),
            Cap::CNode { ptr, radix, .. } => (ptr, 1 << (radix as u32 + o::SLOT_BITS)),
            Cap::Thread { ptr } => (ptr, 1 << o::TCB_BITS),
            Cap::Zombie {
                ptr,
                kind: ZombieKind::Tcb,
                ..
            } => (ptr, 1 << o::TCB_BITS),
            Cap::Zombie {
                ptr,
                kind: ZombieKind::CNode { radix },
                ..
            } => (ptr, 1 << (radix as u32 + o::SLOT_BITS)),
            Cap::SchedContext { ptr, size_bits } => (ptr, 1 << size_bits),
            Cap::Frame {
                paddr, size_bits, ..
            } => (paddr, 1 << size_bits),
            Cap::PageTable { paddr, .. } | Cap::VSpace { paddr, .. } => {
                (paddr, 1 << o::PAGE_TABLE_BITS)
            }
            Cap::AsidPool { paddr, .. } => (paddr, 1 << o::ASID_POOL_BITS),
            Cap::Vcpu { ptr } => (ptr, 1 << o::VCPU_BITS),
            _ => return None,
        })
    }

    /// The object's base address (`capUntypedPtr`-like), for physical caps.
    pub fn object_ptr(&self) -> Option<PAddr> {
        self.region().map(|r| r.0)
    }

    /// The cap's rights, for caps that carry rights (else all rights).
    pub fn rights(&self) -> CapRights {
        match *self {
            Cap::Endpoint { rights, .. }
            | Cap::Notification { rights, .. }
            | Cap::Frame { rights, .. } => rights,
            Cap::Reply { can_grant, .. } => {
                if can_grant {
                    CapRights::ALL
                } else {
                    CapRights(CapRights::ALL.0 & !CapRights::GRANT)
                }
            }
            _ => CapRights::ALL,
        }
    }

    /// The badge of an endpoint, notification or SMC cap (0 otherwise).
    pub fn badge(&self) -> u64 {
        match *self {
            Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } | Cap::Smc { badge } => {
                badge
            }
            _ => 0,
        }
    }

    /// seL4 `maskCapRights`: reduce the cap's rights to `mask`.
    pub fn mask_rights(self, mask: CapRights) -> Cap {
        match self {
            Cap::Endpoint { ptr, badge, rights } => Cap::Endpoint {
                ptr,
                badge,
                rights: rights.and(mask),
            },
            Cap::Notification { ptr, badge, rights } => Cap::Notification {
                ptr,
                badge,
                rights: rights.and(mask).and(CapRights::RW),
            },
            Cap::Reply { ptr, can_grant } => Cap::Reply {
                ptr,
                can_grant: can_grant && mask.grant(),
            },
            Cap::Frame {
                paddr,
                size_bits,
                rights,
                device,
                mapped,
            } => {
                // seL4 maskVMRights: ReadWrite needs Read and Write, ReadOnly needs Read.
                let r = if rights.read() && mask.read() {
                    if rights.write() && mask.write() {
                        CapRights::RW
                    } else {
                        CapRights(CapRights::READ)
                    }
                } else {
                    CapRights::NONE
                };
                Cap::Frame {
                    paddr,
                    size_bits,
                    rights: r,
                    device,
                    mapped,
                }
            }
            c => c,
        }
    }

    /// seL4 `updateCapData`: apply a badge (endpoint/notification, only when `!preserve` and
    /// the cap is unbadged) or CNode guard data. Returns `Null` when the update is not allowed.
    pub fn update_data(self, preserve: bool, data: u64) -> Cap {
        match self {
            Cap::Endpoint { ptr, badge, rights } => {
                if !preserve && badge == 0 {
                    Cap::Endpoint {
                        ptr,
                        badge: data,
                        rights,
                    }
                } else {
                    Cap::Null
                }
            }
            Cap::Notification { ptr, badge, rights } => {
                if !preserve && badge == 0 {
                    Cap::Notification {
                        ptr,
                        badge: data,
                        rights,
                    }
                } else {
                    Cap::Null
                }
            }
            // seL4 `Arch_updateCapData`: an SMC cap is badged (with the one function id it
            // may call) only once, like an endpoint.
            Cap::Smc { badge } => {
                if !preserve && badge == 0 {
                    Cap::Smc { badge: data }
                } else {
                    Cap::Null
                }
            }
            Cap::CNode { ptr, radix, .. } => {
                let d = CNodeCapData::from_word(data);
                if d.guard_size + radix as u64 > 64 {
                    Cap::Null
                } else {
                    Cap::CNode {
                        ptr,
                        radix,
                        guard_size: d.guard_size as u8,
                        guard: d.guard & mask(d.guard_size as u32),
                    }
                }
            }
            c => c,
        }
    }

    /// seL4 `sameRegionAs`: whether `other` names (part of) the same region or object, so
    /// that it may be a derivation-tree child of `self`.
    pub fn same_region_as(&self, other: &Cap) -> bool {
        match *self {
            Cap::Untyped { .. } => match (self.region(), other.region()) {
                (Some((a, asz)), Some((b, bsz))) => {
                    a <= b && b.wrapping_add(bsz - 1) <= a.wrapping_add(asz - 1)
                }
                _ => false,
            },
            Cap::Endpoint { ptr, .. } => matches!(*other, Cap::Endpoint { ptr: p, .. } if p == ptr),
            Cap::Notification { ptr, .. } => {
                matches!(*other, Cap::Notification { ptr: p, .. } if p == ptr)
            }
            Cap::Reply { ptr, .. } => matches!(*other, Cap::Reply { ptr: p, .. } if p == ptr),
            Cap::CNode { ptr, radix, .. } => {
                matches!(*other, Cap::CNode { ptr: p, radix: r, .. } if p == ptr && r == radix)
            }
            Cap::Thread { ptr } => matches!(*other, Cap::Thread { ptr: p } if p == ptr),
            Cap::Domain => matches!(*other, Cap::Domain),
            Cap::IrqControl => matches!(*other, Cap::IrqControl | Cap::IrqHandler { .. }),
            Cap::IrqHandler { irq } => matches!(*other, Cap::IrqHandler { irq: i } if i == irq),
            Cap::SchedContext { ptr, size_bits } => matches!(
                *other,
                Cap::SchedContext { ptr: p, size_bits: s } if p == ptr && s == size_bits
            ),
            Cap::SchedControl { core } => {
                matches!(*other, Cap::SchedControl { core: c } if c == core)
            }
            Cap::Frame {
                paddr, size_bits, ..
            } => match *other {
                Cap::Frame {
                    paddr: p,
                    size_bits: s,
                    ..
                } => {
                    let top_a = paddr + (1u64 << size_bits) - 1;
                    let top_b = p + (1u64 << s) - 1;
                    paddr <= p && top_a >= top_b
                }
                _ => false,
            },
            Cap::PageTable { paddr, .. } => {
                matches!(*other, Cap::PageTable { paddr: p, .. } if p == paddr)
            }
            Cap::VSpace { paddr, .. } => {
                matches!(*other, Cap::VSpace { paddr: p, .. } if p == paddr)
            }
            Cap::AsidControl => matches!(*other, Cap::AsidControl),
            Cap::AsidPool { paddr, .. } => {
                matches!(*other, Cap::AsidPool { paddr: p, .. } if p == paddr)
            }
            Cap::IoPortControl => matches!(*other, Cap::IoPortControl | Cap::IoPort { .. }),
            Cap::IoPort { first, last } => {
                matches!(*other, Cap::IoPort { first: f, last: l } if f == first && l == last)
            }
            // seL4 `Arch_sameRegionAs`: every SMC cap names the one secure monitor.
            Cap::Smc { .. } => matches!(*other, Cap::Smc { .. }),
            Cap::Vcpu { ptr } => matches!(*other, Cap::Vcpu { ptr: p } if p == ptr),
            Cap::Null | Cap::Zombie { .. } => false,
        }
    }

    /// seL4 `sameObjectAs`: whether `other` is a cap to the very same object (used to decide
    /// whether a cap is the last one to its object).
    pub fn same_object_as(&self, other: &Cap) -> bool {
        match (*self, *other) {
            (Cap::Untyped { .. }, _) => false,
            (Cap::IrqControl, Cap::IrqHandler { .. }) => false,
            (Cap::IoPortControl, Cap::IoPort { .. }) => false,
            (
                Cap::Frame {
                    paddr,
                    size_bits,
                    device,
                    ..
                },
                Cap::Frame {
                    paddr: p,
                    size_bits: s,
                    device: d,
                    ..
                },
            ) => paddr == p && size_bits == s && device == d,
            _ => self.same_region_as(other),
        }
    }

    /// seL4 `isCapRevocable`: whether `derived`, made from `src`, is an original cap.
    pub fn is_revocable(derived: &Cap, src: &Cap) -> bool {
        match *derived {
            Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } => badge != src.badge(),
            Cap::IrqHandler { .. } => matches!(src, Cap::IrqControl),
            Cap::IoPort { .. } => matches!(src, Cap::IoPortControl),
            Cap::Smc { badge } => badge != src.badge(),
            Cap::Untyped { .. } => true,
            _ => false,
        }
    }

    /// Whether this is a CNode cap.
    pub fn is_cnode(&self) -> bool {
        matches!(self, Cap::CNode { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_roundtrips() {
        let caps = [
            Cap::Null,
            Cap::Untyped {
                paddr: 0x4000_0000,
                size_bits: 20,
                free_index: 7,
                is_device: true,
            },
            Cap::Endpoint {
                ptr: 0x1230,
                badge: u64::MAX,
                rights: CapRights(0xb),
            },
            Cap::CNode {
                ptr: 0x8000,
                radix: 12,
                guard_size: 52,
                guard: 0,
            },
            Cap::Frame {
                paddr: 0x20_0000,
                size_bits: 21,
                rights: CapRights::RW,
                device: false,
                mapped: Some(Mapping {
                    asid: 1,
                    vaddr: 0x40_0000,
                }),
            },
            Cap::Zombie {
                ptr: 0x8000,
                kind: ZombieKind::CNode { radix: 3 },
                remaining: 8,
            },
            Cap::IoPort {
                first: 0x3f8,
                last: 0x3ff,
            },
        ];
        for c in caps {
            assert_eq!(Cap::decode(c.encode()), c);
        }
    }
}

#[cfg(test)]
mod relation_tests {
    use super::*;

    #[test]
    fn region_and_object_relations() {
        let ut = Cap::Untyped {
            paddr: 0x10000,
            size_bits: 16,
            free_index: 0,
            is_device: false,
        };
        let ep = Cap::Endpoint {
            ptr: 0x10010,
            badge: 0,
            rights: CapRights::ALL,
        };
        let ep_b = Cap::Endpoint {
            ptr: 0x10010,
            badge: 5,
            rights: CapRights::RW,
        };
        let far = Cap::Endpoint {
            ptr: 0x20010,
            badge: 0,
            rights: CapRights::ALL,
        };
        assert!(ut.same_region_as(&ep) && !ut.same_region_as(&far));
        assert!(!ut.same_object_as(&ut));
        assert!(ep.same_region_as(&ep_b) && ep.same_object_as(&ep_b));
        assert!(Cap::IrqControl.same_region_as(&Cap::IrqHandler { irq: 3 }));
        assert!(!Cap::IrqControl.same_object_as(&Cap::IrqHandler { irq: 3 }));
        let big = Cap::Frame {
            paddr: 0x20_0000,
            size_bits: 21,
            rights: CapRights::RW,
            device: false,
            mapped: None,
        };
        let small = Cap::Frame {
            paddr: 0x20_1000,
            size_bits: 12,
            rights: CapRights::RW,
            device: false,
            mapped: None,
        };
        assert!(big.same_region_as(&small) && !small.same_region_as(&big));
        assert!(!big.same_object_as(&small));
        assert!(Cap::is_revocable(&ep_b, &ep) && !Cap::is_revocable(&ep, &ep));
        assert!(Cap::is_revocable(
            &Cap::IrqHandler { irq: 1 },
            &Cap::IrqControl
        ));
        // updateCapData: badge only once; CNode guard checked against radix.
        assert_eq!(ep.update_data(false, 7).badge(), 7);
        assert!(ep_b.update_data(false, 7).is_null());
        assert!(ep.update_data(true, 7).is_null());
        let cn = Cap::CNode {
            ptr: 0x8000,
            radix: 60,
            guard_size: 0,
            guard: 0,
        };
        assert!(cn.update_data(true, 5).is_null());
        assert_eq!(
            cn.update_data(true, (0xff << 6) | 4),
            Cap::CNode {
                ptr: 0x8000,
                radix: 60,
                guard_size: 4,
                guard: 0xf
            }
        );
        // Masking: notifications keep only Read/Write; frames become R or RW or nothing.
        let n = Cap::Notification {
            ptr: 0x40,
            badge: 0,
            rights: CapRights::RW,
        };
        assert_eq!(n.mask_rights(CapRights::ALL).rights(), CapRights::RW);
        assert_eq!(big.mask_rights(CapRights(1)).rights(), CapRights::NONE);
        assert_eq!(big.mask_rights(CapRights(2)).rights(), CapRights(2));
    }
}
