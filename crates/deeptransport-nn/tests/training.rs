//! Training against closed forms (ridge regression, the Gaussian optimal DAE), determinism,
//! divergence, weight files and tracks.

use deeptransport_nn::{
    Activation, Error, Kind, Linear, Network, Optimizer, Stage, Targets, TrainOptions, fit,
    gradients,
};
use ndarray::{Array2, Axis, array};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn normal(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
}

fn dense(net: &Network<f64>) -> (Array2<f64>, Vec<f64>) {
    match &net.stages()[0] {
        Stage::Dense { linear, .. } => (
            Array2::from_shape_vec((linear.fan_out, linear.fan_in), linear.weight.clone()).unwrap(),
            linear.bias.clone(),
        ),
        _ => unreachable!(),
    }
}

/// Centred covariance `(1/n) Σ (a_i − ā)(b_i − b̄)ᵀ`.
fn cov(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let ac = a - &a.mean_axis(Axis(0)).unwrap();
    let bc = b - &b.mean_axis(Axis(0)).unwrap();
    ac.t().dot(&bc) / a.nrows() as f64
}

fn inv2(m: &Array2<f64>) -> Array2<f64> {
    let det = m[[0, 0]] * m[[1, 1]] - m[[0, 1]] * m[[1, 0]];
    array![[m[[1, 1]], -m[[0, 1]]], [-m[[1, 0]], m[[0, 0]]]] / det
}

#[test]
fn full_batch_sgd_with_l2_penalty_converges_to_the_ridge_solution() {
    // One affine layer, L = (1/n)Σ|Wx_i + b − y_i|² + γ|W|²: the minimiser is
    // W = C_yx (C_xx + γI)⁻¹, b = ȳ − Wx̄ (biases unpenalised). Gradient descent with η = 0.1
    // contracts by |1 − 2η(λ + γ)| ≤ 0.8 per step, so 3000 steps reach rounding: 1e-10.
    let x = normal(200, 2, 1);
    let a = array![[1.5, -0.5], [0.3, 0.8]];
    let y = x.dot(&a.t()) + normal(200, 2, 2) * 0.3 + 1.0;
    let gamma = 0.1;
    let mut net = Network::<f64>::mlp(&[2, 2], Activation::Relu, 3).unwrap();
    let mut opts = TrainOptions::new(3000, 200, Optimizer::sgd(0.1));
    opts.l2 = gamma;
    fit(
        &mut net,
        x.view(),
        Targets::Values(y.view()),
        &opts,
        &mut |_| {},
    )
    .unwrap();
    let (w, b) = dense(&net);
    let expected = cov(&y, &x).dot(&inv2(&(cov(&x, &x) + Array2::<f64>::eye(2) * gamma)));
    let b_expected = y.mean_axis(Axis(0)).unwrap() - expected.dot(&x.mean_axis(Axis(0)).unwrap());
    for (got, want) in w.iter().zip(expected.iter()) {
        assert!((got - want).abs() < 1e-10, "W {w} vs ridge {expected}");
    }
    for (got, want) in b.iter().zip(b_expected.iter()) {
        assert!((got - want).abs() < 1e-10, "b {b:?} vs {b_expected}");
    }
}

#[test]
fn a_linear_dae_learns_the_gaussian_posterior_mean() {
    // Theorem 2.1 for μ₀ = N(0, C), noise N(0, tI): Φ_t(x) = C(C + tI)⁻¹x (eq. 13), linear. A
    // single affine layer trained on objective (2) with fresh noise every step converges to it,
    // with C the sample covariance; what remains is SGD's own noise (batch 4096, η = 0.02):
    // observed 6e-4, bounded at 5e-3 (the bias, exactly 0 at the optimum, at 2e-2).
    let c = array![[2.0, 0.6], [0.6, 1.0]];
    let l = array![
        [2.0f64.sqrt(), 0.0],
        [0.6 / 2.0f64.sqrt(), (1.0 - 0.18f64).sqrt()]
    ];
    let x = normal(4096, 2, 5).dot(&l.t());
    let t = 0.5;
    let mut net = Network::<f64>::mlp(&[2, 2], Activation::Relu, 6).unwrap();
    let mut opts = TrainOptions::new(1500, 4096, Optimizer::sgd(0.02));
    opts.input_noise = t;
    opts.seed = 7;
    fit(
        &mut net,
        x.view(),
        Targets::Values(x.view()),
        &opts,
        &mut |_| {},
    )
    .unwrap();
    let (w, b) = dense(&net);
    let cs = cov(&x, &x);
    let phi = cs.dot(&inv2(&(&cs + &(Array2::<f64>::eye(2) * t))));
    let err = (&w - &phi).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        err < 5e-3,
        "W {w} vs Φ_t {phi} (exact C: {})",
        c.dot(&inv2(&(&c + &(Array2::<f64>::eye(2) * t))))
    );
    assert!(b.iter().all(|v| v.abs() < 2e-2), "bias {b:?}");
}

#[test]
fn training_is_bit_identical_for_the_same_seed_on_any_thread_count() {
    let x = normal(300, 2, 8);
    let y = normal(300, 2, 9);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut net = Network::<f32>::residual_mlp(2, 16, 2, 2, Activation::Relu, 4).unwrap();
            let mut opts = TrainOptions::new(5, 32, Optimizer::adam(1e-3));
            opts.l2 = 1e-3;
            opts.input_noise = 0.1;
            opts.seed = 11;
            fit(
                &mut net,
                x.view(),
                Targets::Values(y.view()),
                &opts,
                &mut |_| {},
            )
            .unwrap();
            net.to_safetensors().unwrap()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(1));
}

#[test]
fn adam_first_step_moves_each_parameter_by_the_learning_rate_times_the_gradient_sign() {
    // After one step m̂ = g and v̂ = g², so Δp = −η g/(|g| + ε): η·sign(g) up to ε/|g|.
    let x = normal(8, 3, 12);
    let y = normal(8, 2, 13);
    let net0 = Network::<f64>::mlp(&[3, 4, 2], Activation::Tanh, 14).unwrap();
    let (_, g) = gradients(&net0, x.view(), Targets::Values(y.view())).unwrap();
    let mut net = net0.clone();
    let lr = 1e-3;
    fit(
        &mut net,
        x.view(),
        Targets::Values(y.view()),
        &TrainOptions::new(1, 8, Optimizer::adam(lr)),
        &mut |_| {},
    )
    .unwrap();
    let params = |n: &Network<f64>| -> Vec<f64> {
        n.stages()
            .iter()
            .flat_map(|s| s.linears())
            .flat_map(|l| l.weight.iter().chain(&l.bias).copied().collect::<Vec<_>>())
            .collect()
    };
    let grads: Vec<f64> = g
        .iter()
        .flat_map(|(w, b)| w.iter().chain(b).copied())
        .collect();
    for ((p1, p0), g) in params(&net).iter().zip(params(&net0)).zip(grads) {
        let want = -lr * g / (g.abs() + 1e-8);
        assert!((p1 - p0 - want).abs() < 1e-15, "Δp {} vs {want}", p1 - p0);
    }
}

#[test]
fn a_diverging_run_names_the_epoch_and_leaves_the_network_unchanged() {
    let x = normal(64, 2, 15) * 100.0;
    let y = normal(64, 2, 16) * 100.0;
    let mut net = Network::<f32>::mlp(&[2, 32, 2], Activation::Relu, 17).unwrap();
    let before = net.clone();
    let err = fit(
        &mut net,
        x.view(),
        Targets::Values(y.view()),
        &TrainOptions::new(50, 64, Optimizer::sgd(10.0)),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Diverged { epoch, .. } if epoch >= 1),
        "{err}"
    );
    assert!(err.to_string().contains("epoch"), "{err}");
    assert_eq!(net, before);
}

#[test]
fn options_out_of_domain_are_refused_before_any_work() {
    let x = normal(4, 2, 18);
    let mut net = Network::<f64>::mlp(&[2, 3, 2], Activation::Relu, 19).unwrap();
    let base = TrainOptions::new(1, 4, Optimizer::sgd(0.1));
    let cases: Vec<(TrainOptions, &str)> = vec![
        (
            TrainOptions {
                epochs: 0,
                ..base.clone()
            },
            "epochs",
        ),
        (
            TrainOptions {
                batch_size: 0,
                ..base.clone()
            },
            "batch size",
        ),
        (
            TrainOptions {
                l2: -1.0,
                ..base.clone()
            },
            "L2",
        ),
        (
            TrainOptions {
                l2: f64::NAN,
                ..base.clone()
            },
            "L2",
        ),
        (
            TrainOptions {
                input_noise: f64::INFINITY,
                ..base.clone()
            },
            "noise",
        ),
        (
            TrainOptions {
                optimizer: Optimizer::sgd(f64::NAN),
                ..base.clone()
            },
            "learning rate",
        ),
        (
            TrainOptions {
                optimizer: Optimizer::sgd(0.0),
                ..base.clone()
            },
            "learning rate",
        ),
        (
            TrainOptions {
                optimizer: Optimizer::adam(-1.0),
                ..base.clone()
            },
            "learning rate",
        ),
    ];
    for (opts, word) in cases {
        let err = fit(
            &mut net,
            x.view(),
            Targets::Values(x.view()),
            &opts,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(err.to_string().contains(word), "{err}");
    }
    assert!(Network::<f64>::mlp(&[2, 0, 2], Activation::Relu, 0).is_err());
    assert!(Network::<f64>::mlp(&[2, 1 << 20, 2], Activation::Relu, 0).is_err());
    assert!(Network::<f64>::residual_mlp(2, 8, 5000, 2, Activation::Relu, 0).is_err());
    let mut bad = x.clone();
    bad[[2, 1]] = f64::NAN;
    let err = fit(
        &mut net,
        bad.view(),
        Targets::Values(x.view()),
        &base,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("row 3, column 2"), "{err}");
    let err = fit(
        &mut net,
        x.view(),
        Targets::Classes(&[0, 1, 2, 1]),
        &base,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("row 3"), "{err}");
}

#[test]
fn weights_round_trip_through_safetensors_in_either_precision() {
    let dir = tempfile::tempdir().unwrap();
    let x = normal(10, 5, 20);
    for net in [
        Network::<f64>::mlp(&[5, 7, 3], Activation::Tanh, 21).unwrap(),
        Network::<f64>::residual_mlp(5, 6, 2, 3, Activation::Relu, 22).unwrap(),
        Network::<f64>::autoencoder(5, &[9, 4], 2, Activation::Sigmoid, 23).unwrap(),
    ] {
        let path = dir.path().join("net.safetensors");
        net.save(&path).unwrap();
        let back = Network::<f64>::load(&path).unwrap();
        assert_eq!(back, net);
        // f64 weights read as f32: the same network to f32 rounding.
        let narrow = Network::<f32>::load(&path).unwrap();
        let (a, b) = (
            net.forward(x.view()).unwrap(),
            narrow.forward(x.view()).unwrap(),
        );
        assert!(
            a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-5),
            "{a} vs {b}"
        );
    }
    // Damaged and foreign files are errors naming the file, never panics.
    let path = dir.path().join("bad.safetensors");
    std::fs::write(&path, b"not a safetensors file").unwrap();
    let err = Network::<f64>::load(&path).unwrap_err().to_string();
    assert!(err.contains("bad.safetensors"), "{err}");
    let good = Network::<f64>::mlp(&[2, 3], Activation::Relu, 0)
        .unwrap()
        .to_safetensors()
        .unwrap();
    for cut in [0, 8, 20, good.len() / 2, good.len() - 1] {
        assert!(Network::<f64>::from_safetensors(&good[..cut]).is_err());
    }
}

#[test]
fn a_trace_is_the_input_then_every_layer_output_zero_padded() {
    let x = normal(6, 3, 24);
    let net = Network::<f64>::autoencoder(3, &[5], 1, Activation::Tanh, 25).unwrap();
    let traj = net.trace(x.view()).unwrap();
    assert_eq!(traj.len_times(), 5);
    assert_eq!(traj.dim(), 5);
    assert_eq!(traj.times(), &[0.0, 1.0, 2.0, 3.0, 4.0]);
    assert_eq!(traj.first().slice(ndarray::s![.., ..3]), x);
    let out = net.forward(x.view()).unwrap();
    assert_eq!(traj.last().slice(ndarray::s![.., ..3]), out);
    assert!(
        traj.last()
            .slice(ndarray::s![.., 3..])
            .iter()
            .all(|&v| v == 0.0)
    );
    let code = net.encode(x.view()).unwrap();
    assert_eq!(code.ncols(), 1);
    assert_eq!(traj.at(2).slice(ndarray::s![.., ..1]), code);
    assert_eq!(net.decode(code.view()).unwrap(), out);
}

/// The Lipschitz bound is an upper bound on every difference quotient of the network, and exact
/// for a single linear layer (its largest singular value: diag(3, 1) rotated has ‖W‖₂ = 3).
#[test]
fn lipschitz_bound_bounds_every_difference_quotient() {
    for (k, net) in [
        Network::<f64>::mlp(&[3, 16, 16, 2], Activation::Relu, 4).unwrap(),
        Network::<f64>::residual_mlp(3, 8, 2, 2, Activation::Tanh, 5).unwrap(),
        Network::<f64>::autoencoder(3, &[8], 1, Activation::Sigmoid, 6).unwrap(),
    ]
    .into_iter()
    .enumerate()
    {
        let l = net.lipschitz_bound();
        assert!(l.is_finite() && l > 0.0);
        let x = normal(400, 3, 10 + k as u64);
        let y = &x + &(normal(400, 3, 20 + k as u64) * 1e-3);
        let (fx, fy) = (
            net.forward(x.view()).unwrap(),
            net.forward(y.view()).unwrap(),
        );
        for i in 0..400 {
            let num = (&fx.row(i) - &fy.row(i)).mapv(|v| v * v).sum().sqrt();
            let den = (&x.row(i) - &y.row(i)).mapv(|v| v * v).sum().sqrt();
            assert!(
                num <= l * den * (1.0 + 1e-9),
                "net {k}: {} > {l}",
                num / den
            );
        }
    }
    let (c, s) = (0.6f64, 0.8f64);
    // W = R diag(3, 1) Rᵀ for the rotation R by (c, s).
    let w = [
        3.0 * c * c + s * s,
        (3.0 - 1.0) * c * s,
        (3.0 - 1.0) * c * s,
        3.0 * s * s + c * c,
    ];
    let net = Network::<f64>::from_stages(
        Kind::Mlp,
        vec![Stage::Dense {
            linear: Linear {
                fan_in: 2,
                fan_out: 2,
                weight: w.to_vec(),
                bias: vec![1.0, -1.0],
            },
            activation: Activation::Identity,
        }],
        None,
    )
    .unwrap();
    assert!((net.lipschitz_bound() - 3.0).abs() < 1e-11);
}
