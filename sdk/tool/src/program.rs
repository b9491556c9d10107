//! PD program images: reading each PD's ELF, writing the patched symbols (libmicrokit's and
//! the PD's `setvar`s) into it, and checking its segments against the PD's address space.

use std::path::{Path, PathBuf};

use boot_image::elf::{check_program, Elf, EM_AARCH64, EM_RISCV, EM_X86_64, PF_R, PF_W, PF_X};
use microkit_spec::layout::symbols::IPC_BUFFER;
use microkit_spec::microkit::{ipc_buffer, stack_top, SegmentInput};
use sdf::{Arch, ProtectionDomain, SetVarKind, SystemDescription};

use crate::board::Board;
use crate::error::ToolError;
use crate::layout::{PdLayout, SymbolValue};
use crate::system::find_file;

/// Page size of ELF segment frames, stacks and IPC buffers.
pub const PAGE: u64 = 0x1000;

/// Bytes of a machine word: the size every `setvar` symbol must have.
pub const WORD: u64 = 8;

/// One PD's program, ready for the spec.
#[derive(Debug, Clone)]
pub struct Program {
    /// Where the ELF was found.
    pub path: PathBuf,
    /// Entry point.
    pub entry: u64,
    /// Vaddr of the IPC buffer page (Microkit 2.3's top user page, or an older ELF's
    /// `__sel4_ipc_buffer_obj`).
    pub ipc_buffer: u64,
    /// Loadable segments with the patched bytes.
    pub segments: Vec<SegmentInput>,
    /// Symbols written, with their vaddr and the bytes written.
    pub patched: Vec<(String, u64, Vec<u8>)>,
}

/// `e_machine` the board's PDs must have.
pub fn machine(arch: Arch) -> u16 {
    match arch {
        Arch::Aarch64 => EM_AARCH64,
        Arch::Riscv64 => EM_RISCV,
        Arch::X86_64 => EM_X86_64,
    }
}

/// Where PD `pd` is declared: `file:line:col` of the system description.
fn pd_at(sys: &SystemDescription, pd: &ProtectionDomain) -> String {
    format!("{}:{}", sys.file, pd.loc)
}

fn read_elf(
    pd: &str,
    at: &str,
    name: &str,
    dirs: &[PathBuf],
) -> Result<(PathBuf, Vec<u8>), ToolError> {
    let path = find_file(name, dirs).ok_or_else(|| ToolError::Program {
        pd: pd.to_string(),
        at: at.to_string(),
        path: PathBuf::from(name),
        reason: format!(
            "program image not found (searched {})",
            dirs.iter()
                .map(|d| format!("'{}'", d.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    let bytes = std::fs::read(&path).map_err(|source| ToolError::Read {
        path: path.clone(),
        source,
    })?;
    Ok((path, bytes))
}

fn bad(pd: &str, at: &str, path: &Path, reason: impl Into<String>) -> ToolError {
    ToolError::Program {
        pd: pd.to_string(),
        at: at.to_string(),
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Half-open ranges overlap.
fn overlaps(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The value a layout symbol gets, with build-time values resolved.
fn resolve(
    sys: &SystemDescription,
    pd: &ProtectionDomain,
    symbol: &str,
    v: &SymbolValue,
    prefill_len: &dyn Fn(&str) -> Option<u64>,
) -> Result<Vec<u8>, ToolError> {
    Ok(match v {
        SymbolValue::Bytes(b) => b.clone(),
        SymbolValue::Bool(b) => vec![u8::from(*b)],
        SymbolValue::Word(w) => w.to_le_bytes().to_vec(),
        SymbolValue::Deferred(_) => {
            let kind = pd
                .setvars
                .iter()
                .find(|s| s.symbol == symbol)
                .map(|s| &s.kind);
            let w = match kind {
                Some(SetVarKind::PrefillSize { mr }) => prefill_len(mr),
                Some(SetVarKind::Size { mr }) => sys.memory_region(mr).map(|r| r.size),
                // A region without a fixed address: the initialiser allocates it and writes its
                // physical address over this placeholder before the PD starts
                // (`crate::spec` records where).
                Some(SetVarKind::PhysAddr { mr }) => {
                    Some(sys.memory_region(mr).and_then(|r| r.phys_addr).unwrap_or(0))
                }
                _ => None,
            };
            w.ok_or_else(|| {
                ToolError::Unsupported(format!("PD '{}': no value for setvar '{symbol}'", pd.name))
            })?
            .to_le_bytes()
            .to_vec()
        }
    })
}

/// Name shown as the program path of a `<template>` PD.
pub const TEMPLATE_PATH: &str = "<template: code loaded by the parent at run time>";

/// The program of a `<template>` PD: no segments, entry 0 (the thread faults at once and its
/// parent gets the fault), the stack and the IPC buffer page as for any PD.
fn template(
    sys: &SystemDescription,
    pd: &ProtectionDomain,
    board: &Board,
) -> Result<Program, ToolError> {
    let ipc_buffer = ipc_buffer(crate::spec::spec_arch(board.arch));
    let path = PathBuf::from(TEMPLATE_PATH);
    check_address_space(sys, pd, board, &[], ipc_buffer)?;
    Ok(Program {
        path,
        entry: 0,
        ipc_buffer,
        segments: Vec::new(),
        patched: Vec::new(),
    })
}

/// Loads PD `index`'s ELF, writes its patched symbols and checks its address space.
pub fn load(
    sys: &SystemDescription,
    index: usize,
    lay: &PdLayout,
    board: &Board,
    dirs: &[PathBuf],
    prefill_len: &dyn Fn(&str) -> Option<u64>,
) -> Result<Program, ToolError> {
    let pd = &sys.protection_domains[index];
    if pd.template {
        return template(sys, pd, board);
    }
    let name = pd.name.as_str();
    let at = pd_at(sys, pd);
    let at = at.as_str();
    let (path, bytes) = read_elf(name, at, &pd.program_image, dirs)?;
    let elf = Elf::parse(&bytes).map_err(|e| bad(name, at, &path, format!("invalid ELF: {e}")))?;
    if elf.machine != machine(board.arch) {
        return Err(bad(
            name,
            at,
            &path,
            format!(
                "ELF machine {} is not {} ({})",
                elf.machine,
                machine(board.arch),
                board.arch.name()
            ),
        ));
    }
    // The loader's contract, checked as mkimage checks its payload files: segments inside
    // the file and user space, no overlap, the entry in an executable segment.
    check_program(&elf, machine(board.arch), board.user_top)
        .map_err(|e| bad(name, at, &path, e.to_string()))?;
    let entry = elf.entry;
    let (sym_path, sym_bytes) = match &pd.program_image_for_symbols {
        Some(s) => read_elf(name, at, s, dirs)?,
        None => (path.clone(), bytes.clone()),
    };
    let syms = Elf::parse(&sym_bytes)
        .map_err(|e| bad(name, at, &sym_path, format!("invalid ELF: {e}")))?;
    let find = |symbol: &str| -> Result<(u64, u64), ToolError> {
        syms.symbol(symbol).map_err(|_| ToolError::MissingSymbol {
            pd: name.to_string(),
            at: at.to_string(),
            path: sym_path.clone(),
            symbol: symbol.to_string(),
        })
    };

    // Loadable segments, with their file bytes.
    let mut segments = Vec::new();
    for s in elf.load_segments() {
        let s = s.map_err(|e| bad(name, at, &path, format!("invalid ELF: {e}")))?;
        if s.memsz == 0 {
            continue;
        }
        let data = elf
            .segment_data(&s)
            .map_err(|e| bad(name, at, &path, format!("invalid ELF: {e}")))?;
        segments.push(SegmentInput {
            vaddr: s.vaddr,
            mem_size: s.memsz,
            data: data.to_vec(),
            read: s.flags & PF_R != 0,
            write: s.flags & PF_W != 0,
            execute: s.flags & PF_X != 0,
        });
    }

    // Patched symbols: written wherever they lie in a loadable segment. A symbol in the
    // segment's zero-filled tail (`.bss`, where libmicrokit 2.3 declares its variables) makes
    // the segment's file bytes grow to cover it, as Microkit's tool does.
    let mut patched = Vec::new();
    for s in &lay.symbols {
        let mut value = resolve(sys, pd, &s.symbol, &s.value, prefill_len)?;
        let (addr, size) = find(&s.symbol)?;
        if let SymbolValue::Bytes(_) = s.value {
            // `microkit_name`: overwrite the whole array (at most libmicrokit's 64 bytes),
            // zero-padded.
            let want = size.min(microkit_spec::layout::PD_NAME_LENGTH as u64) as usize;
            if value.len() < want {
                value.resize(want, 0);
            }
        }
        if let Some(v) = pd.setvars.iter().find(|v| v.symbol == s.symbol) {
            if size != WORD {
                // Microkit: a setvar symbol must be exactly one machine word.
                return Err(bad(
                    name,
                    at,
                    &path,
                    format!(
                        "setvar symbol '{}' is {size} bytes; it must be a {WORD}-byte word (setvar at {} of the system description)",
                        s.symbol, v.loc
                    ),
                ));
            }
        }
        if size != 0 && size < value.len() as u64 {
            return Err(bad(
                name,
                at,
                &path,
                format!(
                    "symbol '{}' is {size} bytes, too small for its {}-byte value",
                    s.symbol,
                    value.len()
                ),
            ));
        }
        if value.is_empty() {
            continue;
        }
        let len = value.len() as u64;
        let seg = addr.checked_add(len).and_then(|end| {
            segments
                .iter_mut()
                .find(|g| addr >= g.vaddr && end <= g.vaddr + g.mem_size)
        });
        let Some(seg) = seg else {
            return Err(bad(
                name,
                at,
                &path,
                format!(
                    "symbol '{}' at {addr:#x} ({len} bytes) is not inside a loadable segment",
                    s.symbol
                ),
            ));
        };
        let off = (addr - seg.vaddr) as usize;
        if seg.data.len() < off + value.len() {
            seg.data.resize(off + value.len(), 0);
        }
        seg.data[off..off + value.len()].copy_from_slice(&value);
        patched.push((s.symbol.clone(), addr, value));
    }
    let ram: u64 = board.ram.iter().map(|r| r.size).sum();
    let total = segments
        .iter()
        .fold(0u64, |a, s| a.saturating_add(s.mem_size));
    if total > ram {
        return Err(bad(
            name,
            at,
            &path,
            format!(
                "loadable segments need {total:#x} bytes, more than the board's RAM ({ram:#x})"
            ),
        ));
    }
    // Microkit 2.3: the IPC buffer is the highest user page, mapped by the tool; an ELF from
    // an older libmicrokit names its own page with `__sel4_ipc_buffer_obj`, and gets it there.
    let ipc_buffer = match syms.symbol(IPC_BUFFER) {
        Ok((addr, _)) => addr,
        Err(_) => ipc_buffer(crate::spec::spec_arch(board.arch)),
    };
    if ipc_buffer % PAGE != 0 {
        return Err(bad(
            name,
            at,
            &path,
            format!("'{IPC_BUFFER}' at {ipc_buffer:#x} is not 4 KiB aligned"),
        ));
    }
    check_address_space(sys, pd, board, &segments, ipc_buffer)?;
    Ok(Program {
        path,
        entry,
        ipc_buffer,
        segments,
        patched,
    })
}

/// Where Microkit 2.3 maps a PD's IPC buffer on `board`: the top user page of the seL4 build
/// Microkit ships for it (one table: `microkit_layout::vspace`, through the spec's
/// `ipc_buffer`). The C SDK's `MICROKIT_IPC_BUFFER_VADDR` (sdk/cgen) is checked against it.
pub fn top_user_page(board: &Board) -> u64 {
    ipc_buffer(crate::spec::spec_arch(board.arch))
}

/// Page range `[start, end)` a segment occupies.
fn page_range(s: &SegmentInput) -> (u64, u64) {
    let start = s.vaddr & !(PAGE - 1);
    let end = s
        .vaddr
        .saturating_add(s.mem_size)
        .div_ceil(PAGE)
        .saturating_mul(PAGE);
    (start, end)
}

fn check_address_space(
    sys: &SystemDescription,
    pd: &ProtectionDomain,
    board: &Board,
    segments: &[SegmentInput],
    ipc_buffer: u64,
) -> Result<(), ToolError> {
    let name = pd.name.as_str();
    let spec_arch = crate::spec::spec_arch(board.arch);
    let top = stack_top(spec_arch).min(board.user_top);
    let stack = (top.saturating_sub(pd.stack_size), top);
    let ipc = (ipc_buffer, ipc_buffer.saturating_add(PAGE));
    let overlap = |what: String| ToolError::Overlap {
        pd: name.to_string(),
        at: pd_at(sys, pd),
        what,
    };
    // Each segment lies in user space and the segments do not overlap
    // (`boot_image::elf::check_program`); here: nor do they share a page, or meet the stack,
    // the IPC buffer or a mapped memory region.
    for (i, s) in segments.iter().enumerate() {
        let r = page_range(s);
        if overlaps(r, stack) {
            return Err(overlap(format!(
                "ELF segment [{:#x}, {:#x}) overlaps the stack [{:#x}, {:#x})",
                r.0, r.1, stack.0, stack.1
            )));
        }
        if overlaps(r, ipc) {
            return Err(overlap(format!(
                "ELF segment [{:#x}, {:#x}) overlaps the IPC buffer page at {ipc_buffer:#x}",
                r.0, r.1
            )));
        }
        for t in &segments[i + 1..] {
            let q = page_range(t);
            if overlaps(r, q) {
                return Err(overlap(format!(
                    "ELF segments [{:#x}, {:#x}) and [{:#x}, {:#x}) share a page",
                    s.vaddr,
                    s.vaddr + s.mem_size,
                    t.vaddr,
                    t.vaddr + t.mem_size
                )));
            }
        }
        for m in &pd.maps {
            let size = sys.memory_region(&m.mr).map_or(0, |r| r.size);
            let mr = (m.vaddr, m.vaddr.saturating_add(size));
            if overlaps(r, mr) {
                return Err(overlap(format!(
                    "mapping of memory region '{}' at [{:#x}, {:#x}) overlaps the ELF segment [{:#x}, {:#x})",
                    m.mr, mr.0, mr.1, r.0, r.1
                )));
            }
        }
    }
    if overlaps(ipc, stack) || ipc.1 > board.user_top {
        return Err(overlap(format!(
            "the IPC buffer page at {ipc_buffer:#x} overlaps the stack [{:#x}, {:#x}) or leaves user space",
            stack.0, stack.1
        )));
    }
    for m in &pd.maps {
        let size = sys.memory_region(&m.mr).map_or(0, |r| r.size);
        let mr = (m.vaddr, m.vaddr.saturating_add(size));
        if overlaps(mr, stack) {
            return Err(overlap(format!(
                "mapping of memory region '{}' at [{:#x}, {:#x}) overlaps the stack [{:#x}, {:#x})",
                m.mr, mr.0, mr.1, stack.0, stack.1
            )));
        }
        if overlaps(mr, ipc) {
            return Err(overlap(format!(
                "mapping of memory region '{}' at [{:#x}, {:#x}) overlaps the IPC buffer page at {ipc_buffer:#x}",
                m.mr, mr.0, mr.1
            )));
        }
    }
    Ok(())
}
