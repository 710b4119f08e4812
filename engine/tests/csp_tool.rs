//! The `csp` binary, run as a user runs it.

use std::process::Command;

fn samples_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol/testdata/csp-samples")
}

#[test]
fn check_accepts_every_sample() {
    let mut files: Vec<_> = std::fs::read_dir(samples_dir())
        .expect("samples dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    let out = Command::new(env!("CARGO_BIN_EXE_csp"))
        .arg("check")
        .args(&files)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), files.len());
    assert!(stdout.contains("Login-Request.password.csp11.xml: CSP 1.1: Login-Request (Request)"));
}

#[test]
fn check_fails_on_a_bad_file() {
    let dir = std::env::temp_dir().join(format!("csp-tool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.xml");
    std::fs::write(&bad, "<WV-CSP-Message><Session>").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_csp"))
        .arg("check")
        .arg(&bad)
        .output()
        .expect("runs");
    std::fs::remove_dir_all(&dir).ok();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ERROR"));
}

#[test]
fn fmt_prints_the_canonical_form() {
    let file = samples_dir().join("KeepAlive-Request.csp11.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_csp"))
        .arg("fmt")
        .arg(&file)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><WV-CSP-Message xmlns=\"http://www.wireless-village.org/CSP1.1\">"));
    assert!(text.contains("<KeepAlive-Request"));
}
