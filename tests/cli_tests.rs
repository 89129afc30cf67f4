//! CLI transcripts: help text and user errors with their exact messages and exit codes.
//! Regenerate after an intended change with `TRYCMD=overwrite cargo test --test cli_tests`.

#[test]
fn cli_transcripts() {
    trycmd::TestCases::new()
        .env("MPC_HOME", "/nonexistent/mpc-home")
        .case("tests/cmd/*.toml");
}
