//! Invariants of the abstract state, checked after every explored step, and the
//! per-transition authority-confinement / integrity check.
//!
//! Each check returns `Err(description)` naming the first violation it finds.

use crate::spec::*;
use std::collections::BTreeSet;

/// Check every state invariant: (a) derivation rights/badges, (c) object placement,
/// (d) no dangling references, (e) CDT well-formedness, (f) queue/state agreement.
pub fn check_state(s: &State) -> Result<(), String> {
    derivation_rights(s)?;
    object_placement(s)?;
    no_dangling(s)?;
    cdt_well_formed(s)?;
    queues(s)?;
    tcb_config(s)?;
    vspaces(s)?;
    Ok(())
}

/// (h) VSpaces, as seL4 keeps them (aarch64 geometry):
/// * the ASID table names live ASID pools, each once, and a pool at index i has a cap with
///   base i·2^9; pool entries name live VSpace roots, each root at most once, never ASID 0,
///   and every assigned root has a VSpace cap recording that ASID;
/// * table contents belong to live VSpace roots and page tables only; a table entry names a
///   live page table (never a root, never a table on its own path), only levels 0–2 hold
///   table entries, levels 1–3 hold pages of that level's size;
/// * along the ASID table, every page table is reachable through at most one entry, and a
///   reachable page table's caps record exactly that (ASID, region base);
/// * every reachable page mapping is recorded by a frame cap to that frame and size with
///   that (ASID, vaddr) whose rights allow at least the mapping's access — a mapping never
///   outlives every cap that made it, so a frame whose caps are all gone is mapped nowhere;
/// * every cap's recorded mapping is aligned and below USER_TOP; a frame cap's rights are
///   one of seL4's three VM rights (by construction).
fn vspaces(s: &State) -> Result<(), String> {
    let live = |o: &ObjId, ty: ObjType| s.objects.get(o).is_some_and(|x| x.ty == ty);
    let mut pools_seen = BTreeSet::new();
    for (i, pool) in &s.asid_table {
        if *i >= vm::NUM_ASID_POOLS || !live(pool, ObjType::AsidPool) || !pools_seen.insert(*pool) {
            return Err(format!("(h) ASID table entry {i} names {pool:#x}"));
        }
        let base = i << vm::ASID_LOW_BITS;
        if !s
            .slots
            .values()
            .any(|e| e.cap == Cap::AsidPool { obj: *pool, base })
        {
            return Err(format!(
                "(h) ASID pool {pool:#x} at index {i} has no cap with base {base:#x}"
            ));
        }
    }
    let mut roots = BTreeSet::new();
    for (pool, entries) in &s.asid_pools {
        if !live(pool, ObjType::AsidPool) {
            return Err(format!("(h) contents of dead ASID pool {pool:#x}"));
        }
        let base = s
            .asid_table
            .iter()
            .find(|(_, p)| *p == pool)
            .map(|(i, _)| i << vm::ASID_LOW_BITS);
        for (lo, root) in entries {
            if *lo >= 1 << vm::ASID_LOW_BITS || !live(root, ObjType::VSpace) || !roots.insert(*root)
            {
                return Err(format!(
                    "(h) ASID pool {pool:#x} entry {lo} names {root:#x}"
                ));
            }
            if let Some(b) = base {
                let asid = b | lo;
                if asid == 0 {
                    return Err(format!("(h) ASID 0 assigned to {root:#x}"));
                }
                let recorded = s.slots.values().any(|e| {
                    e.cap
                        == Cap::VSpace {
                            obj: *root,
                            asid: Some(asid),
                        }
                });
                if !recorded {
                    return Err(format!(
                        "(h) VSpace {root:#x} has ASID {asid} but no cap records it"
                    ));
                }
            }
        }
    }
    for (t, entries) in &s.ptes {
        if !(live(t, ObjType::VSpace) || live(t, ObjType::PageTable)) || entries.is_empty() {
            return Err(format!(
                "(h) table contents for {t:#x}, not a live table (or empty)"
            ));
        }
        for (i, pte) in entries {
            if *i >= 1 << vm::INDEX_BITS {
                return Err(format!("(h) table {t:#x} index {i} out of range"));
            }
            // (Entries of a table no ASID reaches may be stale, as in seL4: a page table
            // deleted while its parent was unreachable leaves that entry behind; the parent
            // is cleared before it can be mapped again.)
            let _ = pte;
        }
    }
    let maps = s.user_mappings();
    let mut reached: std::collections::BTreeMap<ObjId, (u64, u64)> = Default::default();
    for (asid, vaddr, level, pte, path) in &maps {
        match pte {
            Pte::Table(n) => {
                if !live(n, ObjType::PageTable) || *level + 1 >= vm::LEVELS || path.contains(n) {
                    return Err(format!(
                        "(h) table entry at level {level} for ASID {asid} {vaddr:#x} names {n:#x}"
                    ));
                }
                if reached.insert(*n, (*asid, *vaddr)).is_some() {
                    return Err(format!(
                        "(h) page table {n:#x} reachable twice (again at ASID {asid} {vaddr:#x})"
                    ));
                }
                for (sl, e) in &s.slots {
                    if let Cap::PageTable { obj, mapped } = e.cap {
                        if obj == *n && mapped != Some((*asid, *vaddr)) {
                            return Err(format!(
                                "(h) page table {n:#x} is mapped at ASID {asid} {vaddr:#x} but its cap {sl:?} records {mapped:x?}"
                            ));
                        }
                    }
                }
            }
            Pte::Page {
                frame,
                rights,
                exec,
            } => {
                if *level == 0 {
                    return Err(format!(
                        "(h) page entry in a VSpace root (ASID {asid} {vaddr:#x})"
                    ));
                }
                if *exec && *rights == VmRights::KernelOnly {
                    return Err(format!(
                        "(h) executable mapping without user access at ASID {asid} {vaddr:#x}"
                    ));
                }
                let size = vm::entry_bits(*level) as u8;
                let recorded = s.slots.values().any(|e| {
                    matches!(e.cap, Cap::Frame { obj, size_bits, rights: cr, mapped }
                        if obj == *frame && size_bits == size && mapped == Some((*asid, *vaddr)) && rights.within(cr))
                });
                if !recorded {
                    return Err(format!(
                        "(h) ASID {asid} {vaddr:#x} maps frame {frame:#x} (2^{size}) but no frame cap records it"
                    ));
                }
            }
        }
    }
    for (sl, e) in &s.slots {
        let (mapped, align) = match e.cap {
            Cap::Frame {
                mapped, size_bits, ..
            } => (mapped, size_bits as u32),
            Cap::PageTable { mapped, .. } => {
                (mapped, vm::entry_bits(vm::LEVELS - 1) + vm::INDEX_BITS)
            }
            Cap::VSpace { asid: Some(a), .. }
                if a == 0 || a >= vm::NUM_ASID_POOLS << vm::ASID_LOW_BITS =>
            {
                return Err(format!("(h) VSpace cap {sl:?} records ASID {a}"));
            }
            _ => continue,
        };
        if let Some((asid, vaddr)) = mapped {
            if asid == 0 || vaddr & mask(align) != 0 || vaddr > vm::USER_TOP {
                return Err(format!("(h) cap {sl:?}={:x?} records a bad mapping", e.cap));
            }
        }
    }
    Ok(())
}

/// (g) Thread configuration: priorities and MCPs are at most seL4_MaxPrio; a TCB's
/// CSpace-root slot holds only a CNode cap, its fault- and timeout-handler slots only an
/// endpoint cap with Write and Grant or GrantReply (MCS `validFaultHandler`), and its
/// VSpace-root and IPC-buffer slots nothing (no VSpaces or frames in the spec).
fn tcb_config(s: &State) -> Result<(), String> {
    for (t, x) in &s.tcbs {
        if x.prio > MAX_PRIO || x.mcp > MAX_PRIO {
            return Err(format!(
                "(g) thread {t:#x} has priority {} / MCP {} above {MAX_PRIO}",
                x.prio, x.mcp
            ));
        }
    }
    for (sl, e) in &s.slots {
        if !s.tcbs.contains_key(&sl.obj) {
            continue;
        }
        let ok = match sl.index {
            TCB_CTABLE => matches!(e.cap, Cap::CNode { .. }),
            TCB_FAULT_HANDLER | TCB_TIMEOUT_HANDLER => matches!(e.cap, Cap::Endpoint { rights, .. }
                if rights.has(Rights::WRITE) && (rights.has(Rights::GRANT) || rights.has(Rights::GRANT_REPLY))),
            _ => false,
        };
        if !ok {
            return Err(format!("(g) TCB slot {sl:?} holds {:?}", e.cap));
        }
    }
    Ok(())
}

/// The derivation rule the spec must follow: `child` may be derived from `parent` only by
/// dropping rights and, for an unbadged endpoint/notification parent, choosing a badge.
pub fn derivable(parent: &Cap, child: &Cap) -> bool {
    match (*parent, *child) {
        (
            Cap::Endpoint {
                obj: a,
                badge: pb,
                rights: pr,
            },
            Cap::Endpoint {
                obj: b,
                badge: cb,
                rights: cr,
            },
        )
        | (
            Cap::Notification {
                obj: a,
                badge: pb,
                rights: pr,
            },
            Cap::Notification {
                obj: b,
                badge: cb,
                rights: cr,
            },
        ) => a == b && cr.subset_of(pr) && (pb == 0 || pb == cb),
        (Cap::Reply { obj: a, grant: pg }, Cap::Reply { obj: b, grant: cg }) => {
            a == b && (pg || !cg)
        }
        (
            Cap::CNode {
                obj: a, radix: ra, ..
            },
            Cap::CNode {
                obj: b, radix: rb, ..
            },
        ) => a == b && ra == rb,
        (Cap::Thread { obj: a }, Cap::Thread { obj: b }) => a == b,
        (Cap::SchedControl, Cap::SchedControl) => true,
        (
            Cap::SchedContext {
                obj: a,
                size_bits: x,
            },
            Cap::SchedContext {
                obj: b,
                size_bits: y,
            },
        ) => a == b && x == y,
        // Untyped parents: the child lies inside (checked by `object_placement`).
        (Cap::Untyped { .. }, _) => parent.same_region_as(child),
        // Arch caps: the same object (a frame: inside the parent's frame) with no more
        // rights; the mapping a cap records is not authority (it comes from Map).
        (Cap::Frame { rights: pr, .. }, Cap::Frame { rights: cr, .. }) => {
            parent.same_region_as(child) && cr.within(pr)
        }
        (Cap::PageTable { obj: a, .. }, Cap::PageTable { obj: b, .. })
        | (Cap::VSpace { obj: a, .. }, Cap::VSpace { obj: b, .. }) => a == b,
        (Cap::AsidPool { obj: a, base: x }, Cap::AsidPool { obj: b, base: y }) => a == b && x == y,
        (Cap::AsidControl, Cap::AsidControl) => true,
        _ => false,
    }
}

/// (a) Every CDT edge between caps to the same object is a rights-dropping derivation,
/// badges follow seL4's rules, and an original cap below another is a re-badged one.
fn derivation_rights(s: &State) -> Result<(), String> {
    for (c, p) in &s.cdt {
        let (ce, pe) = (s.slots[c], s.slots[p]);
        if !derivable(&pe.cap, &ce.cap) {
            return Err(format!(
                "(a) {c:?}={:?} is not derivable from its parent {p:?}={:?}",
                ce.cap, pe.cap
            ));
        }
        if let (Cap::Endpoint { .. } | Cap::Notification { .. }, false) =
            (ce.cap, matches!(pe.cap, Cap::Untyped { .. }))
        {
            // An original endpoint/notification cap below another one was re-badged from an
            // unbadged cap. (A badged *copy* may end up directly under the unbadged cap when
            // its badged original is deleted, as in seL4.)
            let rebadged = ce.cap.badge() != pe.cap.badge();
            if ce.original && !(rebadged && pe.cap.badge() == 0) {
                return Err(format!(
                    "(a) {c:?} is original but not re-badged from an unbadged parent"
                ));
            }
        }
    }
    // Caps that are not original always have a parent (they were derived from something),
    // unless they were handed out at boot.
    Ok(())
}

fn overlaps(a: (u64, u8), b: (u64, u8)) -> bool {
    let (ae, be) = (a.0 + (1u64 << a.1), b.0 + (1u64 << b.1));
    a.0 < be && b.0 < ae
}

fn inside(inner: (u64, u8), outer: (u64, u8)) -> bool {
    inner.0 >= outer.0 && inner.0 + (1u64 << inner.1) <= outer.0 + (1u64 << outer.1)
}

/// Slots that are CDT ancestors of `x`.
fn ancestors(s: &State, x: Slot) -> BTreeSet<Slot> {
    let mut out = BTreeSet::new();
    let mut cur = x;
    while let Some(p) = s.cdt.get(&cur) {
        if !out.insert(*p) {
            break;
        }
        cur = *p;
    }
    out
}

/// (c) Live objects never overlap and are aligned; objects carved from an untyped lie below
/// its watermark; an untyped without children covers no live object; every cap inside an
/// untyped's region descends from it.
fn object_placement(s: &State) -> Result<(), String> {
    let objs: Vec<(ObjId, Object)> = s.objects.iter().map(|(a, o)| (*a, *o)).collect();
    for (i, (a, o)) in objs.iter().enumerate() {
        if a & mask(o.size_bits as u32) != 0 {
            return Err(format!(
                "(c) object {a:#x} not aligned to 2^{}",
                o.size_bits
            ));
        }
        for (b, p) in &objs[i + 1..] {
            if overlaps((*a, o.size_bits), (*b, p.size_bits)) {
                return Err(format!("(c) objects {a:#x} and {b:#x} overlap"));
            }
        }
    }
    for (us, e) in &s.slots {
        let Cap::Untyped {
            base,
            size_bits,
            free,
            ..
        } = e.cap
        else {
            continue;
        };
        let region = (base, size_bits);
        if free > (1u64 << size_bits) {
            return Err(format!("(c) untyped {us:?} watermark beyond its end"));
        }
        let desc = s.descendants(*us);
        let anc = ancestors(s, *us);
        for (a, o) in &objs {
            if overlaps((*a, o.size_bits), region) {
                if desc.is_empty() {
                    return Err(format!(
                        "(c) untyped {us:?} has no children but live object {a:#x} overlaps it"
                    ));
                }
                if !inside((*a, o.size_bits), (base, size_bits)) {
                    return Err(format!("(c) object {a:#x} straddles untyped {us:?}"));
                }
                if a + (1u64 << o.size_bits) > base + free {
                    return Err(format!(
                        "(c) object {a:#x} lies above the watermark of untyped {us:?}"
                    ));
                }
            }
        }
        for (os, oe) in &s.slots {
            if os == us || anc.contains(os) {
                continue;
            }
            if inside(oe.cap.region(), region) && !desc.contains(os) {
                return Err(format!(
                    "(c) cap {os:?}={:?} lies in untyped {us:?} but does not descend from it",
                    oe.cap
                ));
            }
        }
        for d in &desc {
            if !inside(s.slots[d].cap.region(), region) {
                return Err(format!(
                    "(c) descendant {d:?} of untyped {us:?} lies outside it"
                ));
            }
        }
    }
    Ok(())
}

/// (d) Every cap names a live object of the right kind and size; every reference from
/// thread, endpoint and notification state is to a live object; slots exist.
fn no_dangling(s: &State) -> Result<(), String> {
    for (sl, e) in &s.slots {
        if !s.slot_exists(*sl) {
            return Err(format!("(d) filled slot {sl:?} is not in a live CNode/TCB"));
        }
        let Some(obj) = e.cap.object() else { continue };
        let Some(o) = s.objects.get(&obj) else {
            return Err(format!(
                "(d) cap {sl:?}={:?} names a destroyed object",
                e.cap
            ));
        };
        let ok = match (e.cap, o.ty) {
            (Cap::Endpoint { .. }, ObjType::Endpoint)
            | (Cap::Notification { .. }, ObjType::Notification)
            | (Cap::Thread { .. }, ObjType::Tcb)
            | (Cap::Reply { .. }, ObjType::Reply) => true,
            (Cap::CNode { radix, .. }, ObjType::CNode { radix: r }) => radix == r,
            (Cap::SchedContext { size_bits, .. }, ObjType::SchedContext) => {
                size_bits == o.size_bits
            }
            (Cap::AsidPool { .. }, ObjType::AsidPool)
            | (Cap::VSpace { .. }, ObjType::VSpace)
            | (Cap::PageTable { .. }, ObjType::PageTable)
            | (Cap::Frame { .. }, ObjType::Frame) => true,
            _ => false,
        };
        if !ok || e.cap.region().1 != o.size_bits {
            return Err(format!(
                "(d) cap {sl:?}={:?} does not match object {o:?}",
                e.cap
            ));
        }
    }
    for (a, o) in &s.objects {
        let has_state = match o.ty {
            ObjType::Tcb => s.tcbs.contains_key(a),
            ObjType::Endpoint => s.eps.contains_key(a),
            ObjType::Notification => s.ntfns.contains_key(a),
            ObjType::AsidPool => s.asid_pools.contains_key(a),
            _ => true,
        };
        if !has_state {
            return Err(format!("(d) object {a:#x} has no state"));
        }
    }
    let live = |x: &ObjId, ty: fn(&ObjType) -> bool| s.objects.get(x).is_some_and(|o| ty(&o.ty));
    for t in s.tcbs.keys().chain(s.ready.iter()) {
        if !live(t, |o| *o == ObjType::Tcb) {
            return Err(format!("(d) thread {t:#x} is not a live TCB"));
        }
    }
    for e in s.eps.keys() {
        if !live(e, |o| *o == ObjType::Endpoint) {
            return Err(format!("(d) endpoint state for dead {e:#x}"));
        }
    }
    for n in s.ntfns.keys() {
        if !live(n, |o| *o == ObjType::Notification) {
            return Err(format!("(d) notification state for dead {n:#x}"));
        }
    }
    Ok(())
}

/// (e) The CDT is a forest over filled slots; a parent is original and covers the child's
/// region.
fn cdt_well_formed(s: &State) -> Result<(), String> {
    for (c, p) in &s.cdt {
        let (Some(ce), Some(pe)) = (s.slots.get(c), s.slots.get(p)) else {
            return Err(format!("(e) CDT edge {c:?} -> {p:?} touches an empty slot"));
        };
        if !pe.original {
            return Err(format!("(e) parent {p:?} of {c:?} is not original"));
        }
        if !pe.cap.same_region_as(&ce.cap) {
            return Err(format!("(e) parent {p:?} does not cover child {c:?}"));
        }
        let mut seen = BTreeSet::new();
        let mut cur = *c;
        while let Some(n) = s.cdt.get(&cur) {
            if !seen.insert(cur) {
                return Err(format!("(e) CDT cycle through {c:?}"));
            }
            cur = *n;
        }
    }
    Ok(())
}

/// (f) Ready set = runnable threads; every endpoint/notification queue holds exactly the
/// threads blocked on it, once each, all in one direction.
fn queues(s: &State) -> Result<(), String> {
    for (t, tcb) in &s.tcbs {
        let runnable = tcb.state == ThreadState::Running;
        if runnable != s.ready.contains(t) {
            return Err(format!(
                "(f) thread {t:#x} state {:?} but ready={}",
                tcb.state, !runnable
            ));
        }
        let in_q = |q: &Vec<ObjId>| q.iter().filter(|x| *x == t).count();
        for (e, q) in &s.eps {
            let want = match tcb.state {
                ThreadState::BlockedOnSend { ep, .. } | ThreadState::BlockedOnRecv { ep, .. } => {
                    (ep == *e) as usize
                }
                _ => 0,
            };
            if in_q(q) != want {
                return Err(format!(
                    "(f) thread {t:#x} ({:?}) appears {} times in endpoint {e:#x}",
                    tcb.state,
                    in_q(q)
                ));
            }
        }
        for (n, nt) in &s.ntfns {
            let want = matches!(tcb.state, ThreadState::BlockedOnNotification { ntfn } if ntfn == *n)
                as usize;
            if in_q(&nt.waiters) != want {
                return Err(format!(
                    "(f) thread {t:#x} appears {} times in notification {n:#x}",
                    in_q(&nt.waiters)
                ));
            }
        }
        if let ThreadState::BlockedOnReply { reply }
        | ThreadState::BlockedOnRecv {
            reply: Some(reply), ..
        } = tcb.state
        {
            if s.objects.get(&reply).map(|o| o.ty) != Some(ObjType::Reply) {
                return Err(format!("(d) thread {t:#x} uses dead reply {reply:#x}"));
            }
            if s.reply_user(reply) != Some(*t) || s.tcbs.iter().filter(|(_, x)| {
                matches!(x.state, ThreadState::BlockedOnReply { reply: r } | ThreadState::BlockedOnRecv { reply: Some(r), .. } if r == reply)
            }).count() != 1 {
                return Err(format!("(f) reply {reply:#x} used by more than one thread"));
            }
        }
        if let Some(n) = tcb.bound_ntfn {
            if s.ntfns.get(&n).and_then(|x| x.bound_tcb) != Some(*t) {
                return Err(format!("(f) binding {t:#x} -> {n:#x} not symmetric"));
            }
        }
        if let Some(sc) = tcb.sc {
            if s.scs.get(&sc).and_then(|x| x.tcb) != Some(*t) {
                return Err(format!("(f) SC binding {t:#x} -> {sc:#x} not symmetric"));
            }
        }
    }
    for (sc, x) in &s.scs {
        if s.objects.get(sc).map(|o| o.ty) != Some(ObjType::SchedContext) {
            return Err(format!("(d) SC state for dead object {sc:#x}"));
        }
        if let Some(t) = x.tcb {
            if s.tcbs.get(&t).and_then(|y| y.sc) != Some(*sc) {
                return Err(format!("(f) SC binding {sc:#x} -> {t:#x} not symmetric"));
            }
        }
    }
    for (o, ob) in &s.objects {
        if ob.ty == ObjType::SchedContext && !s.scs.contains_key(o) {
            return Err(format!("(d) live SC {o:#x} without state"));
        }
    }
    for (e, q) in &s.eps {
        let senders = q
            .iter()
            .filter(|t| matches!(s.tcbs[t].state, ThreadState::BlockedOnSend { .. }))
            .count();
        if senders != 0 && senders != q.len() {
            return Err(format!(
                "(f) endpoint {e:#x} queue mixes senders and receivers"
            ));
        }
    }
    for (n, nt) in &s.ntfns {
        if nt.active && !nt.waiters.is_empty() {
            return Err(format!(
                "(f) notification {n:#x} has a pending signal and waiters"
            ));
        }
        if !nt.active && nt.word != 0 {
            return Err(format!(
                "(f) notification {n:#x} is idle with word {:#x}",
                nt.word
            ));
        }
        if let Some(t) = nt.bound_tcb {
            if s.tcbs.get(&t).and_then(|x| x.bound_ntfn) != Some(*n) {
                return Err(format!("(f) binding {n:#x} -> {t:#x} not symmetric"));
            }
        }
    }
    Ok(())
}

// -------------------------------------------------------------------- integrity (b)

/// CNodes reachable from thread `t`'s CSpace root through CNode caps.
pub fn reachable_cnodes(s: &State, t: ObjId) -> BTreeSet<ObjId> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<ObjId> = s
        .cspace_root(t)
        .and_then(|c| match c {
            Cap::CNode { obj, .. } => Some(obj),
            _ => None,
        })
        .into_iter()
        .collect();
    while let Some(c) = todo.pop() {
        if !out.insert(c) {
            continue;
        }
        for (sl, e) in s.slots.range(
            Slot { obj: c, index: 0 }..=Slot {
                obj: c,
                index: u64::MAX,
            },
        ) {
            let _ = sl;
            if let Cap::CNode { obj, .. } = e.cap {
                todo.push(obj);
            }
        }
    }
    out
}

/// The caps thread `t` holds: every cap in a CNode reachable from its CSpace root.
pub fn held_caps(s: &State, t: ObjId) -> Vec<(Slot, Cap)> {
    let cn = reachable_cnodes(s, t);
    s.slots
        .iter()
        .filter(|(sl, _)| cn.contains(&sl.obj))
        .map(|(sl, e)| (*sl, e.cap))
        .collect()
}

/// (b) Authority confinement / integrity for one transition by thread `t`: every change to
/// another thread's caps, state or to kernel memory is justified by a cap `t` held before
/// the step, with the right the change needs.
pub fn check_integrity(pre: &State, post: &State, t: ObjId, sc: &Syscall) -> Result<(), String> {
    let mut held = held_caps(pre, t);
    // The acting thread's fault handler acts for it when it faults (`sendFaultIPC`).
    let fh = Slot {
        obj: t,
        index: TCB_FAULT_HANDLER,
    };
    held.extend(pre.cap(fh).map(|c| (fh, c)));
    let reach = reachable_cnodes(pre, t);
    let holds = |pred: &dyn Fn(&Cap) -> bool| held.iter().any(|(_, c)| pred(c));
    let destroyed: BTreeSet<ObjId> = pre
        .objects
        .keys()
        .filter(|a| !post.objects.contains_key(a))
        .copied()
        .collect();
    // Descendants of slots t holds (what its revokes may delete).
    let mut revocable = BTreeSet::new();
    for (sl, _) in &held {
        revocable.extend(pre.descendants(*sl));
    }
    // Was this an IPC send through an endpoint cap with Grant, or a receive on an endpoint?
    let invoked = |cptr: u64| pre.lookup_slot(t, cptr).ok().and_then(|s| pre.cap(s));
    let send_grant = match sc {
        Syscall::Call(i) | Syscall::Send(i) | Syscall::NBSend(i) => {
            matches!(invoked(i.cptr), Some(Cap::Endpoint { rights, .. }) if rights.has(Rights::GRANT) && rights.has(Rights::WRITE))
        }
        _ => false,
    };
    let recv_ep = match sc {
        Syscall::Wait { cptr, .. } | Syscall::NBWait { cptr, .. } => match invoked(*cptr) {
            Some(Cap::Endpoint { obj, rights, .. }) if rights.has(Rights::READ) => Some(obj),
            _ => None,
        },
        _ => None,
    };
    // Slots whose cap changed.
    let keys: BTreeSet<Slot> = pre.slots.keys().chain(post.slots.keys()).copied().collect();
    for k in keys {
        if pre.cap(k) == post.cap(k) {
            continue;
        }
        let ok = reach.contains(&k.obj)
            || k.obj == t
            // another thread's own slots, through a thread cap to it (TCB_SetSpace & co.)
            || holds(&|c| matches!(c, Cap::Thread { obj } if *obj == k.obj))
            || revocable.contains(&k)
            || destroyed.contains(&k.obj)
            || (send_grant && pre.cap(k).is_none())
            // a blocked granting sender's untyped source is marked full when received
            || recv_ep.is_some_and(|e| {
                pre.eps[&e].first().is_some_and(|snd| {
                    matches!(pre.tcbs[snd].state, ThreadState::BlockedOnSend { grant: true, .. })
                        && reachable_cnodes(pre, *snd).contains(&k.obj)
                })
            });
        if !ok {
            return Err(format!(
                "(b) thread {t:#x} changed slot {k:?} ({:?} -> {:?}) without authority",
                pre.cap(k),
                post.cap(k)
            ));
        }
    }
    // Other threads' states.
    for (u, pt) in &pre.tcbs {
        if *u == t {
            continue;
        }
        let now = post.tcbs.get(u);
        if now == Some(pt) {
            continue;
        }
        let ok = destroyed.contains(u)
            || holds(&|c| matches!(c, Cap::Thread { obj } if obj == u))
            || match pt.state {
                ThreadState::BlockedOnSend { ep, .. } => {
                    destroyed.contains(&ep)
                        || holds(&|c| matches!(c, Cap::Endpoint { obj, rights, .. } if *obj == ep && rights.has(Rights::READ)))
                }
                ThreadState::BlockedOnRecv { ep, .. } => {
                    destroyed.contains(&ep)
                        || holds(&|c| matches!(c, Cap::Endpoint { obj, rights, .. } if *obj == ep && rights.has(Rights::WRITE)))
                        || pt.bound_ntfn.is_some_and(|n| {
                            holds(&|c| matches!(c, Cap::Notification { obj, rights, .. } if *obj == n && rights.has(Rights::WRITE)))
                        })
                }
                ThreadState::BlockedOnNotification { ntfn } => {
                    destroyed.contains(&ntfn)
                        || holds(&|c| matches!(c, Cap::Notification { obj, rights, .. } if *obj == ntfn && rights.has(Rights::WRITE)))
                }
                _ => false,
            }
            // a reply object it uses: replied to, or taken over by a Recv, or destroyed
            || match pt.state {
                ThreadState::BlockedOnReply { reply }
                | ThreadState::BlockedOnRecv { reply: Some(reply), .. } => {
                    destroyed.contains(&reply)
                        || holds(&|c| matches!(c, Cap::Reply { obj, .. } if *obj == reply))
                }
                _ => false,
            }
            || pt.bound_ntfn.is_some_and(|n| destroyed.contains(&n) || holds(&|c| c.object() == Some(n)))
            // SchedContext_Unbind through a cap to its bound SC
            || (pt.state == now.map_or(pt.state, |x| x.state)
                && pt.sc.is_some_and(|sc| destroyed.contains(&sc) || holds(&|c| matches!(c, Cap::SchedContext { obj, .. } if *obj == sc))));
        if !ok {
            return Err(format!(
                "(b) thread {t:#x} changed thread {u:#x} ({:?} -> {:?}) without authority",
                pt, now
            ));
        }
    }
    // Priorities and MCPs (the acting thread's own included): changed only through a
    // thread cap to the thread, and never above the MCP of a thread the actor holds a
    // thread cap to (the authority TCB of SetPriority/SetMCPriority/SetSchedParams).
    let max_auth = held
        .iter()
        .filter_map(|(_, c)| match c {
            Cap::Thread { obj } => pre.tcbs.get(obj).map(|x| x.mcp),
            _ => None,
        })
        .max();
    for (u, pt) in &pre.tcbs {
        let Some(now) = post.tcbs.get(u) else {
            continue;
        };
        for (what, a, b) in [("priority", pt.prio, now.prio), ("MCP", pt.mcp, now.mcp)] {
            if a == b {
                continue;
            }
            if !holds(&|c| matches!(c, Cap::Thread { obj } if obj == u)) {
                return Err(format!(
                    "(b) thread {t:#x} changed the {what} of {u:#x} without a thread cap to it"
                ));
            }
            if max_auth.is_none_or(|m| b > m) {
                return Err(format!(
                    "(b) thread {t:#x} set the {what} of {u:#x} to {b}, above the MCP {max_auth:?} of every thread it holds a cap to"
                ));
            }
        }
    }
    // Notification words.
    for (n, pn) in &pre.ntfns {
        if let Some(qn) = post.ntfns.get(n) {
            if (qn.word, qn.active) != (pn.word, pn.active)
                && !holds(&|c| c.object() == Some(*n))
                && pre.tcbs[&t].bound_ntfn != Some(*n)
            {
                return Err(format!(
                    "(b) thread {t:#x} changed notification {n:#x} without a cap to it"
                ));
            }
        }
    }
    vspace_integrity(pre, post, t, &held, &destroyed)?;
    // (a) on transitions: every cap that appears in a slot is a fresh object's cap, or is
    // derivable (rights only dropped, badge only set on an unbadged cap) from a cap the
    // acting thread, or a granting sender it received from, held before the step.
    let mut sources: Vec<Cap> = held.iter().map(|(_, c)| *c).collect();
    sources.extend(pre.cspace_root(t));
    if let Some(e) = recv_ep {
        if let Some(snd) = pre.eps[&e].first() {
            sources.extend(held_caps(pre, *snd).into_iter().map(|(_, c)| c));
        }
    }
    for (sl, e) in &post.slots {
        if pre.cap(*sl) == Some(e.cap) {
            continue;
        }
        let fresh = match e.cap {
            Cap::Untyped { .. } => false,
            c => c.object().is_some_and(|o| !pre.objects.contains_key(&o)),
        };
        let retyped_untyped = matches!(e.cap, Cap::Untyped { .. })
            && e.original
            && held.iter().any(|(_, c)| {
                matches!(c, Cap::Untyped { .. }) && c.same_region_as(&e.cap) && *c != e.cap
            });
        let derived = sources.iter().any(|src| {
            derivable(src, &e.cap)
                && match (*src, e.cap) {
                    (
                        Cap::Untyped {
                            base, size_bits, ..
                        },
                        Cap::Untyped {
                            base: b,
                            size_bits: z,
                            ..
                        },
                    ) => base == b && size_bits == z,
                    (Cap::Untyped { .. }, _) => false,
                    _ => true,
                }
        });
        if !(fresh || retyped_untyped || derived) {
            return Err(format!(
                "(a) thread {t:#x} produced {sl:?}={:?}, not derivable from any cap it held",
                e.cap
            ));
        }
    }
    // New objects come from an untyped the thread holds.
    for (a, o) in &post.objects {
        if pre.objects.contains_key(a) {
            continue;
        }
        let ok = held.iter().any(|(_, c)| {
            matches!(c, Cap::Untyped { .. }) && inside((*a, o.size_bits), c.region())
        });
        if !ok {
            return Err(format!(
                "(b) thread {t:#x} created object {a:#x} outside any untyped it holds"
            ));
        }
    }
    Ok(())
}

/// Tables reachable from VSpace root `root` through table entries (the root included).
fn tables_below(s: &State, root: ObjId) -> BTreeSet<ObjId> {
    let mut out = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(t) = todo.pop() {
        if !out.insert(t) {
            continue;
        }
        for p in s.ptes.get(&t).into_iter().flat_map(|e| e.values()) {
            if let Pte::Table(n) = p {
                todo.push(*n);
            }
        }
    }
    out
}

/// (b) for VSpaces, per transition by thread `t`: an entry of a live table changes only if
/// `t` held a cap to that table or to a VSpace root the table was reachable from; a new
/// entry names a table or frame `t` held a cap to (a page with no more access than that
/// frame cap allows); an entry removed without such authority named an object `t` held a
/// cap to (deleting or unmapping its mapping). An ASID pool's entries change only through
/// a cap to the pool, or (removal) to the VSpace removed or when it is destroyed; the ASID
/// table gains a pool only through the ASID control cap and loses one only through a cap
/// to it.
fn vspace_integrity(
    pre: &State,
    post: &State,
    t: ObjId,
    held: &[(Slot, Cap)],
    destroyed: &BTreeSet<ObjId>,
) -> Result<(), String> {
    let held_obj = |o: ObjId| held.iter().any(|(_, c)| c.object() == Some(o));
    let mut vs_reach = BTreeSet::new();
    for (_, c) in held {
        if let Cap::VSpace { obj, .. } = c {
            vs_reach.extend(tables_below(pre, *obj));
        }
    }
    let empty = std::collections::BTreeMap::new();
    let tables: BTreeSet<ObjId> = pre.ptes.keys().chain(post.ptes.keys()).copied().collect();
    for tb in tables {
        if destroyed.contains(&tb) || !post.objects.contains_key(&tb) {
            continue;
        }
        let (a, b) = (
            pre.ptes.get(&tb).unwrap_or(&empty),
            post.ptes.get(&tb).unwrap_or(&empty),
        );
        if a == b {
            continue;
        }
        let auth = held_obj(tb) || vs_reach.contains(&tb);
        let idx: BTreeSet<u64> = a.keys().chain(b.keys()).copied().collect();
        for i in idx {
            let (x, y) = (a.get(&i), b.get(&i));
            if x == y {
                continue;
            }
            let ok = match y {
                Some(Pte::Table(n)) => auth && held_obj(*n),
                Some(Pte::Page { frame, rights, .. }) => {
                    auth && held.iter().any(|(_, c)| {
                        matches!(c, Cap::Frame { obj, rights: cr, .. } if obj == frame && rights.within(*cr))
                    })
                }
                None => {
                    auth || match x {
                        Some(Pte::Table(n)) | Some(Pte::Page { frame: n, .. }) => {
                            held_obj(*n) || destroyed.contains(n)
                        }
                        None => true,
                    }
                }
            };
            if !ok {
                return Err(format!(
                    "(b) thread {t:#x} changed table {tb:#x}[{i}] ({x:x?} -> {y:x?}) without authority"
                ));
            }
        }
    }
    for (pool, a) in &pre.asid_pools {
        let Some(b) = post.asid_pools.get(pool) else {
            continue;
        };
        let idx: BTreeSet<u64> = a.keys().chain(b.keys()).copied().collect();
        for i in idx {
            let (x, y) = (a.get(&i), b.get(&i));
            let ok = x == y
                || held_obj(*pool)
                || (y.is_none() && x.is_some_and(|r| held_obj(*r) || destroyed.contains(r)));
            if !ok {
                return Err(format!(
                    "(b) thread {t:#x} changed ASID pool {pool:#x}[{i}] ({x:x?} -> {y:x?}) without authority"
                ));
            }
        }
    }
    let idx: BTreeSet<u64> = pre
        .asid_table
        .keys()
        .chain(post.asid_table.keys())
        .copied()
        .collect();
    for i in idx {
        let (x, y) = (pre.asid_table.get(&i), post.asid_table.get(&i));
        let ok = x == y
            || match (x, y) {
                (None, Some(_)) => held.iter().any(|(_, c)| *c == Cap::AsidControl),
                (Some(p), None) => held_obj(*p) || destroyed.contains(p),
                _ => false,
            };
        if !ok {
            return Err(format!(
                "(b) thread {t:#x} changed ASID table entry {i} ({x:x?} -> {y:x?}) without authority"
            ));
        }
    }
    Ok(())
}
