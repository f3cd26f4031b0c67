//! Embeds the git commit the binary is built from as `DEEPTRANSPORT_COMMIT`, for the provenance
//! block of the reports and `summary.json`. Outside a git checkout (a source tarball, a copy
//! without `.git`) or without `git` on the PATH it is "unknown": the build never fails for it.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=DEEPTRANSPORT_COMMIT={commit}");
    // Rerun when HEAD moves (a commit, a checkout). Only files that exist are named: cargo reruns
    // a build script on every build when a named file is missing.
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]).map(PathBuf::from) {
        // In a linked worktree the branch refs live in the common folder, HEAD in its own.
        let common = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"])
            .map_or_else(|| dir.clone(), PathBuf::from);
        let mut watch = vec![dir.join("HEAD"), common.join("packed-refs")];
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch.push(common.join(r));
        }
        for p in watch.into_iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
}
