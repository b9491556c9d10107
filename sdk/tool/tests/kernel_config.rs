//! The tool copies the packed kernel's configuration record into the initialiser's
//! `MICROKIT_KERNEL_CONFIG`, so the initialiser numbers its invocations as that kernel does
//! (Microkit's debug kernels have CONFIG_HARDWARE_DEBUG_API on aarch64 and x86_64).

mod common;

use boot_image::elf::{PF_R, PF_W, PF_X};
use common::*;
use microkit_tool::image;
use sel4_abi::config::KernelConfig;

const CONFIG_SYM: u64 = 0x40_1020;

fn initialiser_with_config_symbol(size: u64, file_bytes: usize) -> Vec<u8> {
    let segs: Vec<Seg> = vec![
        (0x40_0000, PF_R | PF_X, vec![0x11; 0x800], 0x800),
        (0x40_1000, PF_R | PF_W, vec![0; file_bytes], 0x3000),
    ];
    elf(
        EM_AARCH64,
        0x40_0000,
        &segs,
        &[("MICROKIT_SYSTEM", INIT_SYSTEM_SYM, 16), ("MICROKIT_KERNEL_CONFIG", CONFIG_SYM, size)],
    )
}

fn words_at(elf_bytes: &[u8]) -> [u64; 4] {
    let e = boot_image::elf::Elf::parse(elf_bytes).expect("elf");
    let off = e.vaddr_to_offset(CONFIG_SYM).expect("file bytes") as usize;
    core::array::from_fn(|i| u64::from_le_bytes(elf_bytes[off + 8 * i..off + 8 * i + 8].try_into().unwrap()))
}

#[test]
fn the_record_lands_in_the_initialiser_and_reads_back() {
    let mut init = initialiser_with_config_symbol(32, 0x40);
    let debug = KernelConfig::MICROKIT_DEBUG;
    image::patch_kernel_config(&mut init, &debug.to_words()).expect("patched");
    let w = words_at(&init);
    assert_eq!(w, debug.to_words());
    assert!(KernelConfig::from_words(&w).hardware_debug_api);
    // The embedded system still goes in as before.
    let (with, _) = image::embed_system(&init, &[7u8; 24]).expect("embeds");
    assert_eq!(words_at(&with), debug.to_words());
}

#[test]
fn an_initialiser_without_the_symbol_is_left_alone_and_a_bad_one_is_refused() {
    let init = initialiser_elf(EM_AARCH64, true);
    let mut copy = init.clone();
    image::patch_kernel_config(&mut copy, &KernelConfig::MICROKIT_DEBUG.to_words()).expect("no symbol: ok");
    assert_eq!(copy, init);
    // Too small, or in .bss (no file bytes): a clear error, not a write elsewhere.
    for (size, file) in [(16, 0x40), (32, 0x20)] {
        let mut bad = initialiser_with_config_symbol(size, file);
        let e = image::patch_kernel_config(&mut bad, &[1; 4]).unwrap_err();
        assert!(e.to_string().contains("MICROKIT_KERNEL_CONFIG"), "{e}");
    }
}
