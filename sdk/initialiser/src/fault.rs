//! Fault reports in the style of Microkit's monitor (`MON|ERROR: …`), from the fault label
//! and message registers (layouts: `sel4-abi.md` §6).

use core::fmt::{self, Write};

use microkit_spec::Arch;
use sel4_sys::abi::fault;

/// Name of a fault label.
pub fn fault_name(label: u64) -> &'static str {
    match label {
        fault::NULL => "NullFault",
        fault::CAP => "CapFault",
        fault::UNKNOWN_SYSCALL => "UnknownSyscall",
        fault::USER_EXCEPTION => "UserException",
        fault::DEBUG_EXCEPTION => "DebugException",
        fault::TIMEOUT => "Timeout",
        fault::VM => "VMFault",
        _ => "UnknownFault",
    }
}

/// Writes the one-line description of fault `label` of PD `name`; `mr(i)` reads fault MR *i*.
pub fn describe(out: &mut impl Write, arch: Arch, name: &str, label: u64, mr: impl Fn(usize) -> u64) -> fmt::Result {
    let kind = fault_name(label);
    write!(out, "MON|ERROR: {kind} in PD '{name}': ")?;
    match label {
        fault::VM => {
            let what = if mr(2) != 0 { "instruction fault" } else { "data fault" };
            write!(out, "ip={:#018x}  fault_addr={:#018x}  fsr={:#018x}  ({what})", mr(0), mr(1), mr(3))
        }
        fault::CAP => write!(
            out,
            "ip={:#018x}  cptr={:#018x}  in_recv_phase={}  lookup_failure_type={}",
            mr(0),
            mr(1),
            mr(2),
            mr(3)
        ),
        fault::USER_EXCEPTION => match arch {
            Arch::Riscv64 => write!(out, "ip={:#018x}  sp={:#018x}  scause={:#x}  code={:#x}", mr(0), mr(1), mr(2), mr(3)),
            Arch::Aarch64 => write!(out, "ip={:#018x}  sp={:#018x}  esr={:#x}  code={:#x}", mr(0), mr(1), mr(3), mr(4)),
            Arch::X86_64 => write!(out, "ip={:#018x}  sp={:#018x}  vector={}  code={:#x}", mr(0), mr(1), mr(3), mr(4)),
        },
        fault::UNKNOWN_SYSCALL => {
            let (ip, sys) = match arch {
                Arch::Aarch64 => (mr(8), mr(12)),
                Arch::Riscv64 => (mr(0), mr(10)),
                Arch::X86_64 => (mr(15), mr(18)),
            };
            write!(out, "ip={ip:#018x}  syscall={}", sys as i64)
        }
        fault::TIMEOUT => write!(out, "sc_badge={:#x}  consumed={}us", mr(0), mr(1)),
        _ => write!(out, "mr0={:#x} mr1={:#x}", mr(0), mr(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn vm_fault_line() {
        let mut s = String::new();
        let mrs = [0x200100, 0x10, 0, 0x9200_0046];
        describe(&mut s, Arch::Aarch64, "client", fault::VM, |i| mrs.get(i).copied().unwrap_or(0)).unwrap();
        assert_eq!(
            s,
            "MON|ERROR: VMFault in PD 'client': ip=0x0000000000200100  fault_addr=0x0000000000000010  fsr=0x0000000092000046  (data fault)"
        );
        let mut s = String::new();
        let mrs = [0u64; 19];
        describe(&mut s, Arch::X86_64, "x", fault::UNKNOWN_SYSCALL, |i| if i == 18 { (-99i64) as u64 } else { mrs[i] }).unwrap();
        assert!(s.ends_with("syscall=-99"), "{s}");
    }
}
