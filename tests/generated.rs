//! `man/` and `completions/` are generated from the clap types and checked in. This test
//! fails when they are stale; `MPC_UPDATE_GENERATED=1 cargo test --test generated`
//! rewrites them.

use mpc::commands::generate::{completion_script, man_pages};
use std::path::Path;

fn check(path: &Path, want: &[u8], update: bool, stale: &mut Vec<String>) {
    if std::fs::read(path).ok().as_deref() == Some(want) {
        return;
    }
    if update {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, want).unwrap();
    } else {
        stale.push(path.display().to_string());
    }
}

#[test]
fn man_pages_and_completions_are_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("MPC_UPDATE_GENERATED").is_some();
    let mut stale = Vec::new();
    use clap_complete::Shell;
    for (shell, name) in [
        (Shell::Bash, "mpc.bash"),
        (Shell::Zsh, "_mpc"),
        (Shell::Fish, "mpc.fish"),
    ] {
        check(
            &root.join("completions").join(name),
            &completion_script(shell),
            update,
            &mut stale,
        );
    }
    let pages = man_pages().unwrap();
    for (name, bytes) in &pages {
        check(&root.join("man").join(name), bytes, update, &mut stale);
    }
    // No page left over from a removed command.
    for entry in std::fs::read_dir(root.join("man")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".1") && !pages.iter().any(|(n, _)| *n == name) {
            if update {
                std::fs::remove_file(root.join("man").join(&name)).unwrap();
            } else {
                stale.push(format!("man/{name} (no such command)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are stale: {stale:?}\nrun: MPC_UPDATE_GENERATED=1 cargo test --test generated"
    );
}

#[test]
fn the_main_page_documents_exit_codes() {
    let pages = man_pages().unwrap();
    let main =
        String::from_utf8(pages.iter().find(|(n, _)| n == "mpc.1").unwrap().1.clone()).unwrap();
    for code in ["4  waiting", "3  protocol aborted", "MPC_PASSPHRASE"] {
        assert!(main.contains(code), "mpc(1) lacks `{code}`");
    }
}
