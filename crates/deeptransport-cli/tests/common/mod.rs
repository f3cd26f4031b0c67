//! Fixtures shared by the CLI test files: the binary, `.npy` files written byte by byte (so that
//! 3-D, integer, `<f4`, Fortran-order and truncated files can be made) and a reader for the
//! `<f8` C-order `.npy` files the CLI writes.
// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use assert_cmd::Command;
use std::fs;
use std::path::Path;

/// The `deeptransport` binary under test.
pub fn bin() -> Command {
    Command::cargo_bin("deeptransport").expect("binary built")
}

/// A `.npy` file: magic, version 1.0, the header dict padded with spaces so that magic + length
/// + dict + `\n` is a multiple of 64 bytes, then the raw data.
pub fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape = match shape {
        [n] => format!("({n},)"),
        s => format!(
            "({})",
            s.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let order = if fortran { "True" } else { "False" };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    assert_eq!(out.len() % 64, 0, "NPY header must be 64-byte aligned");
    out.extend_from_slice(data);
    out
}

pub fn f8(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn f4(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn i4(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// `n × d` row-major values as a C-order `<f8` `.npy`.
pub fn npy_f8(n: usize, d: usize, rows: &[f64]) -> Vec<u8> {
    assert_eq!(rows.len(), n * d);
    npy("<f8", false, &[n, d], &f8(rows))
}

/// Parses a `<f8` `.npy` written by the CLI: (shape, values in C order).
pub fn read_npy(path: &Path) -> (Vec<usize>, Vec<f64>) {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..6],
        b"\x93NUMPY",
        "{}: not an NPY file",
        path.display()
    );
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&bytes[start..start + hlen]).unwrap();
    assert!(header.contains("'descr': '<f8'"), "{header}");
    assert!(header.contains("'fortran_order': False"), "{header}");
    let s = &header[header.find("'shape': (").unwrap() + 10..];
    let shape: Vec<usize> = s[..s.find(')').unwrap()]
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.parse().unwrap())
        .collect();
    let values: Vec<f64> = bytes[start + hlen..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(values.len(), shape.iter().product::<usize>());
    (shape, values)
}
