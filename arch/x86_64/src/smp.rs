//! Application-processor bring-up on x86_64 (multicore phase 1, `docs/smp.md`), only in
//! kernels built with the `smp` feature; and the big kernel lock around every kernel entry.
//!
//! The bootstrap processor copies a real-mode trampoline to physical [`TRAMPOLINE_PADDR`]
//! (low memory, which the kernel core never allocates from) and sends each AP the INIT IPI,
//! then two STARTUP IPIs whose vector is the trampoline's page number, through its local
//! APIC. The AP starts in real mode at the trampoline: it loads the trampoline's own GDT,
//! enters protected mode, turns on PAE, long mode (EFER.LME, NXE, SCE) and paging with
//! [`AP_PML4`] (the kernel's upper-half PML4 entries plus an identity map of the first
//! 2 MiB, for the trampoline itself), far-jumps to 64-bit code and continues in the kernel's
//! upper half at `x86_ap_high_entry` on its own kernel stack (a 16 KiB slot of
//! `x86_ap_stacks` in `.bss`). There it switches to the kernel's own PML4, loads the
//! kernel's GDT and IDT (the BSP's, copied with `sgdt`/`sidt`; no TSS: phase 1 APs never
//! leave ring 0) and calls the platform's `kernel_secondary_main(core)`.
//!
//! Which core is running: the GS base belongs to user threads (it is restored from their
//! context on every return), so the core index comes from the local APIC ID, looked up in
//! the table the BSP fills ([`current_core`]).

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::layout::{KERNEL_CS, KERNEL_SS, KERNEL_VBASE};
use crate::trap::KCell;
use crate::{lapic, mm};

/// Most cores this kernel brings up (`sel4_abi::config::MAX_NUM_NODES_LIMIT`).
pub const MAX_CORES: usize = 16;
/// Kernel stack of each AP.
pub const AP_STACK_SIZE: usize = 16 * 1024;
/// Physical address the trampoline runs at (page aligned, below 1 MiB: the STARTUP IPI's
/// vector is its page number).
pub const TRAMPOLINE_PADDR: u64 = 0x8000;

/// ICR command: INIT, level assert.
const IPI_INIT: u32 = 0x4500;
/// ICR command: STARTUP (vector = trampoline page number).
const IPI_STARTUP: u32 = 0x4600;

/// Local APIC ID of each core by index (index 0: the BSP); `u32::MAX` = unused.
static CORE_APIC_ID: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(u32::MAX) }; MAX_CORES];
/// Set by each core once it runs in the kernel's address space on its own stack.
static ONLINE: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];

/// One page-table page.
#[repr(C, align(4096))]
struct Table([u64; 512]);

/// The AP's first PML4: the kernel's upper-half entries plus PML4[0] → [`AP_PDPT`].
static AP_PML4: KCell<Table> = KCell::new(Table([0; 512]));
/// PDPT[0] → [`AP_PD`].
static AP_PDPT: KCell<Table> = KCell::new(Table([0; 512]));
/// PD[0]: physical 0..2 MiB, identity (the trampoline page).
static AP_PD: KCell<Table> = KCell::new(Table([0; 512]));

/// Bytes of `x86_ap_high_params` (in the assembly's `.data`): what `x86_ap_high_entry`
/// loads: the kernel's PML4 (offset 0), then the BSP's GDT and IDT registers (10-byte
/// pseudo-descriptors at offsets 8 and 24).
const HIGH_PARAMS_CR3: usize = 0;
const HIGH_PARAMS_GDTR: usize = 8;
const HIGH_PARAMS_IDTR: usize = 24;

extern "C" {
    static x86_ap_trampoline_start: u8;
    static x86_ap_trampoline_end: u8;
    static x86_ap_param_cr3: u8;
    static x86_ap_param_entry: u8;
    static x86_ap_param_stack: u8;
    static x86_ap_param_index: u8;
    static x86_ap_stacks: u8;
    static mut x86_ap_high_params: [u8; 40];
    fn x86_ap_high_entry();
}

/// Record the running CPU as core 0 (the BSP). Call once, before [`prepare`].
pub fn register_boot_core() {
    CORE_APIC_ID[0].store(lapic::id(), Ordering::Relaxed);
    ONLINE[0].store(true, Ordering::Release);
}

/// Index of the running core (0 for the BSP, and for an APIC ID never started).
pub fn current_core() -> usize {
    let me = lapic::id();
    CORE_APIC_ID
        .iter()
        .position(|a| a.load(Ordering::Relaxed) == me)
        .unwrap_or(0)
}

/// Whether core `index` has come up.
pub fn is_online(index: usize) -> bool {
    ONLINE.get(index).is_some_and(|o| o.load(Ordering::Acquire))
}

/// Mark the running AP `index` as up.
pub fn set_online(index: usize) {
    if let Some(o) = ONLINE.get(index) {
        o.store(true, Ordering::Release);
    }
}

/// Kernel-image address of physical low-memory address `pa` (the image mapping covers
/// physical 0..1 GiB).
fn low(pa: u64) -> *mut u8 {
    (KERNEL_VBASE + pa) as *mut u8
}

/// Offset of trampoline symbol `sym` from the trampoline's start.
fn tramp_offset(sym: *const u8) -> u64 {
    sym as u64 - (&raw const x86_ap_trampoline_start) as u64
}

/// Build the AP page tables, copy the trampoline to [`TRAMPOLINE_PADDR`] and record the
/// kernel's PML4, GDT and IDT for the APs. Call on the BSP after `mm::init` and
/// `tables::init`, with interrupts off, before [`start_ap`].
pub fn prepare() {
    let pml4 = AP_PML4.get() as *mut u64;
    let pdpt = AP_PDPT.get() as *mut u64;
    let pd = AP_PD.get() as *mut u64;
    // SAFETY: boot is single-threaded with interrupts off and no AP runs yet; these tables
    // are referenced by no CR3 until an AP loads them. Entry indices are below 512.
    unsafe {
        pd.write_volatile(0x83); // present, writable, 2 MiB page at 0
        pdpt.write_volatile(mm::image_paddr(pd as u64) | 3);
        pml4.write_volatile(mm::image_paddr(pdpt as u64) | 3);
        for i in 256..512 {
            pml4.add(i).write_volatile(mm::kernel_pml4_slot(i));
        }
    }
    let start = &raw const x86_ap_trampoline_start;
    let len = (&raw const x86_ap_trampoline_end) as usize - start as usize;
    assert!(len <= 4096, "the AP trampoline must fit in one page");
    let p = (&raw mut x86_ap_high_params).cast::<u8>();
    // SAFETY: the trampoline bytes are in the kernel image; the destination page is low
    // memory mapped by the kernel image mapping and used by nothing else (the kernel core
    // gets no RAM below 1 MiB). The parameter block is written before any AP starts.
    unsafe {
        core::ptr::copy_nonoverlapping(start, low(TRAMPOLINE_PADDR), len);
        let cr3 = mm::image_paddr(pml4 as u64);
        assert!(cr3 < 1 << 32, "the AP page tables must lie below 4 GiB");
        let at = low(TRAMPOLINE_PADDR + tramp_offset(&raw const x86_ap_param_cr3));
        at.cast::<u32>().write_unaligned(cr3 as u32);
        let at = low(TRAMPOLINE_PADDR + tramp_offset(&raw const x86_ap_param_entry));
        at.cast::<u64>()
            .write_unaligned(x86_ap_high_entry as *const () as u64);
        p.add(HIGH_PARAMS_CR3)
            .cast::<u64>()
            .write_unaligned(mm::kernel_pml4_paddr());
        core::arch::asm!("sgdt [{}]", in(reg) p.add(HIGH_PARAMS_GDTR), options(nostack));
        core::arch::asm!("sidt [{}]", in(reg) p.add(HIGH_PARAMS_IDTR), options(nostack));
    }
}

/// Start the AP with local APIC ID `apic_id` as core `index` (1..[`MAX_CORES`]): INIT, then
/// two STARTUP IPIs (`wait_us` waits the given microseconds; the second STARTUP is skipped
/// when the first one already brought the core up). Returns without waiting for the core.
pub fn start_ap(index: usize, apic_id: u32, wait_us: &dyn Fn(u64)) {
    assert!(
        (1..MAX_CORES).contains(&index),
        "core index {index} out of range"
    );
    CORE_APIC_ID[index].store(apic_id, Ordering::Release);
    let stack_top = (&raw const x86_ap_stacks) as u64 + ((index + 1) * AP_STACK_SIZE) as u64;
    // SAFETY: the trampoline page was set up by `prepare`; no AP runs the trampoline now
    // (the previous one has come up and left it, or never started).
    unsafe {
        let at = low(TRAMPOLINE_PADDR + tramp_offset(&raw const x86_ap_param_stack));
        at.cast::<u64>().write_unaligned(stack_top);
        let at = low(TRAMPOLINE_PADDR + tramp_offset(&raw const x86_ap_param_index));
        at.cast::<u64>().write_unaligned(index as u64);
    }
    core::sync::atomic::fence(Ordering::SeqCst);
    let vector = (TRAMPOLINE_PADDR >> 12) as u32;
    lapic::send_ipi(apic_id, IPI_INIT);
    wait_us(10_000);
    for _ in 0..2 {
        if is_online(index) {
            break;
        }
        lapic::send_ipi(apic_id, IPI_STARTUP | vector);
        wait_us(200);
    }
}

core::arch::global_asm!(
    r#"
    .section .rodata.x86_ap_trampoline, "a"
    .balign 16
    .global x86_ap_trampoline_start
    .global x86_ap_trampoline_end
    .global x86_ap_param_cr3
    .global x86_ap_param_entry
    .global x86_ap_param_stack
    .global x86_ap_param_index
    .code16
x86_ap_trampoline_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl (x86_ap_tramp_gdtr - x86_ap_trampoline_start + {tp})
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $(x86_ap_tramp_pm32 - x86_ap_trampoline_start + {tp})

    .code32
x86_ap_tramp_pm32:
    movw $0x18, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl (x86_ap_param_cr3 - x86_ap_trampoline_start + {tp}), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl $0x901, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax
    movl %eax, %cr0
    ljmpl $0x10, $(x86_ap_tramp_lm64 - x86_ap_trampoline_start + {tp})

    .code64
x86_ap_tramp_lm64:
    movl $(x86_ap_param_entry - x86_ap_trampoline_start + {tp}), %ebx
    movq (%rbx), %rax
    movq 8(%rbx), %rsp
    movq 16(%rbx), %rdi
    jmpq *%rax

    .balign 8
x86_ap_tramp_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
x86_ap_tramp_gdtr:
    .word 4 * 8 - 1
    .long x86_ap_tramp_gdt - x86_ap_trampoline_start + {tp}
    .balign 8
x86_ap_param_cr3:
    .long 0
    .long 0
x86_ap_param_entry:
    .quad 0
x86_ap_param_stack:
    .quad 0
x86_ap_param_index:
    .quad 0
x86_ap_trampoline_end:

    .text
    .global x86_ap_high_entry
x86_ap_high_entry:
    leaq x86_ap_high_params(%rip), %rbx
    movq {cr3_off}(%rbx), %rax
    movq %rax, %cr3
    lgdt {gdtr_off}(%rbx)
    lidt {idtr_off}(%rbx)
    movw ${kss}, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    pushq ${kcs}
    leaq 1f(%rip), %rax
    pushq %rax
    lretq
1:
    xorl %ebp, %ebp
    call kernel_secondary_main
2:
    cli
    hlt
    jmp 2b

    .section .data.x86_ap_high_params, "aw"
    .balign 16
    .global x86_ap_high_params
x86_ap_high_params:
    .skip 40

    .section .bss.x86_ap_stacks, "aw", @nobits
    .balign 16
    .global x86_ap_stacks
x86_ap_stacks:
    .skip {stacks_bytes}
    .text
"#,
    tp = const TRAMPOLINE_PADDR,
    kss = const KERNEL_SS,
    kcs = const KERNEL_CS,
    stacks_bytes = const AP_STACK_SIZE * MAX_CORES,
    cr3_off = const HIGH_PARAMS_CR3,
    gdtr_off = const HIGH_PARAMS_GDTR,
    idtr_off = const HIGH_PARAMS_IDTR,
    options(att_syntax)
);
