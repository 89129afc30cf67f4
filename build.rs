//! Records what `mpc version` reports about the build: the git commit of the source, the
//! compiler, the target, and the versions of the cryptographic crates from Cargo.lock.
//! Nothing time-dependent is recorded, so two builds of one commit stay identical.

use std::process::Command;

/// The crates whose versions `mpc version` reports.
const CRATES: &[&str] = &[
    "cggmp21",
    "frost-core",
    "frost-ed25519",
    "frost-secp256k1",
    "frost-secp256k1-tr",
    "age",
    "k256",
    "ed25519-dalek",
    "rusqlite",
];

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let commit = match git(&["rev-parse", "HEAD"]) {
        Some(out) => {
            let mut c = String::from_utf8_lossy(&out.stdout).trim().to_string();
            // Tracked files changed since the commit: say so.
            if git(&[
                "diff",
                "--quiet",
                "HEAD",
                "--",
                "src",
                "Cargo.toml",
                "Cargo.lock",
                "build.rs",
            ])
            .is_none()
            {
                c.push_str("-modified");
            }
            c
        }
        None => "unknown".into(),
    };
    println!("cargo:rustc-env=MPC_GIT_COMMIT={commit}");
    for f in [".git/HEAD", ".git/index", "Cargo.lock", "build.rs"] {
        println!("cargo:rerun-if-changed={f}");
    }

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=MPC_RUSTC={rustc_version}");
    println!(
        "cargo:rustc-env=MPC_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
    println!(
        "cargo:rustc-env=MPC_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_default()
    );

    // name=version pairs from Cargo.lock, for the crates above.
    let lock = std::fs::read_to_string(format!("{dir}/Cargo.lock")).unwrap_or_default();
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take())
            && CRATES.contains(&n.as_str())
        {
            found.push(format!("{n}={}", v.trim_matches('"')));
        }
    }
    println!("cargo:rustc-env=MPC_CRATES={}", found.join(";"));
}
