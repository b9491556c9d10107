//! One tiny fixture per error message: each `fixtures/err/*.system` file states, in its first
//! line, the architecture, the expected location and the expected message prefix.

mod common;

use std::collections::BTreeSet;

struct Expect {
    arch: String,
    line: u32,
    col: u32,
    message: String,
}

fn header(text: &str) -> Expect {
    let first = text.lines().next().unwrap_or_default();
    let body = first
        .strip_prefix("<!-- ")
        .and_then(|s| s.strip_suffix(" -->"))
        .unwrap_or_else(|| panic!("fixture header missing: {first}"));
    let arch = body.strip_prefix("arch=").and_then(|s| s.split_once(' ')).expect("arch").0;
    let loc = body.split(" loc=").nth(1).and_then(|s| s.split_once(' ')).expect("loc").0;
    let message = body.split_once(" error=").expect("error").1;
    let (l, c) = loc.split_once(':').expect("line:col");
    Expect {
        arch: arch.to_string(),
        line: l.parse().expect("line"),
        col: c.parse().expect("col"),
        message: message.to_string(),
    }
}

/// The variant name of an error kind, e.g. `DuplicateId`.
fn variant(kind: &sdf::ErrorKind) -> String {
    let dbg = format!("{kind:?}");
    dbg.split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default().to_string()
}

#[test]
fn every_negative_fixture_fails_with_its_message_and_location() {
    let files = common::system_files(&common::fixtures().join("err"));
    assert!(files.len() >= 100, "expected the full set of negative fixtures, found {}", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let want = header(&text);
        let name = path.file_name().expect("name").to_string_lossy().to_string();
        match common::parse_file(path, &want.arch) {
            Ok(_) => failures.push(format!("{name}: parsed without error")),
            Err(e) => {
                let msg = e.message();
                let shown = e.to_string();
                let prefix = format!("{name}:{}:{}: error: ", want.line, want.col);
                if (e.loc.line, e.loc.col) != (want.line, want.col) || !msg.starts_with(&want.message) {
                    failures.push(format!(
                        "{name}: want {}:{} `{}`\n      got {}:{} `{}`",
                        want.line, want.col, want.message, e.loc.line, e.loc.col, msg
                    ));
                } else if !shown.starts_with(&prefix) {
                    failures.push(format!("{name}: Display `{shown}` does not start with `{prefix}`"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} fixture(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_error_kind_has_a_negative_fixture() {
    let mut seen = BTreeSet::new();
    for path in common::system_files(&common::fixtures().join("err")) {
        let text = std::fs::read_to_string(&path).expect("readable");
        if let Err(e) = common::parse_file(&path, &header(&text).arch) {
            seen.insert(variant(&e.kind));
        }
    }
    // Every variant of `ErrorKind`; keep in step with `src/error.rs`.
    let all = [
        "Xml", "RootNotSystem", "UnexpectedText", "UnknownElement", "NotSupported", "UnknownAttribute",
        "MissingAttribute", "BadNumber", "BadBool", "OutOfRange", "EmptyName", "NameTooLong",
        "BudgetExceedsPeriod", "ZeroBudget", "StackSizeRange", "StackSizeAlign", "CpuOutOfRange",
        "SmcUnavailable", "DuplicateProgramImage", "MissingProgramImage", "BadPerms", "WriteOnlyMap",
        "WrongArch", "IrqForm", "BadTrigger", "BadPolarity", "BadPciDev", "DuplicateSetvar", "ChannelEnds",
        "UnknownPd", "BidirectionalPp", "PpcPriority", "DuplicateId", "DuplicateChildId", "ChildIdClashesVcpu",
        "DuplicateVcpuId", "DuplicateIrq", "DuplicatePdName", "DuplicateMrName", "DuplicateVmName",
        "NoProtectionDomains", "TooManyPds", "UnknownMr", "UnalignedVaddr", "MapTooHigh", "OverlappingMaps",
        "UnsupportedPageSize", "SizeNotMultiple", "ZeroSize", "UnalignedPhysAddr", "AddressOverflow",
        "OverlappingPhys", "MissingSize", "PrefillSize", "PrefillTooLarge", "PrefillSetvarWithoutPrefill",
        "SetvarPaddrNeedsPhysAddr", "IoPortZeroSize", "IoPortBeyondEnd", "IoPortOverlap", "DuplicateIoPortId",
        "VmMissingVcpu", "DuplicateVm", "VmNotChild",
    ];
    let missing: Vec<&str> = all.iter().copied().filter(|v| !seen.contains(*v)).collect();
    assert!(missing.is_empty(), "error kinds without a negative fixture: {missing:?}");
    let unknown: Vec<&String> = seen.iter().filter(|v| !all.contains(&v.as_str())).collect();
    assert!(unknown.is_empty(), "list of kinds is out of date: {unknown:?}");
}
