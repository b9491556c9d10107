//! The real kernel behind the library's `Kernel` trait, the entry point, and the monitor loop.

use alloc::string::String;
use core::fmt;

use microkit_initialiser::apply::{is_edge, Builder, Kernel, ROOT_CNODE};
use microkit_initialiser::untyped::Allocator;
use microkit_initialiser::{fault, user_context_names};
use microkit_spec::{decode, Arch, IrqSource, Spec};
use sel4_sys::abi::{ObjectKind as K, ARCH};
use sel4_sys::init_caps as ic;
use sel4_sys::ops::{self, InvokeError};
use sel4_sys::{syscall, CapRights};

use crate::println;
use crate::rt::halt;

/// Patched by the `microkit` tool: (vaddr, length) of the appended system blob.
#[no_mangle]
#[used]
#[link_section = ".data"]
static mut MICROKIT_SYSTEM: [u64; 2] = [0, 0];

/// Patched by the `microkit` tool: the configuration record of the kernel this image was
/// packed with (`sel4_abi::config` words), or zeroes.
#[no_mangle]
#[used]
#[link_section = ".data"]
static mut MICROKIT_KERNEL_CONFIG: [u64; 4] = [0; 4];

/// Numbers invocation labels as the packed kernel's configuration does; without a record
/// (a kernel the tool found none in), seL4's plain numbering.
fn use_kernel_config() {
    // SAFETY: written only by the `microkit` tool before boot.
    let words = unsafe { core::ptr::addr_of!(MICROKIT_KERNEL_CONFIG).read_volatile() };
    if words[0] == sel4_sys::config::RECORD_MAGIC {
        sel4_sys::set_kernel_config(&sel4_sys::config::KernelConfig::from_words(&words));
    }
}

/// seL4 through `sel4-sys`, from the root task's CSpace.
struct Sel4 {
    sched_control: u64,
}

impl Kernel for Sel4 {
    fn untyped_retype(&mut self, untyped: u64, ty: u64, size_bits: u64, dest: u64) -> Result<(), InvokeError> {
        ops::untyped_retype(untyped, ty, size_bits, ROOT_CNODE, 0, 0, dest, 1)
    }
    fn irq_get(&mut self, source: &IrqSource, dest: u64) -> Result<(), InvokeError> {
        match *source {
            IrqSource::Plain { irq, trigger } => ops::irq_control_get_trigger(ic::IRQ_CONTROL, irq, is_edge(trigger), ROOT_CNODE, dest, 64),
            IrqSource::IoApic { ioapic, pin, level, polarity, vector } => {
                ops::irq_control_get_ioapic(ic::IRQ_CONTROL, ROOT_CNODE, dest, 64, ioapic, pin, level, polarity, vector)
            }
            IrqSource::Msi { .. } => Err(InvokeError::NoSuchMethod),
        }
    }
    fn ioport_issue(&mut self, first: u64, last: u64, dest: u64) -> Result<(), InvokeError> {
        ops::ioport_control_issue(ic::IO_PORT_CONTROL, first, last, ROOT_CNODE, dest, 64)
    }
    fn table_map(&mut self, kind: K, table: u64, vspace: u64, vaddr: u64, attr: u64) -> Result<(), InvokeError> {
        match kind {
            K::X86Pdpt => ops::pdpt_map(table, vspace, vaddr, attr),
            K::X86PageDirectory => ops::page_directory_map(table, vspace, vaddr, attr),
            _ => ops::page_table_map(table, vspace, vaddr, attr),
        }
    }
    fn page_map(&mut self, frame: u64, vspace: u64, vaddr: u64, rights: CapRights, attr: u64) -> Result<(), InvokeError> {
        ops::page_map(frame, vspace, vaddr, rights, attr)
    }
    fn page_unmap(&mut self, frame: u64) -> Result<(), InvokeError> {
        ops::page_unmap(frame)
    }
    fn frame_paddr(&mut self, frame: u64) -> Result<u64, InvokeError> {
        ops::page_get_address(frame)
    }
    fn write_memory(&mut self, vaddr: u64, bytes: &[u8]) {
        // SAFETY: the builder only writes inside a frame it has just mapped read-write at a
        // scratch address of this VSpace that nothing else uses.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), vaddr as *mut u8, bytes.len()) };
    }
    fn cnode_copy(&mut self, dest: u64, src: u64, rights: CapRights) -> Result<(), InvokeError> {
        ops::cnode_copy(ROOT_CNODE, dest, 64, ROOT_CNODE, src, 64, rights)
    }
    fn cnode_mint(&mut self, cnode: u64, slot: u64, depth: u8, src: u64, rights: CapRights, badge: u64) -> Result<(), InvokeError> {
        ops::cnode_mint(cnode, slot, depth, ROOT_CNODE, src, 64, rights, badge)
    }
    fn cnode_move(&mut self, cnode: u64, slot: u64, depth: u8, src: u64) -> Result<(), InvokeError> {
        ops::cnode_move(cnode, slot, depth, ROOT_CNODE, src, 64)
    }
    fn asid_assign(&mut self, vspace: u64) -> Result<(), InvokeError> {
        ops::asid_pool_assign(ic::ASID_POOL, vspace)
    }
    fn sc_configure(&mut self, core: u64, sc: u64, budget: u64, period: u64, extra_refills: u64, badge: u64) -> Result<(), InvokeError> {
        ops::sched_control_configure_flags(self.sched_control + core, sc, budget, period, extra_refills, badge, 0)
    }
    fn irq_set_notification(&mut self, handler: u64, ntfn: u64) -> Result<(), InvokeError> {
        ops::irq_handler_set_notification(handler, ntfn)
    }
    fn tcb_configure(&mut self, tcb: u64, cspace: u64, cspace_data: u64, vspace: u64, buffer: u64, frame: u64) -> Result<(), InvokeError> {
        ops::tcb_configure(tcb, cspace, cspace_data, vspace, 0, buffer, frame)
    }
    fn tcb_sched(&mut self, tcb: u64, mcp: u64, prio: u64, sc: u64, fault_ep: u64) -> Result<(), InvokeError> {
        ops::tcb_set_sched_params(tcb, ic::TCB, mcp, prio, sc, fault_ep)
    }
    fn tcb_bind(&mut self, tcb: u64, ntfn: u64) -> Result<(), InvokeError> {
        ops::tcb_bind_notification(tcb, ntfn)
    }
    fn tcb_write_registers(&mut self, tcb: u64, regs: &[u64]) -> Result<(), InvokeError> {
        ops::tcb_write_registers(tcb, false, 0, regs)
    }
    fn tcb_resume(&mut self, tcb: u64) -> Result<(), InvokeError> {
        ops::tcb_resume(tcb)
    }
    fn domain_set(&mut self, tcb: u64, domain: u64) -> Result<(), InvokeError> {
        ops::domain_set_set(ic::DOMAIN, domain, tcb)
    }
    fn domain_schedule_configure(&mut self, index: u64, domain: u64, duration: u64) -> Result<(), InvokeError> {
        ops::domain_schedule_configure(ic::DOMAIN, index, domain, duration)
    }
    fn domain_schedule_set_start(&mut self, index: u64) -> Result<(), InvokeError> {
        ops::domain_schedule_set_start(ic::DOMAIN, index)
    }
    fn name_thread(&mut self, tcb: u64, name: &str) {
        // Thread names are a debug-build facility (Microkit names TCBs only then).
        if syscall::kernel_is_debug_build() {
            syscall::debug_name_thread(tcb, name.as_bytes());
        }
    }
    fn log(&mut self, args: fmt::Arguments) {
        println!("{}", args);
    }
}

/// Microkit's monitor: passive-PD requests and fault reports, forever.
fn monitor(b: &mut Builder<Sel4>, spec: &Spec, ep_obj: u32) -> ! {
    let arch = spec.arch;
    let ep = b.obj[ep_obj as usize];
    let reply = match b.monitor_reply.ok_or(()).or_else(|_| b.retype(K::Reply, 0, None)) {
        Ok(r) => r,
        Err(e) => {
            println!("initialiser: ERROR: monitor reply object: {e}");
            halt()
        }
    };
    println!("MON|INFO: initialiser is now the monitor");
    let names = user_context_names(arch);
    loop {
        let (info, badge) = syscall::recv(ep, reply);
        let label = info.label();
        let Some(pd) = (badge as usize).checked_sub(1).and_then(|i| spec.pds.get(i)) else {
            println!("MON|ERROR: message with unknown badge {badge:#x} (label {label:#x})");
            continue;
        };
        let tcb = b.obj[pd.tcb as usize];
        if label == 0 && pd.passive {
            let (Some(sc), Some(ntfn)) = (pd.sc, pd.bound_notification) else {
                println!("MON|ERROR: PD '{}' asked to be passive without SC or notification", pd.name);
                continue;
            };
            let (sc, ntfn) = (b.obj[sc as usize], b.obj[ntfn as usize]);
            match ops::sched_context_unbind_object(sc, tcb).and_then(|_| ops::sched_context_bind(sc, ntfn)) {
                Ok(()) => println!("MON|INFO: PD '{}' is now passive!", pd.name),
                Err(e) => println!("MON|ERROR: could not make PD '{}' passive: {:?}", pd.name, e),
            }
            continue;
        }
        let mut mrs = [0u64; 20];
        for (i, m) in mrs.iter_mut().enumerate() {
            *m = sel4_sys::get_mr(i);
        }
        println!("MON|ERROR: received message {label:#010x}  badge: {badge:#018x}  tcb cap: {tcb:#018x}");
        println!("MON|ERROR: faulting PD: {}", pd.name);
        let mut regs = [0u64; 36];
        let n = names.len();
        if ops::tcb_read_registers(tcb, false, 0, &mut regs[..n]).is_ok() {
            for (name, v) in names.iter().zip(regs.iter()).take(12) {
                println!("MON|ERROR: {name:>4}: {v:#018x}");
            }
        }
        let mut line = String::new();
        let _ = fault::describe(&mut line, arch, &pd.name, label, |i| mrs.get(i).copied().unwrap_or(0));
        println!("{line}");
    }
}

fn system_blob() -> Option<&'static [u8]> {
    // SAFETY: written only by the `microkit` tool before boot.
    let [vaddr, len] = unsafe { core::ptr::addr_of!(MICROKIT_SYSTEM).read_volatile() };
    if vaddr == 0 || len == 0 {
        return None;
    }
    // SAFETY: the tool appended `len` bytes at `vaddr` as a PT_LOAD segment of this image,
    // which the kernel mapped before starting us; nothing writes them.
    Some(unsafe { core::slice::from_raw_parts(vaddr as *const u8, len as usize) })
}

fn arch_of_build() -> Arch {
    match ARCH {
        sel4_sys::Arch::Aarch64 => Arch::Aarch64,
        sel4_sys::Arch::Riscv64 => Arch::Riscv64,
        sel4_sys::Arch::X86_64 => Arch::X86_64,
    }
}

/// Entered from sel4-root's `_start` with the boot-info vaddr.
#[no_mangle]
extern "C" fn root_main(bootinfo_addr: u64) -> ! {
    use_kernel_config();
    let bi = sel4_root::rt::boot_info(bootinfo_addr);
    if let Err(e) = sel4_root::bootinfo::check(bi) {
        println!("initialiser: bad boot info: {e}");
        halt()
    }
    let mut untyped = Allocator::default();
    for (slot, d) in sel4_root::bootinfo::untypeds(bi) {
        untyped.add(slot, d.paddr, d.size_bits, d.is_device != 0);
    }
    println!(
        "initialiser: {} untypeds ({} KiB RAM), free slots {}..{}",
        untyped.untypeds.len(),
        untyped.free_ram() / 1024,
        bi.empty.start,
        bi.empty.end
    );
    let Some(blob) = system_blob() else {
        println!("initialiser: no system attached (MICROKIT_SYSTEM is empty)");
        halt()
    };
    let (spec, data) = match decode(blob) {
        Ok(s) => s,
        Err(e) => {
            println!("initialiser: ERROR: invalid system description: {e:?}");
            halt()
        }
    };
    if spec.arch != arch_of_build() {
        println!("initialiser: ERROR: system built for {:?}, this is {:?}", spec.arch, arch_of_build());
        halt()
    }
    println!("initialiser: system with {} objects, {} PDs, {} mappings", spec.objects.len(), spec.pds.len(), spec.mappings.len());
    for line in microkit_initialiser::iommu::notice(&spec, bi.num_io_pt_levels) {
        println!("{line}");
    }
    let kernel = Sel4 { sched_control: bi.schedcontrol.start };
    let extra = sel4_root::rt::extra_boot_info(bootinfo_addr, bi);
    let mut b = Builder::new(kernel, &spec, data, untyped, (bi.empty.start, bi.empty.end)).with_extra_bootinfo(extra).with_num_nodes(bi.num_nodes);
    if let Err(f) = b.run() {
        println!("initialiser: ERROR: {} '{}': {}", f.step, f.what, f.err);
        halt()
    }
    match spec.fault_ep {
        Some(ep) => monitor(&mut b, &spec, ep),
        None => halt(),
    }
}
