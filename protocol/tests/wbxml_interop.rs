//! Interoperability with libwbxml (Debian `libwbxml2-utils`): for every CSP sample, in CSP
//! 1.1 and moved to 1.2 (libwbxml has no 1.3), our WBXML decoded by `wbxml2xml` and
//! `xml2wbxml`'s WBXML decoded by us give the message the sample's XML gives. Skipped, with a note, when the tools are not installed (CI installs
//! them in `.ci/run`).
//!
//! Both tools run with `-k` (keep whitespace: CSP text is significant). libwbxml needs a
//! DOCTYPE to know the language, so samples without one get their version's DOCTYPE (for 1.2
//! it then writes the public id as a string-table reference, which is read too). libwbxml's
//! WBXML loses two things, which the comparison allows for explicitly: a DateTime without
//! seconds and zone is sent as OPAQUE with second 0, and a `SearchID` (an OPAQUE integer for
//! libwbxml) written in hex comes back in decimal.

use std::path::{Path, PathBuf};
use std::process::Command;

use imps_protocol::{Encoding, Message, Version, decode, encode_wbxml};

fn samples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/csp-samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/csp-samples exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    files
}

/// True when `tool` can be run (it prints its usage and fails without arguments).
fn installed(tool: &str) -> bool {
    Command::new(tool).output().is_ok()
}

/// Runs `tool -o output input` (plus `args`), returning what it wrote.
fn convert(tool: &str, args: &[&str], input: &Path, output: &Path) -> Result<Vec<u8>, String> {
    let run = Command::new(tool)
        .args(args)
        .arg("-o")
        .arg(output)
        .arg(input)
        .output()
        .map_err(|e| format!("{tool}: {e}"))?;
    if !run.status.success() {
        return Err(format!(
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    std::fs::read(output).map_err(|e| format!("{tool} wrote nothing: {e}"))
}

/// Our WBXML, decoded by libwbxml into XML, decoded by us.
fn ours_through_libwbxml(message: &Message, dir: &Path, stem: &str) -> Result<Message, String> {
    let wbxml = dir.join(format!("{stem}.ours.wbxml"));
    std::fs::write(&wbxml, encode_wbxml(message)).map_err(|e| e.to_string())?;
    // libwbxml 0.11 does not map public id 0x11 to CSP 1.2: name the language.
    let language = match message.version {
        Version::V1_1 => "CSP11",
        _ => "CSP12",
    };
    let xml = convert(
        "wbxml2xml",
        &["-m", "0", "-k", "-l", language],
        &wbxml,
        &dir.join(format!("{stem}.xml")),
    )?;
    decode(&xml, Encoding::Xml).map_err(|e| format!("{e}\n{}", String::from_utf8_lossy(&xml)))
}

/// libwbxml's WBXML of the sample, decoded by us.
fn libwbxml_through_ours(sample: &str, dir: &Path, stem: &str) -> Result<Message, String> {
    let input = dir.join(format!("{stem}.in.xml"));
    std::fs::write(&input, sample).map_err(|e| e.to_string())?;
    let wbxml = convert(
        "xml2wbxml",
        &["-k"],
        &input,
        &dir.join(format!("{stem}.theirs.wbxml")),
    )?;
    decode(&wbxml, Encoding::Wbxml).map_err(|e| format!("{e}\n{wbxml:02x?}"))
}

/// A 1.1 sample moved to `version` (namespaces and DOCTYPE), with a DOCTYPE if it has none.
fn in_version(xml: &str, version: Version) -> String {
    let mut xml = xml
        .replace("-//OMA//DTD WV-CSP 1.1//EN", version.public_id())
        .replace(Version::V1_1.csp_namespace(), version.csp_namespace())
        .replace(Version::V1_1.trc_namespace(), version.trc_namespace())
        .replace(Version::V1_1.pa_namespace(), version.pa_namespace());
    if !xml.contains("<!DOCTYPE") {
        let at = xml.find("?>").map_or(0, |i| i + 2);
        let doctype = format!(
            "<!DOCTYPE WV-CSP-Message PUBLIC \"{}\" \
             \"http://www.openmobilealliance.org/DTD/WV-CSP.XML\">",
            version.public_id()
        );
        xml.insert_str(at, &doctype);
    }
    xml
}

/// The sample as libwbxml's WBXML carries it: seconds added to zoneless DateTimes without, hex
/// `SearchID`s in decimal.
fn as_libwbxml_carries_it(xml: &str) -> String {
    let seconds = |t: &str| {
        (t.len() == 13 && t.bytes().all(|b| b.is_ascii_digit() || b == b'T'))
            .then(|| format!("{t}00"))
    };
    let mut out = rewrite_text(xml, "DateTime", seconds);
    out = rewrite_text(&out, "DeliveryTime", seconds);
    rewrite_text(&out, "SearchID", |t| {
        let hex = t.strip_prefix("0x")?;
        u64::from_str_radix(hex, 16).ok().map(|n| n.to_string())
    })
}

/// Replaces the text of every `<tag>text</tag>` for which `f` gives a new one.
fn rewrite_text(xml: &str, tag: &str, f: impl Fn(&str) -> Option<String>) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let body = start + open.len();
        let Some(len) = rest[body..].find(&close) else {
            break;
        };
        out.push_str(&rest[..body]);
        let text = &rest[body..body + len];
        out.push_str(&f(text.trim()).unwrap_or_else(|| text.to_owned()));
        rest = &rest[body + len..];
    }
    out.push_str(rest);
    out
}

/// The first differing lines of two messages' debug forms.
fn difference(expected: &Message, actual: &Message) -> String {
    let (e, a) = (format!("{expected:#?}"), format!("{actual:#?}"));
    e.lines()
        .zip(a.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map_or_else(
            || "(same lines, different length)".to_owned(),
            |(i, (x, y))| format!("line {i}: expected {x:?}, got {y:?}"),
        )
}

#[test]
fn libwbxml_agrees_both_ways_on_every_sample() {
    if !installed("xml2wbxml") || !installed("wbxml2xml") {
        println!(
            "note: xml2wbxml/wbxml2xml (Debian libwbxml2-utils) not installed: \
             libwbxml interop test skipped"
        );
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wbxml-interop");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let files = samples();
    let mut failures = Vec::new();
    let (mut theirs_read, mut ours_read, mut cases) = (0, 0, 0);
    for path in &files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name");
        let original = std::fs::read_to_string(path).expect("sample");
        for version in [Version::V1_1, Version::V1_2] {
            cases += 1;
            let stem = format!("{name}.{version}");
            let text = in_version(&original, version);
            let expected = decode(text.as_bytes(), Encoding::Xml).expect("sample decodes");
            assert_eq!(expected.version, version);
            let carried = as_libwbxml_carries_it(&text);
            let expected_from_libwbxml =
                decode(carried.as_bytes(), Encoding::Xml).expect("rewritten sample decodes");
            match ours_through_libwbxml(&expected, &dir, &stem) {
                Ok(m) if m == expected => ours_read += 1,
                Ok(m) => failures.push(format!(
                    "{stem}: wbxml2xml of ours differs: {}",
                    difference(&expected, &m)
                )),
                Err(e) => failures.push(format!("{stem}: wbxml2xml of ours: {e}")),
            }
            match libwbxml_through_ours(&text, &dir, &stem) {
                Ok(m) if m == expected_from_libwbxml => theirs_read += 1,
                Ok(m) => failures.push(format!(
                    "{stem}: xml2wbxml output differs: {}",
                    difference(&expected_from_libwbxml, &m)
                )),
                Err(e) => failures.push(format!("{stem}: xml2wbxml output: {e}")),
            }
        }
    }
    println!(
        "libwbxml interop ({} samples in 1.1 and 1.2): {ours_read}/{cases} of our WBXML read \
         by wbxml2xml, {theirs_read}/{cases} of xml2wbxml's read by us",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
