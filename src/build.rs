//! Link-time layout for the `hoist` binary.
//!
//! A short-lived CLI's peak memory is mostly the pages of its own code that it
//! touches, and the kernel maps code around each fault 64 KiB at a time. The
//! functions a `--list`, a `--dry` run and a small real run execute (recorded by
//! `bench/hot-functions.sh`) are placed first and together, so they share a few
//! windows instead of touching most of the 8 MB of code. A stale list costs
//! only that locality, never correctness: names it lacks are laid out as usual.

use std::path::Path;
use std::process::Command;

const HOT_FUNCTIONS: &str = "bench/hot-functions.txt";

fn main() {
    println!("cargo:rerun-if-changed={HOT_FUNCTIONS}");
    println!("cargo:rerun-if-changed=src/build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    let list = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join(HOT_FUNCTIONS);
    // Only where rustc links with its own lld (x86_64 Linux since Rust 1.90):
    // GNU ld has no --symbol-ordering-file.
    if target == "x86_64-unknown-linux-gnu" && rustc_links_with_lld() && list.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    // A fixed-address executable, as Go links go-task: the loader skips the
    // 47,000 relocations a position-independent hoist needs at every start
    // (0.3 ms, an eighth of a dry run). Shared libraries, heap and stack are
    // still placed at random.
    if target == "x86_64-unknown-linux-gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

fn rustc_links_with_lld() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("--version").output() else {
        return false;
    };
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    let version = String::from_utf8_lossy(&out.stdout);
    let minor = version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok());
    minor.is_some_and(|m| m >= 90)
}
