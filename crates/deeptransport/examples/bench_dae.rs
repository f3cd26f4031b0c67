//! Times the empirical optimal DAE Φ_t (Gaussian noise) on `.npy` inputs; used by `bench/run.sh`.
//!
//! ```text
//! cargo run --release --example bench_dae -- DATA.npy QUERY.npy T REPEATS OUT.npy
//! ```
//! Prints one JSON object: the wall-clock seconds of every repeat and their median. Writes Φ_t of
//! the last repeat to OUT.npy so that the driver can check it against the peers.

use deeptransport::{dae, measure::Empirical, noise::Noise};
use ndarray::Array2;
use std::time::Instant;

fn read(path: &str) -> Array2<f64> {
    let bytes = std::fs::read(path).expect("readable .npy");
    let npy = npyz::NpyFile::new(&bytes[..]).expect("a .npy file");
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    let v: Vec<f64> = npy.into_vec().expect("<f8 data");
    Array2::from_shape_vec((shape[0], shape[1]), v).expect("2-D, C order")
}

fn write(path: &str, a: &Array2<f64>) {
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(
        args.len() == 6,
        "usage: bench_dae DATA.npy QUERY.npy T REPEATS OUT.npy"
    );
    let x = read(&args[1]);
    let q = read(&args[2]);
    let t: f64 = args[3].parse().expect("T");
    let repeats: usize = args[4].parse().expect("REPEATS");
    let mu = Empirical::new(x).expect("valid data");
    let mut times = Vec::new();
    let mut phi = None;
    for _ in 0..repeats {
        let start = Instant::now();
        let r = dae::empirical(&mu, Noise::Gaussian, t, q.view(), &|_| {}).expect("Φ_t");
        times.push(start.elapsed().as_secs_f64());
        phi = Some(r);
    }
    write(&args[5], &phi.expect("at least one repeat"));
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{{\"times\": {times:?}, \"median\": {}, \"threads\": {}}}",
        sorted[sorted.len() / 2],
        rayon::current_num_threads()
    );
}
