//! Times the Kozachenko–Leonenko k-NN entropy (neighbour search + formula); peer:
//! `bench/peers/bench_entropy.py` (SciPy `cKDTree(x).query(x, k + 1)` + the same formula).
//!
//! ```text
//! cargo run --release --example bench_entropy                     # built-in cases, n = 10⁵
//! cargo run --release --example bench_entropy -- --n 2000         # the same cases, smaller n
//! cargo run --release --example bench_entropy -- DATA.npy K REPEATS   # one case, <f8 C-order data
//! ```
//! Prints one JSON object per case: `impl`, `case`, `n`, `d`, `k`, `search`, the wall-clock
//! seconds of every repeat, their minimum and median, the thread count and the estimate (nats).
//! The built-in cases draw N(0, I_d) points from ChaCha8 (seed 2026); the peer script passes its
//! own NumPy-generated data as DATA.npy so that both time the same points.

#[path = "support/npy.rs"]
mod npy;
use npy::read;

use deeptransport::functional::knn::{
    Estimator, KD_TREE_MAX_DIM, Search, entropy_with, kl_entropy,
};
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::time::Instant;

#[path = "support/timing.rs"]
mod timing;

fn case(name: &str, x: &Array2<f64>, k: usize, repeats: usize) {
    let t = timing::repeat(repeats, 1, || kl_entropy(x.view(), k).expect("valid data"));
    let search = if x.ncols() <= KD_TREE_MAX_DIM {
        "kd-tree"
    } else {
        "brute-force"
    };
    println!(
        "{{\"impl\": \"deeptransport\", \"case\": \"{name}\", \"n\": {}, \"d\": {}, \"k\": {k}, \
         \"search\": \"{search}\", \"times\": {:?}, \"min\": {}, \"median\": {}, \
         \"threads\": {}, \"entropy\": {:?}}}",
        x.nrows(),
        x.ncols(),
        t.times,
        t.min,
        t.median,
        rayon::current_num_threads(),
        t.last
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [data, k, repeats] = &args[..] {
        let x = read(data);
        let name = std::path::Path::new(data)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("data")
            .to_string();
        case(
            &name,
            &x,
            k.parse().expect("K"),
            repeats.parse().expect("REPEATS"),
        );
        return;
    }
    let n: usize = match &args[..] {
        [] => 100_000,
        [flag, n] if flag == "--n" => n.parse().expect("--n N"),
        _ => panic!("usage: bench_entropy [--n N] | DATA.npy K REPEATS"),
    };
    for d in [2usize, 8] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
        let x = Array2::from_shape_simple_fn((n, d), || StandardNormal.sample(&mut rng));
        for k in [1usize, 5] {
            case(&format!("kl_n{n}_d{d}_k{k}"), &x, k, 3);
        }
    }
    // Crossover of the two search paths (informs KD_TREE_MAX_DIM): same data, both searches.
    if std::env::var("CROSSOVER").is_ok() {
        for d in [10usize, 12] {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let x = Array2::from_shape_simple_fn((n, d), || StandardNormal.sample(&mut rng));
            for search in [Search::KdTree, Search::BruteForce] {
                let start = Instant::now();
                let h = entropy_with(x.view(), Estimator::KozachenkoLeonenko, 5, search)
                    .expect("valid");
                println!(
                    "{{\"crossover\": true, \"n\": {n}, \"d\": {d}, \"k\": 5, \"search\": \
                     \"{search:?}\", \"seconds\": {}, \"entropy\": {h:?}}}",
                    start.elapsed().as_secs_f64()
                );
            }
        }
    }
}
