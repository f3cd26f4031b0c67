//! Training throughput of deeptransport-nn and of candle on the same small networks, the Rust
//! side of `bench/peers/bench_train.py` (PyTorch); `bash bench/run.sh` runs both.
//!
//! ```text
//! bench_train --model mlp|resmlp|ae --optimizer sgd|adam [--batch 256] [--steps 2000]
//!             [--repeats 5] [--threads 1] [--impl deeptransport|candle]
//! ```
//! Models (f32): `mlp` 2 → 128 → 128 → 2 (ReLU); `resmlp` 2 → 128, two residual blocks
//! `x + W₂ relu(W₁x + b₁) + b₂` of width 128, → 2; `ae` 64 → 128 → 8 → 128 → 64. Loss: mean
//! squared error (summed over coordinates) plus `1e-4 Σ|W|²`; SGD lr 0.01 or Adam lr 1e-3; one
//! fixed N(0, 1) batch re-used every step. Prints one JSON line with the keys of the PyTorch
//! script.

use candle_core::{D, DType, Device, Module, Tensor, Var};
use candle_nn::{Linear as CLinear, Optimizer as _, VarBuilder, VarMap, linear};
use deeptransport_nn::{Activation, Network, Optimizer, Targets, TrainOptions, fit};
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::time::Instant;

const GAMMA: f64 = 1e-4;
const WARMUP: usize = 50;

struct Opts {
    model: String,
    optimizer: String,
    batch: usize,
    steps: usize,
    repeats: usize,
    threads: usize,
    imp: String,
}

fn parse() -> Opts {
    let mut o = Opts {
        model: "mlp".into(),
        optimizer: "sgd".into(),
        batch: 256,
        steps: 2000,
        repeats: 5,
        threads: 1,
        imp: "deeptransport".into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        let num = || v.parse::<usize>().expect("a number");
        match pair[0].as_str() {
            "--model" => o.model = v.clone(),
            "--optimizer" => o.optimizer = v.clone(),
            "--batch" => o.batch = num(),
            "--steps" => o.steps = num(),
            "--repeats" => o.repeats = num(),
            "--threads" => o.threads = num(),
            "--impl" => o.imp = v.clone(),
            f => panic!("unknown flag {f}"),
        }
    }
    o
}

/// The model's input width and whether its target is its input.
fn shape(model: &str) -> (usize, bool) {
    match model {
        "mlp" | "resmlp" => (2, false),
        "ae" => (64, true),
        m => panic!("unknown model {m}"),
    }
}

fn batch(o: &Opts) -> (Array2<f64>, Array2<f64>) {
    let (width, ae) = shape(&o.model);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let x = Array2::from_shape_simple_fn((o.batch, width), || StandardNormal.sample(&mut rng));
    let y = if ae {
        x.clone()
    } else {
        Array2::from_shape_simple_fn((o.batch, 2), || StandardNormal.sample(&mut rng))
    };
    (x, y)
}

fn median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

/// Milliseconds per step of each repeat, deeptransport-nn.
fn ours(o: &Opts) -> Vec<f64> {
    let mut net: Network<f32> = match o.model.as_str() {
        "mlp" => Network::mlp(&[2, 128, 128, 2], Activation::Relu, 0),
        "resmlp" => Network::residual_mlp(2, 128, 2, 2, Activation::Relu, 0),
        _ => Network::autoencoder(64, &[128], 8, Activation::Relu, 0),
    }
    .expect("valid network");
    let (x, y) = batch(o);
    let optimizer = if o.optimizer == "sgd" {
        Optimizer::sgd(0.01)
    } else {
        Optimizer::adam(1e-3)
    };
    let run = |net: &mut Network<f32>, steps: usize| {
        // One epoch of one batch is one step; a single call amortises validation and setup.
        let mut opts = TrainOptions::new(steps, o.batch, optimizer);
        opts.l2 = GAMMA;
        fit(net, x.view(), Targets::Values(y.view()), &opts, &mut |_| {}).expect("training");
    };
    run(&mut net, WARMUP);
    (0..o.repeats)
        .map(|_| {
            let t0 = Instant::now();
            run(&mut net, o.steps);
            t0.elapsed().as_secs_f64() * 1e3 / o.steps as f64
        })
        .collect()
}

struct CandleNet {
    layers: Vec<(CLinear, bool)>,
    /// (inner, outer) residual blocks after the first layer (resmlp only).
    blocks: Vec<(CLinear, CLinear)>,
    head: Option<CLinear>,
}

impl CandleNet {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for (l, relu) in &self.layers {
            h = l.forward(&h)?;
            if *relu {
                h = h.relu()?;
            }
        }
        for (inner, outer) in &self.blocks {
            h = (&h + outer.forward(&inner.forward(&h)?.relu()?)?)?;
        }
        if let Some(head) = &self.head {
            h = head.forward(&h)?;
        }
        Ok(h)
    }
}

/// Milliseconds per step of each repeat, candle (candle-nn layers, autograd, its optimisers).
fn candle(o: &Opts) -> candle_core::Result<Vec<f64>> {
    let dev = Device::Cpu;
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &dev);
    let l = |i, o, name: &str| linear(i, o, vb.pp(name));
    let net = match o.model.as_str() {
        "mlp" => CandleNet {
            layers: vec![
                (l(2, 128, "l0")?, true),
                (l(128, 128, "l1")?, true),
                (l(128, 2, "l2")?, false),
            ],
            blocks: vec![],
            head: None,
        },
        "resmlp" => CandleNet {
            layers: vec![(l(2, 128, "l0")?, true)],
            blocks: vec![
                (l(128, 128, "b0i")?, l(128, 128, "b0o")?),
                (l(128, 128, "b1i")?, l(128, 128, "b1o")?),
            ],
            head: Some(l(128, 2, "head")?),
        },
        _ => CandleNet {
            layers: vec![
                (l(64, 128, "e0")?, true),
                (l(128, 8, "e1")?, false),
                (l(8, 128, "d0")?, true),
                (l(128, 64, "d1")?, false),
            ],
            blocks: vec![],
            head: None,
        },
    };
    let weights: Vec<Var> = {
        let data = vm.data().lock().expect("varmap");
        let mut named: Vec<(String, Var)> = data
            .iter()
            .filter(|(k, _)| k.ends_with("weight"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        named.into_iter().map(|(_, v)| v).collect()
    };
    let (x, y) = batch(o);
    let to_tensor = |a: &Array2<f64>| {
        let v: Vec<f32> = a.iter().map(|&v| v as f32).collect();
        Tensor::from_vec(v, a.dim(), &dev)
    };
    let (x, y) = (to_tensor(&x)?, to_tensor(&y)?);
    let loss = |net: &CandleNet| -> candle_core::Result<Tensor> {
        let r = (net.forward(&x)? - &y)?;
        let mut l = r.sqr()?.sum(D::Minus1)?.mean_all()?;
        for w in &weights {
            l = (l + (w.as_tensor().sqr()?.sum_all()? * GAMMA)?)?;
        }
        Ok(l)
    };
    let mut step: Box<dyn FnMut() -> candle_core::Result<()>> = if o.optimizer == "sgd" {
        let mut opt = candle_nn::SGD::new(vm.all_vars(), 0.01)?;
        Box::new(move || opt.backward_step(&loss(&net)?))
    } else {
        let params = candle_nn::ParamsAdamW {
            lr: 1e-3,
            weight_decay: 0.0,
            ..Default::default()
        };
        let mut opt = candle_nn::AdamW::new(vm.all_vars(), params)?;
        Box::new(move || opt.backward_step(&loss(&net)?))
    };
    for _ in 0..WARMUP {
        step()?;
    }
    let mut times = Vec::new();
    for _ in 0..o.repeats {
        let t0 = Instant::now();
        for _ in 0..o.steps {
            step()?;
        }
        times.push(t0.elapsed().as_secs_f64() * 1e3 / o.steps as f64);
    }
    Ok(times)
}

fn main() {
    let o = parse();
    // candle sizes its GEMM threading from RAYON_NUM_THREADS; set before any thread exists.
    // SAFETY: no other thread is running yet, so nothing reads the environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", o.threads.to_string()) };
    rayon::ThreadPoolBuilder::new()
        .num_threads(o.threads)
        .build_global()
        .expect("thread pool");
    let times = match o.imp.as_str() {
        "deeptransport" => ours(&o),
        "candle" => candle(&o).expect("candle training"),
        i => panic!("unknown --impl {i}"),
    };
    let (med, min) = median(times);
    let mut line = serde_json::json!({
        "bench": "train", "impl": o.imp, "model": o.model, "optimizer": o.optimizer,
        "batch": o.batch, "threads": o.threads, "precision": "f32",
        "ms_per_step": med, "ms_per_step_min": min,
        "samples_per_s": o.batch as f64 / med * 1e3,
    });
    if o.imp == "deeptransport" {
        line["simd"] = format!("faer GEMM ({})", std::env::consts::ARCH).into();
    }
    println!("{line}");
}
