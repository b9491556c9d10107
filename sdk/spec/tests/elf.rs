//! ELF helpers on a synthetic ELF64: segments, symbols, patching, attaching the system blob,
//! and robustness against garbage.

use microkit_spec::elf::*;
use proptest::prelude::*;

/// An ELF64 LE with two PT_LOADs (text at 0x400000, data at 0x401000 with bss) and a symtab
/// defining `MICROKIT_SYSTEM` (16 bytes in data) and `microkit_name` (64 bytes in data).
fn synth() -> Vec<u8> {
    let mut f = vec![0u8; 0x3000];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    let w16 = |f: &mut Vec<u8>, o: usize, v: u16| f[o..o + 2].copy_from_slice(&v.to_le_bytes());
    let w32 = |f: &mut Vec<u8>, o: usize, v: u32| f[o..o + 4].copy_from_slice(&v.to_le_bytes());
    let w64 = |f: &mut Vec<u8>, o: usize, v: u64| f[o..o + 8].copy_from_slice(&v.to_le_bytes());
    w16(&mut f, 16, 2);
    w64(&mut f, 24, 0x400000);
    w64(&mut f, 32, 64); // phoff
    w16(&mut f, 54, 56);
    w16(&mut f, 56, 2);
    // text: file 0x1000..0x1100 -> 0x400000, RX
    let ph = |f: &mut Vec<u8>, at: usize, flags: u32, off: u64, va: u64, fs: u64, ms: u64| {
        w32(f, at, 1);
        w32(f, at + 4, flags);
        w64(f, at + 8, off);
        w64(f, at + 16, va);
        w64(f, at + 24, va);
        w64(f, at + 32, fs);
        w64(f, at + 40, ms);
        w64(f, at + 48, 0x1000);
    };
    ph(&mut f, 64, 5, 0x1000, 0x400000, 0x100, 0x100);
    ph(&mut f, 120, 6, 0x2000, 0x401000, 0x100, 0x3000);
    for b in &mut f[0x1000..0x1100] {
        *b = 0x90;
    }
    // strtab at 0x2800, symtab at 0x2900, section headers at 0x2a00 (null, symtab, strtab).
    let names = b"\0MICROKIT_SYSTEM\0microkit_name\0";
    f[0x2800..0x2800 + names.len()].copy_from_slice(names);
    let sym = |f: &mut Vec<u8>, at: usize, name: u32, va: u64, size: u64| {
        w32(f, at, name);
        f[at + 4] = 0x11;
        w16(f, at + 6, 2);
        w64(f, at + 8, va);
        w64(f, at + 16, size);
    };
    sym(&mut f, 0x2900 + 24, 1, 0x401010, 16);
    sym(&mut f, 0x2900 + 48, 17, 0x401020, 64);
    w64(&mut f, 40, 0x2a00);
    w16(&mut f, 58, 64);
    w16(&mut f, 60, 3);
    let sh = |f: &mut Vec<u8>, at: usize, ty: u32, off: u64, size: u64, link: u32, ent: u64| {
        w32(f, at + 4, ty);
        w64(f, at + 24, off);
        w64(f, at + 32, size);
        w32(f, at + 40, link);
        w64(f, at + 56, ent);
    };
    sh(&mut f, 0x2a00 + 64, 2, 0x2900, 72, 2, 24);
    sh(&mut f, 0x2a00 + 128, 3, 0x2800, names.len() as u64, 0, 0);
    f
}

#[test]
fn reads_segments_and_symbols() {
    let f = synth();
    assert_eq!(entry(&f), Ok(0x400000));
    let s = segments(&f).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!((s[1].vaddr, s[1].file_size, s[1].mem_size, s[1].flags), (0x401000, 0x100, 0x3000, 6));
    assert_eq!(symbol(&f, "MICROKIT_SYSTEM"), Ok((0x401010, 16)));
    assert_eq!(symbol(&f, "nope"), Err(ElfError::NoSymbol));
    let inputs = segment_inputs(&f).unwrap();
    assert!(inputs[0].execute && !inputs[0].write && inputs[0].data.iter().all(|b| *b == 0x90));
    assert!(inputs[1].write && !inputs[1].execute && inputs[1].mem_size == 0x3000);
}

#[test]
fn patches_symbols() {
    let mut f = synth();
    patch_symbol(&mut f, "microkit_name", b"client\0").unwrap();
    assert_eq!(&f[0x2020..0x2027], b"client\0");
    assert_eq!(patch_symbol(&mut f, "MICROKIT_SYSTEM", &[0; 17]), Err(ElfError::BadSymbol));
}

#[test]
fn attaches_the_system() {
    let f = synth();
    let blob = vec![0x5a; 5000];
    let (g, vaddr) = attach_system(&f, &blob).unwrap();
    // After the data segment's memory end (0x404000), page-aligned.
    assert_eq!(vaddr, 0x404000);
    let s = segments(&g).unwrap();
    assert_eq!(s.len(), 3);
    let new = s[2];
    assert_eq!((new.vaddr, new.file_size, new.mem_size, new.flags, new.offset % 4096), (0x404000, 5000, 5000, 4, 0));
    assert!(g[new.offset as usize..][..5000].iter().all(|b| *b == 0x5a));
    // MICROKIT_SYSTEM = (vaddr, len) in the data segment's file bytes.
    let (sv, _) = symbol(&g, "MICROKIT_SYSTEM").unwrap();
    let off = (s[1].offset + (sv - s[1].vaddr)) as usize;
    assert_eq!(u64::from_le_bytes(g[off..off + 8].try_into().unwrap()), 0x404000);
    assert_eq!(u64::from_le_bytes(g[off + 8..off + 16].try_into().unwrap()), 5000);
    // The original segments are untouched.
    assert_eq!(&s[..2], &segments(&f).unwrap()[..]);
}

#[test]
fn rejects_non_elf() {
    assert_eq!(segments(b"hello"), Err(ElfError::NotElf64));
    let mut f = synth();
    f[4] = 1;
    assert_eq!(entry(&f), Err(ElfError::NotElf64));
    let mut f = synth();
    f[56] = 0xff; // phnum 0xffff: the table runs past the end of the file
    f[57] = 0xff;
    assert_eq!(segments(&f), Err(ElfError::Truncated));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    /// Corrupted ELFs never panic any helper.
    #[test]
    fn corrupted_elf_never_panics(edits in proptest::collection::vec((0usize..0x3000, any::<u8>()), 1..16)) {
        let mut f = synth();
        for (i, v) in edits { f[i] = v; }
        let _ = segments(&f);
        let _ = symbol(&f, "MICROKIT_SYSTEM");
        let _ = segment_inputs(&f);
        let _ = attach_system(&f, b"x");
        let mut g = f.clone();
        let _ = patch_symbol(&mut g, "microkit_name", b"abc");
    }
}
