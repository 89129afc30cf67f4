//! The `mpc` binary: parse, run, exit. Everything else is in the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(mpc::run(std::env::args_os()) as u8)
}
