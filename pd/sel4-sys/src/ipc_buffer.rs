//! `seL4_IPCBuffer` with seL4's byte offsets, and the per-thread pointer to it.

use core::sync::atomic::{AtomicPtr, Ordering};

use crate::message::{MSG_MAX_EXTRA_CAPS, MSG_MAX_LENGTH};

/// `seL4_IPCBuffer` (1024 bytes; tag @0, msg @8, userData @968, caps_or_badges @976,
/// receiveCNode @1000, receiveIndex @1008, receiveDepth @1016 — `sel4-abi.md` §3).
#[repr(C, align(1024))]
#[derive(Clone)]
pub struct IpcBuffer {
    /// The message tag (MessageInfo word).
    pub tag: u64,
    /// Message registers; MR *i* ≥ 4 is only ever read from here by the kernel.
    pub msg: [u64; MSG_MAX_LENGTH],
    /// Free for user data (libsel4 keeps a pointer to the buffer itself here).
    pub user_data: u64,
    /// Extra-cap cptrs when sending, unwrapped badges when receiving.
    pub caps_or_badges: [u64; MSG_MAX_EXTRA_CAPS],
    /// CNode (cptr at depth 64) where a received cap goes.
    pub receive_cnode: u64,
    /// Slot index within `receive_cnode`.
    pub receive_index: u64,
    /// Depth of `receive_index`.
    pub receive_depth: u64,
}

static IPC_BUFFER: AtomicPtr<IpcBuffer> = AtomicPtr::new(core::ptr::null_mut());

/// Records where this thread's IPC buffer is mapped (single-threaded PDs and root task).
pub fn set_ipc_buffer(ptr: *mut IpcBuffer) {
    IPC_BUFFER.store(ptr, Ordering::Relaxed);
}

/// The registered IPC buffer pointer (null before [`set_ipc_buffer`]).
pub fn ipc_buffer_ptr() -> *mut IpcBuffer {
    IPC_BUFFER.load(Ordering::Relaxed)
}

/// Message register `i` from the IPC buffer (0 if `i` ≥ 120 or no buffer is set).
pub fn get_mr(i: usize) -> u64 {
    let p = ipc_buffer_ptr();
    if i >= MSG_MAX_LENGTH || p.is_null() {
        return 0;
    }
    // SAFETY: `p` was registered by `set_ipc_buffer` as this thread's mapped IPC buffer and `i`
    // is in bounds; the kernel writes it only while this thread is blocked in a syscall.
    unsafe { core::ptr::addr_of!((*p).msg[i]).read_volatile() }
}

/// Sets message register `i` in the IPC buffer (ignored if `i` ≥ 120 or no buffer is set).
pub fn set_mr(i: usize, v: u64) {
    let p = ipc_buffer_ptr();
    if i >= MSG_MAX_LENGTH || p.is_null() {
        return;
    }
    // SAFETY: as in `get_mr`.
    unsafe { core::ptr::addr_of_mut!((*p).msg[i]).write_volatile(v) }
}

/// Extra cap / unwrapped badge `i` of the IPC buffer (0 if out of range or no buffer).
pub fn get_cap(i: usize) -> u64 {
    let p = ipc_buffer_ptr();
    if i >= MSG_MAX_EXTRA_CAPS || p.is_null() {
        return 0;
    }
    // SAFETY: as in `get_mr`.
    unsafe { core::ptr::addr_of!((*p).caps_or_badges[i]).read_volatile() }
}

/// Sets extra cap `i` of the IPC buffer (ignored if out of range or no buffer).
pub fn set_cap(i: usize, v: u64) {
    let p = ipc_buffer_ptr();
    if i >= MSG_MAX_EXTRA_CAPS || p.is_null() {
        return;
    }
    // SAFETY: as in `get_mr`.
    unsafe { core::ptr::addr_of_mut!((*p).caps_or_badges[i]).write_volatile(v) }
}

/// Sets the receive slot (`receiveCNode`, `receiveIndex`, `receiveDepth`).
pub fn set_receive_slot(cnode: u64, index: u64, depth: u64) {
    let p = ipc_buffer_ptr();
    if p.is_null() {
        return;
    }
    // SAFETY: as in `get_mr`.
    unsafe {
        core::ptr::addr_of_mut!((*p).receive_cnode).write_volatile(cnode);
        core::ptr::addr_of_mut!((*p).receive_index).write_volatile(index);
        core::ptr::addr_of_mut!((*p).receive_depth).write_volatile(depth);
    }
}

/// The IPC buffer of one thread among several sharing an address space, each with its own
/// buffer (the functions above use the one registered with [`set_ipc_buffer`]). Word access
/// to every field, so a caller can put any contents into a message (MR *i* ≥ 4, extra caps,
/// receive slot).
#[derive(Clone, Copy, Debug)]
pub struct ThreadBuffer {
    buf: *mut IpcBuffer,
}

impl ThreadBuffer {
    /// The calling thread's IPC buffer at `addr`, as given to `TCB_Configure`/`SetIPCBuffer`;
    /// `None` unless `addr` is non-null and 1024-byte aligned. Only the thread that owns the
    /// buffer may use the result, and only while the buffer stays mapped.
    pub fn new(addr: u64) -> Option<Self> {
        if addr == 0 || !addr.is_multiple_of(1024) {
            return None;
        }
        Some(ThreadBuffer {
            buf: addr as *mut IpcBuffer,
        })
    }
    /// Sets message register `i` (ignored if `i` ≥ 120).
    pub fn set_mr(&self, i: usize, v: u64) {
        if i < MSG_MAX_LENGTH {
            // SAFETY: `buf` is this thread's mapped IPC buffer (see `new`) and `i` is in
            // bounds; the kernel touches it only while this thread is in a syscall.
            unsafe { core::ptr::addr_of_mut!((*self.buf).msg[i]).write_volatile(v) }
        }
    }
    /// Message register `i` (0 if `i` ≥ 120).
    pub fn get_mr(&self, i: usize) -> u64 {
        if i >= MSG_MAX_LENGTH {
            return 0;
        }
        // SAFETY: as in `set_mr`.
        unsafe { core::ptr::addr_of!((*self.buf).msg[i]).read_volatile() }
    }
    /// Sets extra cap `i` (ignored if `i` ≥ 3).
    pub fn set_cap(&self, i: usize, v: u64) {
        if i < MSG_MAX_EXTRA_CAPS {
            // SAFETY: as in `set_mr`.
            unsafe { core::ptr::addr_of_mut!((*self.buf).caps_or_badges[i]).write_volatile(v) }
        }
    }
    /// Sets the receive slot (`receiveCNode`, `receiveIndex`, `receiveDepth`).
    pub fn set_receive_slot(&self, cnode: u64, index: u64, depth: u64) {
        // SAFETY: as in `set_mr`.
        unsafe {
            core::ptr::addr_of_mut!((*self.buf).receive_cnode).write_volatile(cnode);
            core::ptr::addr_of_mut!((*self.buf).receive_index).write_volatile(index);
            core::ptr::addr_of_mut!((*self.buf).receive_depth).write_volatile(depth);
        }
    }
}
