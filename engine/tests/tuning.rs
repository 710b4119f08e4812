//! Every shipped deployment profile in `tuning/` parses and validates.

use imps_engine::settings::ServeSettings;

#[test]
fn every_profile_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tuning");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("tuning/ exists") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let s = ServeSettings::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.listen.is_empty());
            s.access_config();
            seen += 1;
        }
    }
    assert!(seen >= 3, "laptop, benchmark and carrier-node profiles");
}
