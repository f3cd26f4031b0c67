//! Inputs found by the fuzz targets (`fuzz/`, see fuzz/README.md), kept as regression tests on
//! the real binary: each is refused with exit 2 and a message of one or two lines naming the
//! file, never a panic, an allocation the file cannot back, or a multi-line parser diagnostic.
//! The files in `tests/fuzz-regressions/` are the fuzzer's inputs byte for byte.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

/// Writes `bytes` as `name` in a fresh folder, runs the binary there with `args` and checks the
/// refusal: within 60 s, exit 2, no panic, one or two lines, naming `name` and every needle;
/// nothing written at `out.npy`.
fn refused(name: &str, bytes: &[u8], args: &[&str], needles: &[&str]) {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join(name), bytes).unwrap();
    let out = common::bin()
        .current_dir(dir.path())
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: stderr {stderr}");
    assert!(!stderr.contains("panicked"), "a panic: {stderr}");
    assert!(
        stderr.trim_end().lines().count() <= 2,
        "the message should be one or two lines:\n{stderr}"
    );
    for n in std::iter::once(&name).chain(needles) {
        assert!(stderr.contains(n), "stderr lacks {n:?}:\n{stderr}");
    }
    assert!(!Path::new(&dir.path().join("out.npy")).exists());
}

#[test]
fn an_npy_header_that_does_not_parse_is_one_line() {
    refused(
        "bad.npy",
        include_bytes!("fuzz-regressions/npy-header-syntax-error.npy"),
        &["dae", "--data", "bad.npy", "--t", "1", "--out", "out.npy"],
        &["not a readable .npy file", "syntax error"],
    );
}

#[test]
fn an_npy_header_length_beyond_the_file_is_refused_before_allocating_it() {
    // A version-2 preamble announcing a 1.3 GB header in a 148-byte file.
    refused(
        "huge.npy",
        include_bytes!("fuzz-regressions/npy-header-length-1.3gb.npy"),
        &["dae", "--data", "huge.npy", "--t", "1", "--out", "out.npy"],
        &["announces 1318256768 bytes", "holds only 148 bytes"],
    );
}

#[test]
fn an_npy_header_of_deeply_nested_brackets_is_refused_at_once() {
    // 35 unclosed `{` in a 197-byte header: npyz's parser backtracked for more than ten minutes.
    refused(
        "deep.npy",
        include_bytes!("fuzz-regressions/npy-header-nested-brackets.npy"),
        &["dae", "--data", "deep.npy", "--t", "1", "--out", "out.npy"],
        &["nests brackets more than 8 deep"],
    );
}

#[test]
fn an_npz_holding_two_arrays_of_one_name_is_refused_naming_the_file() {
    refused(
        "dup.npz",
        include_bytes!("fuzz-regressions/npz-duplicate-entry.npz"),
        &["tracks", "--activations", "dup.npz"],
        &["holds two arrays named 'h'"],
    );
}

#[test]
fn a_bad_npy_header_inside_an_npz_is_one_line_naming_the_layer() {
    refused(
        "acts.npz",
        include_bytes!("fuzz-regressions/npz-entry-header-syntax-error.npz"),
        &["tracks", "--activations", "acts.npz", "--flatten"],
        &["acts.npz:y", "not a readable .npy file"],
    );
}

#[test]
fn control_characters_quoted_from_a_measure_spec_are_escaped() {
    refused(
        "g.json",
        include_bytes!("fuzz-regressions/measure-control-characters.json"),
        &["dae", "--measure", "g.json", "--t", "1", "--out", "out.npy"],
        &["not a measure spec", "unknown variant", "\\u{c}"],
    );
}

/// A `.safetensors` file of the given tensors (name, dtype, shape, little-endian bytes).
fn safetensors(tensors: &[(&str, &str, &[usize], Vec<u8>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": dtype, "shape": shape,
                               "data_offsets": [data.len(), data.len() + bytes.len()]}),
        );
        data.extend_from_slice(bytes);
    }
    let mut h = serde_json::to_vec(&header).unwrap();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(data);
    out
}

#[test]
fn a_line_break_in_a_tensor_name_is_escaped_in_the_message() {
    let file = safetensors(&[
        ("a", "F64", &[1, 1], common::f8(&[1.0])),
        ("b\nc", "I32", &[1, 1], common::i4(&[1])),
    ]);
    refused(
        "acts.safetensors",
        &file,
        &["tracks", "--activations", "acts.safetensors"],
        &["acts.safetensors:b\\nc", "dtype I32"],
    );
}
