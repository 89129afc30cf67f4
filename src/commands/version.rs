//! `mpc version`: exactly what ran, for a ceremony worksheet: the version, the git
//! commit the binary was built from (`-modified` if the source differed from it), the
//! compiler, target and profile, the cargo features, and the versions of the
//! cryptographic crates (from Cargo.lock, recorded at build time).

use super::Ctx;
use crate::error::Result;

/// The build facts, as recorded by `build.rs`.
pub struct BuildInfo {
    /// The crate version.
    pub version: &'static str,
    /// The git commit, or `unknown` outside a git checkout.
    pub commit: &'static str,
    /// `rustc --version` of the compiler.
    pub rustc: &'static str,
    /// The target triple.
    pub target: &'static str,
    /// `debug` or `release`.
    pub profile: &'static str,
}

/// This binary's build facts.
pub const BUILD: BuildInfo = BuildInfo {
    version: env!("CARGO_PKG_VERSION"),
    commit: env!("MPC_GIT_COMMIT"),
    rustc: env!("MPC_RUSTC"),
    target: env!("MPC_TARGET"),
    profile: env!("MPC_PROFILE"),
};

/// The cargo features this binary was built with.
const FEATURES: &[&str] = &[
    #[cfg(feature = "bench")]
    "bench",
    #[cfg(feature = "test-vectors")]
    "test-vectors",
];

/// The cryptographic crates and their versions, as `(name, version)`.
pub fn crates() -> Vec<(&'static str, &'static str)> {
    env!("MPC_CRATES")
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .collect()
}

/// Runs `mpc version`.
pub fn run(ctx: &Ctx) -> Result<()> {
    let b = &BUILD;
    ctx.printer.data(format!("mpc {}", b.version));
    ctx.printer.data(format!("commit:   {}", b.commit));
    ctx.printer.data(format!("compiler: {}", b.rustc));
    ctx.printer
        .data(format!("target:   {} ({})", b.target, b.profile));
    for (name, version) in crates() {
        ctx.printer.data(format!("  {name:<20} {version}"));
    }
    let crates: serde_json::Map<String, serde_json::Value> = crates()
        .into_iter()
        .map(|(n, v)| (n.to_string(), v.into()))
        .collect();
    ctx.printer.json(&serde_json::json!({
        "version": b.version,
        "commit": b.commit,
        "rustc": b.rustc,
        "target": b.target,
        "profile": b.profile,
        "features": FEATURES,
        "crates": crates,
    }))
}
