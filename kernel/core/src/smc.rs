//! Arm SMC caps: `seL4_ARM_SMC_Call` (seL4 `decodeARMSMCInvocation` / `invokeSMCCall`).
//!
//! The root task receives an unbadged SMC cap (`seL4_CapSMC`, slot 15) on aarch64. Minting
//! it with a badge restricts the copy to that one function id (x0). The call itself is the
//! machine's [`kernel_hal::Machine::arm_smc_call`]: x0..x7 from MR0..MR7, x0..x7 back into
//! MR0..MR7.

use kernel_hal::Machine;
use sel4_abi::ArchLabel;

use crate::cap::Cap;
use crate::error::{KResult, SyscallError};
use crate::kernel::Kernel;
use crate::object::ThreadState;
use crate::syscall::InvocationArgs;

/// Registers an SMC passes in and out (x0..x7), `NUM_SMC_REGS`.
pub const SMC_REGS: usize = 8;

/// A decoded, checked SMC call: the eight argument registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmcCall {
    /// x0 (the function id) .. x7.
    pub args: [u64; SMC_REGS],
}

/// Check an invocation of an SMC cap with badge `badge` (no side effects).
pub fn decode<M: Machine>(k: &Kernel<M>, a: &InvocationArgs, badge: u64) -> KResult<SmcCall> {
    if sel4_abi::arch_label_in(k.arch, &k.config, a.label) != Some(ArchLabel::SmcCall) {
        return Err(SyscallError::IllegalOperation);
    }
    if a.length < SMC_REGS {
        return Err(SyscallError::TruncatedMessage);
    }
    let mut args = [0u64; SMC_REGS];
    for (i, v) in args.iter_mut().enumerate() {
        *v = k.arg(a, i);
    }
    // A badged cap may only call the function id it was badged with.
    if badge != 0 && badge != args[0] {
        return Err(SyscallError::IllegalOperation);
    }
    Ok(SmcCall { args })
}

/// Make the call and, for a Call, reply with x0..x7 in MR0..MR7 (cannot fail).
pub fn invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs, call: SmcCall) {
    let out = k.machine.arm_smc_call(call.args);
    if a.is_call {
        k.reply_success(a.thread, &out);
    }
    k.set_thread_state_raw(a.thread, ThreadState::Running);
}

/// Decode and perform an invocation of an SMC cap.
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    let Cap::Smc { badge } = a.cap else {
        return Err(SyscallError::IllegalOperation);
    };
    let call = decode(k, a, badge)?;
    k.set_thread_state_raw(a.thread, ThreadState::Restart);
    invoke(k, a, call);
    Ok(())
}
