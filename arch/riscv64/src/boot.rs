//! S-mode entry from OpenSBI: boot page table, jump into the high-half kernel window, BSS,
//! stack, then `kernel_main(hart_id, dtb_paddr)` (defined by the platform crate).
//!
//! OpenSBI enters at the image's physical load address with the MMU off, a0 = hart id and
//! a1 = DTB physical address. The boot root table maps (all with 1 GiB pages):
//! * slot 2: identity for 0x8000_0000..0xC000_0000 (only used for the jump; removed later by
//!   [`crate::mmu::drop_identity_map`]);
//! * slots 256..256+`KERNEL_WINDOW_GIB`: the global kernel window (phys 0.. at
//!   `KERNEL_WINDOW_BASE`), which also contains the kernel image itself.
//!
//! Needs the linker script to provide `__bss_start`, `__bss_end` (8-byte aligned) and to put
//! `.text.boot` first in the image; [`crate::mmu::protect_kernel_image`] also needs the
//! page-aligned `__kernel_start`, `__rodata_start`, `__data_start` and `__kernel_end`.

core::arch::global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    csrw sie, zero
    csrci sstatus, 2
    mv s0, a0
    mv s1, a1

    /* Clear the boot root table (physical address: PC-relative before paging). */
    lla t0, __boot_root_pt
    mv t1, t0
    li t2, 512
1:  sd zero, 0(t1)
    addi t1, t1, 8
    addi t2, t2, -1
    bnez t2, 1b

    /* Slot 2: identity 1 GiB page at 0x80000000, V R W X A D. */
    li t1, 0x200000CF
    sd t1, 16(t0)

    /* Slots 256..: the window, V R W X G A D. */
    li t2, 0
    li t3, {window_gib}
    li t5, 2048
    add t4, t0, t5
2:  slli t1, t2, 28
    ori t1, t1, 0xEF
    sd t1, 0(t4)
    addi t4, t4, 8
    addi t2, t2, 1
    blt t2, t3, 2b

    /* satp = Sv39 | ASID 0 | root PPN. */
    srli t1, t0, 12
    li t2, 0x8000000000000000
    or t1, t1, t2
    sfence.vma
    csrw satp, t1
    sfence.vma

    /* Continue at the same code's window address. */
    li t2, {window_base}
    lla t1, 3f
    add t1, t1, t2
    jr t1
3:
    lla t0, __bss_start
    lla t1, __bss_end
4:  bgeu t0, t1, 5f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 4b
5:
    lla sp, __kernel_stack_top
    .option push
    .option norelax
    mv gp, zero
    .option pop
    mv a0, s0
    mv a1, s1
    call kernel_main
6:  wfi
    j 6b

    .section .data.boot_pt, "aw"
    .balign 4096
    .global __boot_root_pt
__boot_root_pt:
    .space 4096

    .section .bss.kernel_stack, "aw", @nobits
    .balign 16
    .global __kernel_stack_bottom
__kernel_stack_bottom:
    .space {stack_size}
    .global __kernel_stack_top
__kernel_stack_top:
"#,
    window_gib = const crate::layout::KERNEL_WINDOW_GIB,
    window_base = const crate::layout::KERNEL_WINDOW_BASE,
    stack_size = const KERNEL_STACK_SIZE,
);

/// Size of the single kernel stack.
pub const KERNEL_STACK_SIZE: usize = 64 * 1024;
