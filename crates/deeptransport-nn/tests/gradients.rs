//! Back-propagation checked against two independent differentiations: candle's autograd on the
//! same weights (agreement to rounding) and central finite differences (agreement to O(h²)).

use candle_core::{D, Device, Tensor, Var};
use deeptransport_nn::{Activation, Gradients, Network, Stage, Targets, gradients};
use ndarray::Array2;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn normal(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
}

/// The networks under test: every stage kind and activation appears.
fn networks() -> Vec<Network<f64>> {
    vec![
        Network::mlp(&[3, 7, 5, 2], Activation::Tanh, 1).unwrap(),
        Network::mlp(&[3, 6, 4], Activation::Relu, 2).unwrap(),
        Network::residual_mlp(3, 6, 2, 2, Activation::Relu, 3).unwrap(),
        Network::residual_mlp(3, 5, 3, 4, Activation::Tanh, 4).unwrap(),
        Network::autoencoder(3, &[8], 2, Activation::Sigmoid, 5).unwrap(),
    ]
}

/// candle's gradients of the same loss, `(∂L/∂W, ∂L/∂b)` per affine map in stage order.
fn candle_gradients(
    net: &Network<f64>,
    x: &Array2<f64>,
    targets: Targets,
) -> (f64, Gradients<f64>) {
    let dev = Device::Cpu;
    let t = |v: &[f64], shape: &[usize]| Tensor::from_vec(v.to_vec(), shape, &dev).unwrap();
    let mut vars = Vec::new();
    let mut var = |l: &deeptransport_nn::Linear<f64>| {
        let w = Var::from_tensor(&t(&l.weight, &[l.fan_out, l.fan_in])).unwrap();
        let b = Var::from_tensor(&t(&l.bias, &[l.fan_out])).unwrap();
        vars.push((w.clone(), b.clone()));
        (w, b)
    };
    let affine = |h: &Tensor, (w, b): &(Var, Var)| {
        h.matmul(&w.as_tensor().t().unwrap())
            .unwrap()
            .broadcast_add(b.as_tensor())
            .unwrap()
    };
    let act = |h: Tensor, a: Activation| match a {
        Activation::Identity => h,
        Activation::Relu => h.relu().unwrap(),
        Activation::Tanh => h.tanh().unwrap(),
        Activation::Sigmoid => candle_nn::ops::sigmoid(&h).unwrap(),
    };
    let mut h = t(x.as_slice().unwrap(), &[x.nrows(), x.ncols()]);
    for s in net.stages() {
        match s {
            Stage::Dense { linear, activation } => {
                let p = var(linear);
                h = act(affine(&h, &p), *activation);
            }
            Stage::Residual {
                inner,
                outer,
                activation,
            } => {
                let (pi, po) = (var(inner), var(outer));
                let branch = affine(&act(affine(&h, &pi), *activation), &po);
                h = (h + branch).unwrap();
            }
        }
    }
    let n = x.nrows() as f64;
    let loss = match targets {
        Targets::Values(y) => {
            let y = t(
                y.as_standard_layout().as_slice().unwrap(),
                &[y.nrows(), y.ncols()],
            );
            (h - y).unwrap().sqr().unwrap().sum_all().unwrap() / n
        }
        Targets::Classes(c) => {
            let logp = candle_nn::ops::log_softmax(&h, D::Minus1).unwrap();
            let idx = Tensor::from_vec(
                c.iter().map(|&c| c as u32).collect::<Vec<_>>(),
                (c.len(), 1),
                &dev,
            )
            .unwrap();
            logp.gather(&idx, 1)
                .unwrap()
                .sum_all()
                .unwrap()
                .neg()
                .unwrap()
                / n
        }
    }
    .unwrap();
    let grads = loss.backward().unwrap();
    let flat = |v: &Var| -> Vec<f64> {
        grads
            .get(v.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    };
    let out = vars.iter().map(|(w, b)| (flat(w), flat(b))).collect();
    (loss.to_scalar::<f64>().unwrap(), out)
}

/// Largest |a − b| relative to the largest |b| of the whole network's gradient.
fn max_rel(ours: &Gradients<f64>, reference: &Gradients<f64>) -> f64 {
    let all = |g: &[(Vec<f64>, Vec<f64>)]| -> Vec<f64> {
        g.iter()
            .flat_map(|(w, b)| w.iter().chain(b).copied())
            .collect()
    };
    let (a, b) = (all(ours), all(reference));
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(&b)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
        / scale
}

#[test]
fn backprop_matches_candle_autograd_on_regression_and_classification() {
    // Both sides compute the same f64 sums in different orders: agreement to a few hundred ulps
    // of the largest gradient entry (sums of ≤ 40·8 terms) — 1e-12 is far above rounding and far
    // below any real error (a wrong transpose or a missing term is O(1)).
    for (k, net) in networks().iter().enumerate() {
        let x = normal(40, 3, 10 + k as u64);
        let y = normal(40, net.output_dim(), 20 + k as u64);
        let (l, g) = gradients(net, x.view(), Targets::Values(y.view())).unwrap();
        let (lc, gc) = candle_gradients(net, &x, Targets::Values(y.view()));
        assert!(
            (l - lc).abs() <= 1e-12 * lc.abs(),
            "net {k}: loss {l} vs {lc}"
        );
        let e = max_rel(&g, &gc);
        assert!(
            e < 1e-12,
            "net {k}: MSE gradients differ from candle by {e:e}"
        );

        let classes: Vec<usize> = (0..40).map(|i| (i * 7 + k) % net.output_dim()).collect();
        let (l, g) = gradients(net, x.view(), Targets::Classes(&classes)).unwrap();
        let (lc, gc) = candle_gradients(net, &x, Targets::Classes(&classes));
        assert!(
            (l - lc).abs() <= 1e-12 * lc.abs(),
            "net {k}: CE loss {l} vs {lc}"
        );
        let e = max_rel(&g, &gc);
        assert!(
            e < 1e-12,
            "net {k}: CE gradients differ from candle by {e:e}"
        );
    }
}

#[test]
fn backprop_matches_central_finite_differences() {
    // Smooth activations only (a ReLU kink breaks finite differences). Central differences with
    // h = 1e-5 err by O(h²·L''') ≈ 1e-10 plus rounding ε·L/h ≈ 1e-11: 1e-7 relative is safe.
    let h = 1e-5;
    for (k, net) in networks().into_iter().enumerate() {
        let smooth = net.stages().iter().all(|s| match s {
            Stage::Dense { activation, .. } | Stage::Residual { activation, .. } => {
                *activation != Activation::Relu
            }
        });
        if !smooth {
            continue;
        }
        let x = normal(16, 3, 30 + k as u64);
        let y = normal(16, net.output_dim(), 40 + k as u64);
        let (_, g) = gradients(&net, x.view(), Targets::Values(y.view())).unwrap();
        let loss = |n: &Network<f64>| gradients(n, x.view(), Targets::Values(y.view())).unwrap().0;
        let mut fd = Vec::new();
        let n_linears: usize = net.stages().iter().map(|s| s.linears().len()).sum();
        for li in 0..n_linears {
            let mut pair = (Vec::new(), Vec::new());
            for which in 0..2 {
                let len = {
                    let l = net
                        .stages()
                        .iter()
                        .flat_map(|s| s.linears())
                        .nth(li)
                        .unwrap();
                    if which == 0 {
                        l.weight.len()
                    } else {
                        l.bias.len()
                    }
                };
                for j in 0..len {
                    let bump = |d: f64| {
                        let mut m = net.clone();
                        perturb(&mut m, li, which, j, d);
                        loss(&m)
                    };
                    let v = (bump(h) - bump(-h)) / (2.0 * h);
                    if which == 0 {
                        pair.0.push(v)
                    } else {
                        pair.1.push(v)
                    }
                }
            }
            fd.push(pair);
        }
        let e = max_rel(&g, &fd);
        assert!(
            e < 1e-7,
            "net {k}: gradients differ from finite differences by {e:e}"
        );
    }
}

/// Adds `d` to parameter `j` of the weight (`which = 0`) or bias of affine map `li`, by
/// rebuilding the network from modified stages.
fn perturb(net: &mut Network<f64>, li: usize, which: usize, j: usize, d: f64) {
    let mut stages = net.stages().to_vec();
    let mut seen = 0;
    for s in &mut stages {
        let lins: Vec<&mut deeptransport_nn::Linear<f64>> = match s {
            Stage::Dense { linear, .. } => vec![linear],
            Stage::Residual { inner, outer, .. } => vec![inner, outer],
        };
        for l in lins {
            if seen == li {
                if which == 0 {
                    l.weight[j] += d
                } else {
                    l.bias[j] += d
                }
            }
            seen += 1;
        }
    }
    *net = Network::from_stages(net.kind(), stages, net.encoder_stages()).unwrap();
}
