//! Boot: build the root task's environment and `seL4_BootInfo` (seL4 `init_kernel` /
//! `create_initial_thread` & co).
//!
//! Given the free RAM and device regions and the root task's already-loaded image, [`boot`]
//! carves kernel memory (IRQ node, idle TCB), then creates the root CNode (radix 12, guard
//! size 52), the initial caps in seL4's slot numbers, the root VSpace with page tables
//! and image frame caps, the IPC buffer and bootinfo frames, the initial TCB and SC, the
//! SchedControl cap, and untyped caps covering the remaining memory; finally it fills
//! `seL4_BootInfo` and makes the root thread current.

use kernel_hal::{Machine, MapAttrs, MapRights, PAddr, PageTableFormat, Reg, UserContext, VAddr};
use sel4_abi::bootinfo::{slots, BootInfo, SlotRegion, UntypedDesc, MAX_BOOTINFO_UNTYPED_CAPS};
use sel4_abi::object::{self as obj};
use sel4_abi::{Arch, CapRights};

use crate::cap::{Cap, Mapping, PT_LEVEL_ANY};
use crate::kernel::{IrqState, Kernel, MAX_IRQS};
use crate::kmem;
use crate::mdb;
use crate::object::{Refill, SchedContext, Slot, Tcb, TcbSlot, ThreadState, SLOT_BYTES};
use crate::vspace::{self, ASID_POOL_ENTRIES};

/// A physical region `[start, end)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Region {
    /// First byte.
    pub start: PAddr,
    /// One past the last byte.
    pub end: PAddr,
}

/// One 4 KiB page of the root task's image, already loaded at `paddr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageFrame {
    /// Virtual address (page aligned).
    pub vaddr: VAddr,
    /// Physical address (page aligned), outside the free RAM regions.
    pub paddr: PAddr,
    /// Mapping permissions from the ELF segment.
    pub rights: MapRights,
}

/// Inputs to [`boot`].
pub struct BootParams<'a> {
    /// The architecture (label and object-type numbering).
    pub arch: Arch,
    /// Free RAM the kernel may use for its own objects and hand out as untyped (must not
    /// contain the kernel or the loaded image).
    pub ram: &'a [Region],
    /// Device (MMIO) regions handed out as device untyped.
    pub device: &'a [Region],
    /// The root task image frames.
    pub image: &'a [ImageFrame],
    /// Entry point.
    pub entry: VAddr,
    /// Virtual address of the IPC buffer page (after the image).
    pub ipc_buffer_vaddr: VAddr,
    /// Virtual address of the bootinfo page (after the IPC buffer); extra bootinfo follows.
    pub bootinfo_vaddr: VAddr,
    /// Extra bootinfo bytes (chunks with headers) mapped after the bootinfo page.
    pub extra_bootinfo: &'a [u8],
    /// The kernel timer IRQ (reserved), if any.
    pub timer_irq: Option<u64>,
    /// The kernel's configuration (from the image's configuration record).
    pub config: sel4_abi::config::KernelConfig,
}

/// Why boot failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootError {
    /// Not enough free RAM for the kernel's boot objects.
    OutOfMemory,
    /// A region list had more entries than supported.
    TooManyRegions,
    /// A virtual address was misaligned or outside user space.
    BadVaddr,
    /// The root CNode ran out of slots.
    OutOfSlots,
}

const MAX_REGIONS: usize = 64;

/// Bump allocator over the free RAM regions (carves aligned power-of-two blocks).
struct Alloc {
    regions: [Region; MAX_REGIONS],
    n: usize,
}

impl Alloc {
    fn new(ram: &[Region]) -> Result<Alloc, BootError> {
        let mut a = Alloc {
            regions: [Region::default(); MAX_REGIONS],
            n: 0,
        };
        for r in ram {
            if r.end > r.start {
                // Never hand out physical page 0: slot address 0 means "none" in the MDB.
                let start = if r.start == 0 {
                    0x1000.min(r.end)
                } else {
                    r.start
                };
                a.push(Region { start, end: r.end })?;
            }
        }
        Ok(a)
    }
    fn push(&mut self, r: Region) -> Result<(), BootError> {
        if r.end <= r.start {
            return Ok(());
        }
        if self.n == MAX_REGIONS {
            return Err(BootError::TooManyRegions);
        }
        self.regions[self.n] = r;
        self.n += 1;
        Ok(())
    }
    fn alloc(&mut self, bits: u32) -> Result<PAddr, BootError> {
        let size = 1u64 << bits;
        for i in 0..self.n {
            let r = self.regions[i];
            let start = (r.start + size - 1) & !(size - 1);
            if start >= r.start && start.checked_add(size).is_some_and(|e| e <= r.end) {
                self.regions[i] = Region {
                    start: start + size,
                    end: r.end,
                };
                self.push(Region {
                    start: r.start,
                    end: start,
                })?;
                return Ok(start);
            }
        }
        Err(BootError::OutOfMemory)
    }
}

struct SlotCursor {
    cnode: PAddr,
    next: u64,
}

impl SlotCursor {
    fn take(&mut self) -> Result<Slot, BootError> {
        if self.next >= 1 << obj_root_bits() {
            return Err(BootError::OutOfSlots);
        }
        let s = Slot::at(self.cnode, self.next);
        self.next += 1;
        Ok(s)
    }
}

const fn obj_root_bits() -> u32 {
    sel4_abi::ROOT_CNODE_SIZE_BITS
}

/// Create a root cap (no parent) and return its slot.
fn put<M: Machine>(k: &Kernel<M>, s: Slot, c: Cap) -> Slot {
    mdb::insert_root(&k.machine, s, c);
    s
}

/// Build the kernel and the root task. See the module docs.
pub fn boot<M: Machine>(machine: M, p: &BootParams<'_>) -> Result<Kernel<M>, BootError> {
    let levels = <M::PageTable as PageTableFormat>::LEVELS;
    let user_top = <M::PageTable as PageTableFormat>::USER_TOP;
    for v in [p.ipc_buffer_vaddr, p.bootinfo_vaddr, p.entry] {
        if v >= user_top {
            return Err(BootError::BadVaddr);
        }
    }
    if p.ipc_buffer_vaddr & 0xfff != 0 || p.bootinfo_vaddr & 0xfff != 0 {
        return Err(BootError::BadVaddr);
    }
    let mut al = Alloc::new(p.ram)?;

    // Kernel-owned memory (not covered by untypeds).
    let irq_node = al.alloc((MAX_IRQS as u64 * SLOT_BYTES).trailing_zeros())?;
    kmem::zero(&machine, irq_node, MAX_IRQS as u64 * SLOT_BYTES);
    let idle = al.alloc(obj::TCB_BITS)?;
    let mut idle_tcb = Tcb::<M::Context>::new();
    idle_tcb.state = ThreadState::IdleThreadState as u64;
    kmem::zero(&machine, idle, 1 << obj::TCB_BITS);
    kmem::store(&machine, idle, &idle_tcb);
    let mut k = Kernel::new(machine, p.arch, idle, irq_node);
    k.config = p.config;
    #[cfg(feature = "smp")]
    boot_nodes(&mut k, &mut al)?;
    if let Some(t) = p.timer_irq {
        if (t as usize) < MAX_IRQS {
            k.irq_state[t as usize] = IrqState::Timer;
        }
    }

    // Root objects.
    let zeroed = |k: &Kernel<M>, al: &mut Alloc, bits: u32| -> Result<PAddr, BootError> {
        let a = al.alloc(bits)?;
        kmem::zero(&k.machine, a, 1 << bits);
        Ok(a)
    };
    let cnode_bits = obj_root_bits() + obj::SLOT_BITS;
    let cnode = zeroed(&k, &mut al, cnode_bits)?;
    let vspace_root = zeroed(&k, &mut al, obj::vspace_bits(k.arch, &k.config))?;
    k.machine.init_vspace_root(vspace_root);
    let tcb = zeroed(&k, &mut al, obj::TCB_BITS)?;
    let ipc_frame = zeroed(&k, &mut al, obj::PAGE_BITS)?;
    let bi_frame = zeroed(&k, &mut al, obj::PAGE_BITS)?;
    let asid_pool = zeroed(&k, &mut al, obj::ASID_POOL_BITS)?;
    let sc_bits = obj::MIN_SCHED_CONTEXT_BITS;
    let sc = zeroed(&k, &mut al, sc_bits)?;

    let root_cnode_cap = Cap::CNode {
        ptr: cnode,
        radix: obj_root_bits() as u8,
        guard_size: (64 - obj_root_bits()) as u8,
        guard: 0,
    };
    let asid: u16 = 1;
    let vspace_cap = Cap::VSpace {
        paddr: vspace_root,
        asid: Some(asid),
    };
    k.asid_table[0] = asid_pool;
    kmem::write_word(
        &k.machine,
        asid_pool + 8 * (asid as u64 % ASID_POOL_ENTRIES),
        vspace_root,
    );

    let s = |i: u64| Slot::at(cnode, i);
    put(&k, s(slots::INIT_THREAD_TCB), Cap::Thread { ptr: tcb });
    let cnode_slot = put(&k, s(slots::INIT_THREAD_CNODE), root_cnode_cap);
    let vspace_slot = put(&k, s(slots::INIT_THREAD_VSPACE), vspace_cap);
    put(&k, s(slots::IRQ_CONTROL), Cap::IrqControl);
    put(&k, s(slots::ASID_CONTROL), Cap::AsidControl);
    put(
        &k,
        s(slots::INIT_THREAD_ASID_POOL),
        Cap::AsidPool {
            paddr: asid_pool,
            base: 0,
        },
    );
    if p.arch == Arch::X86_64 {
        put(&k, s(slots::IO_PORT_CONTROL), Cap::IoPortControl);
    }
    if p.arch == Arch::Aarch64 {
        put(&k, s(slots::SMC), Cap::Smc { badge: 0 });
    }
    put(&k, s(slots::DOMAIN), Cap::Domain);
    put(
        &k,
        s(slots::INIT_THREAD_SC),
        Cap::SchedContext {
            ptr: sc,
            size_bits: sc_bits as u8,
        },
    );
    let mapped = |v: VAddr| Some(Mapping { asid, vaddr: v });
    let ipc_slot = put(
        &k,
        s(slots::INIT_THREAD_IPC_BUFFER),
        Cap::Frame {
            paddr: ipc_frame,
            size_bits: 12,
            rights: CapRights::RW,
            device: false,
            mapped: mapped(p.ipc_buffer_vaddr),
        },
    );
    put(
        &k,
        s(slots::BOOT_INFO_FRAME),
        Cap::Frame {
            paddr: bi_frame,
            size_bits: 12,
            rights: CapRights::RW,
            device: false,
            mapped: mapped(p.bootinfo_vaddr),
        },
    );
    let mut cur = SlotCursor {
        cnode,
        next: slots::NUM_INITIAL_CAPS,
    };
    let mut bi = BootInfo {
        node_id: 0,
        // CONFIG_MAX_NUM_NODES (1 unless the image was configured for an SMP kernel).
        num_nodes: p.config.max_num_nodes.max(1),
        num_io_pt_levels: 0,
        ipc_buffer: p.ipc_buffer_vaddr,
        init_thread_cnode_size_bits: obj_root_bits() as u64,
        init_thread_domain: 0,
        extra_len: p.extra_bootinfo.len() as u64,
        ..BootInfo::default()
    };

    // User mappings: collect every page to map, create page tables on the way.
    let rw = MapRights {
        read: true,
        write: true,
        execute: false,
    };
    let attrs = MapAttrs { cacheable: true };
    let extra_pages = (p.extra_bootinfo.len() as u64).div_ceil(4096);
    // Paging caps.
    bi.io_space_caps = SlotRegion {
        start: cur.next,
        end: cur.next,
    };
    let paging_start = cur.next;
    {
        let need = |k: &mut Kernel<M>,
                    al: &mut Alloc,
                    cur: &mut SlotCursor,
                    v: VAddr|
         -> Result<(), BootError> {
            for level in 1..levels {
                let w = vspace::walk(k, vspace_root, v, level - 1);
                if w.level == level - 1 && !<M::PageTable as PageTableFormat>::is_valid(w.pte) {
                    let t = zeroed(k, al, obj::PAGE_TABLE_BITS)?;
                    vspace::map_table(k, vspace_root, v, t, level)
                        .map_err(|_| BootError::BadVaddr)?;
                    let cover = vspace::entry_bits::<M::PageTable>(level - 1);
                    let lvl = if p.arch == Arch::X86_64 {
                        level as u8
                    } else {
                        PT_LEVEL_ANY
                    };
                    let slot = cur.take()?;
                    put(
                        k,
                        slot,
                        Cap::PageTable {
                            paddr: t,
                            level: lvl,
                            mapped: mapped(v & !((1u64 << cover) - 1)),
                        },
                    );
                }
            }
            Ok(())
        };
        for f in p.image {
            need(&mut k, &mut al, &mut cur, f.vaddr)?;
        }
        need(&mut k, &mut al, &mut cur, p.ipc_buffer_vaddr)?;
        need(&mut k, &mut al, &mut cur, p.bootinfo_vaddr)?;
        for i in 0..extra_pages {
            need(&mut k, &mut al, &mut cur, p.bootinfo_vaddr + 4096 * (1 + i))?;
        }
    }
    bi.user_image_paging = SlotRegion {
        start: paging_start,
        end: cur.next,
    };
    let map4k = |k: &mut Kernel<M>, v: VAddr, pa: PAddr, r: MapRights| -> Result<(), BootError> {
        vspace::map_leaf(k, vspace_root, v, pa, 12, r, attrs).map_err(|_| BootError::BadVaddr)
    };
    map4k(&mut k, p.ipc_buffer_vaddr, ipc_frame, rw)?;
    map4k(&mut k, p.bootinfo_vaddr, bi_frame, rw)?;

    // Extra bootinfo frames.
    let extra_start = cur.next;
    for i in 0..extra_pages {
        let f = zeroed(&k, &mut al, obj::PAGE_BITS)?;
        let lo = (i * 4096) as usize;
        let hi = core::cmp::min(lo + 4096, p.extra_bootinfo.len());
        kmem::write_bytes(&k.machine, f, &p.extra_bootinfo[lo..hi]);
        let v = p.bootinfo_vaddr + 4096 * (1 + i);
        map4k(&mut k, v, f, rw)?;
        let slot = cur.take()?;
        put(
            &k,
            slot,
            Cap::Frame {
                paddr: f,
                size_bits: 12,
                rights: CapRights::RW,
                device: false,
                mapped: mapped(v),
            },
        );
    }
    bi.extra_bi_pages = SlotRegion {
        start: extra_start,
        end: cur.next,
    };

    // SchedControl: one per core, as in seL4 (the root task runs on core 0).
    let sctl = cur.next;
    for core in 0..bi.num_nodes {
        let slot = cur.take()?;
        put(&k, slot, Cap::SchedControl { core });
    }
    bi.schedcontrol = SlotRegion {
        start: sctl,
        end: cur.next,
    };

    // Image frames.
    let img_start = cur.next;
    for f in p.image {
        if f.vaddr & 0xfff != 0 || f.paddr & 0xfff != 0 {
            return Err(BootError::BadVaddr);
        }
        map4k(&mut k, f.vaddr, f.paddr, f.rights)?;
        let slot = cur.take()?;
        put(
            &k,
            slot,
            Cap::Frame {
                paddr: f.paddr,
                size_bits: 12,
                rights: CapRights::RW,
                device: false,
                mapped: mapped(f.vaddr),
            },
        );
    }
    bi.user_image_frames = SlotRegion {
        start: img_start,
        end: cur.next,
    };

    // Initial thread.
    let mut t = Tcb::<M::Context>::new();
    t.priority = sel4_abi::MAX_PRIO;
    t.mcp = sel4_abi::MAX_PRIO;
    t.ipc_buffer = p.ipc_buffer_vaddr;
    t.sched_context = sc;
    t.state = ThreadState::Running as u64;
    t.context.set(Reg::Pc, p.entry);
    t.context.set(Reg::FaultIp, p.entry);
    t.context.set(Reg::Cap, p.bootinfo_vaddr);
    let name = b"rootserver";
    t.name[..name.len()].copy_from_slice(name);
    kmem::store(&k.machine, tcb, &t);
    let tslot = |sl: TcbSlot| Slot(Tcb::<M::Context>::slot_addr(tcb, sl));
    crate::cnode::cte_insert(
        &mut k,
        root_cnode_cap,
        cnode_slot,
        tslot(TcbSlot::CSpaceRoot),
    );
    crate::cnode::cte_insert(&mut k, vspace_cap, vspace_slot, tslot(TcbSlot::VSpaceRoot));
    let ipc_cap = mdb::get_cap(&k.machine, ipc_slot);
    crate::cnode::cte_insert(&mut k, ipc_cap, ipc_slot, tslot(TcbSlot::IpcBuffer));

    // Initial SC: budget = period = time slice, round robin.
    let now = k.machine.now_us();
    let budget = sel4_abi::BOOT_THREAD_TIME_SLICE_US;
    let core = SchedContext {
        period: budget,
        budget,
        tcb,
        refill_max: obj::sched_context_refills(sc_bits),
        refill_head: 0,
        refill_count: 1,
        size_bits: sc_bits as u64,
        ..Default::default()
    };
    crate::sched::sc_store(&k, sc, &core);
    kmem::store(
        &k.machine,
        SchedContext::refill_addr(sc, 0),
        &Refill {
            time: now,
            amount: budget,
        },
    );

    // Untypeds: remaining RAM, then device regions.
    let ut_start = cur.next;
    let mut n_ut = 0usize;
    let max_bits = obj::max_untyped_bits(p.arch);
    let mut add_region = |k: &Kernel<M>,
                          cur: &mut SlotCursor,
                          bi: &mut BootInfo,
                          r: Region,
                          device: bool|
     -> Result<(), BootError> {
        let mut a = r.start;
        while a < r.end && n_ut < MAX_BOOTINFO_UNTYPED_CAPS {
            let align = if a == 0 { 63 } else { a.trailing_zeros() };
            let fit = 63 - (r.end - a).leading_zeros();
            let bits = align.min(fit).min(max_bits);
            if bits < obj::MIN_UNTYPED_BITS {
                // Skip a fragment too small to describe.
                a += 1u64 << bits;
                continue;
            }
            let slot = cur.take()?;
            put(
                k,
                slot,
                Cap::Untyped {
                    paddr: a,
                    size_bits: bits as u8,
                    // Full, as in seL4: boot memory is not cleared here; the first retype
                    // (the untyped has no children) resets it, clearing it in preemptible
                    // chunks (`untyped::invoke`).
                    free_index: (1u64 << bits) / crate::untyped::FREE_INDEX_UNIT,
                    is_device: device,
                },
            );
            bi.untyped_list[n_ut] = UntypedDesc {
                paddr: a,
                size_bits: bits as u8,
                is_device: device as u8,
                padding: [0; 6],
            };
            n_ut += 1;
            a += 1u64 << bits;
        }
        Ok(())
    };
    let free = al;
    for r in &free.regions[..free.n] {
        add_region(&k, &mut cur, &mut bi, *r, false)?;
    }
    for r in p.device {
        add_region(&k, &mut cur, &mut bi, *r, true)?;
    }
    bi.untyped = SlotRegion {
        start: ut_start,
        end: cur.next,
    };
    bi.empty = SlotRegion {
        start: cur.next,
        end: 1 << obj_root_bits(),
    };
    kmem::store(&k.machine, bi_frame, &bi);

    k.cur_thread = tcb;
    k.cur_sc = sc;
    k.last_entry_us = now;
    k.activate_vspace();
    Ok(k)
}

/// The multicore kernel's other cores (`docs/smp.md`): an idle TCB each and the memory their
/// scheduler state is parked in while another core runs the kernel ([`crate::node`]).
#[cfg(feature = "smp")]
fn boot_nodes<M: Machine>(k: &mut Kernel<M>, al: &mut Alloc) -> Result<(), BootError> {
    let count = (k.config.max_num_nodes.max(1) as usize).min(crate::node::MAX_NODES);
    if count <= 1 {
        return Ok(());
    }
    let bytes = (count as u64 * crate::node::NODE_STATE_BYTES).next_power_of_two();
    let base = al.alloc(bytes.trailing_zeros().max(obj::TCB_BITS))?;
    let mut idles = [0; crate::node::MAX_NODES];
    for idle in idles.iter_mut().take(count).skip(1) {
        let t = al.alloc(obj::TCB_BITS)?;
        let mut tcb = Tcb::<M::Context>::new();
        tcb.state = ThreadState::IdleThreadState as u64;
        kmem::zero(&k.machine, t, 1 << obj::TCB_BITS);
        kmem::store(&k.machine, t, &tcb);
        *idle = t;
    }
    k.init_nodes(count, base, |n| idles[n]);
    // The fastpath switches threads without asking which core they belong to (seL4's checks
    // the destination's core and falls back to the slowpath): every multicore syscall takes
    // the slowpath here.
    k.fastpath = crate::fastpath::FastpathMode::Disabled;
    Ok(())
}
