//! `.npy` input and output shared by the benchmark examples (2-D, `<f8`, C order).

// Each example uses one or both.
#![allow(dead_code)]

use ndarray::Array2;

/// Reads a 2-D C-order `<f8` `.npy`; panics with the reason on anything else (benchmark input).
pub fn read(path: &str) -> Array2<f64> {
    let bytes = std::fs::read(path).expect("readable .npy");
    let npy = npyz::NpyFile::new(&bytes[..]).expect("a .npy file");
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    let v: Vec<f64> = npy.into_vec().expect("<f8 data");
    Array2::from_shape_vec((shape[0], shape[1]), v).expect("2-D, C order")
}

/// Writes a 2-D array as a C-order `<f8` `.npy`.
pub fn write(path: &str, a: &Array2<f64>) {
    use npyz::WriterBuilder;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("writable"));
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[a.nrows() as u64, a.ncols() as u64])
        .writer(&mut f)
        .begin_nd()
        .expect("npy header");
    w.extend(a.iter().copied()).expect("npy data");
    w.finish().expect("npy end");
}
