//! Mini-batch training by back-propagation: the loss of [`Targets`] plus the L2 penalty
//! `γ Σ_ℓ |W_ℓ|²`, minimised by an [`Optimizer`], deterministically from a seed.

use crate::error::{Error, Result, ensure};
use crate::linear::LinearGrad;
use crate::loss::loss_and_grad;
use crate::network::check_finite;
use crate::optim::State;
use crate::{Network, Optimizer, Real, Stage, Targets};
use ndarray::ArrayView2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The most epochs one run may ask for.
pub const MAX_EPOCHS: usize = 1_000_000;
/// The most sample-passes (epochs × samples) one run may ask for (10¹¹: days of work).
pub const MAX_SAMPLE_PASSES: u128 = 100_000_000_000;

/// How to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Passes over the training set (1 ..= [`MAX_EPOCHS`]).
    pub epochs: usize,
    /// Rows per step (the last step of an epoch takes what is left).
    pub batch_size: usize,
    /// The update rule.
    pub optimizer: Optimizer,
    /// γ of the penalty `γ Σ_ℓ |W_ℓ|²` added to the loss (weights only, not biases): the seeds'
    /// "weight decay" (METHODS §7; with plain SGD it equals coupled decay `2γ`).
    pub l2: f64,
    /// Seed of the shuffles and the input noise.
    pub seed: u64,
    /// Variance `t` of Gaussian noise `ε ~ N(0, tI)` added afresh to every input row at every
    /// step (0: none). With targets equal to the inputs this trains a DAE on objective (2).
    pub input_noise: f64,
}

impl TrainOptions {
    /// `epochs` of mini-batch `optimizer` steps of `batch_size` rows, no penalty, no noise, seed 0.
    pub fn new(epochs: usize, batch_size: usize, optimizer: Optimizer) -> Self {
        TrainOptions {
            epochs,
            batch_size,
            optimizer,
            l2: 0.0,
            seed: 0,
            input_noise: 0.0,
        }
    }

    /// Checks every option's domain.
    pub fn check(&self) -> Result<()> {
        ensure(
            (1..=MAX_EPOCHS).contains(&self.epochs),
            "epochs",
            self.epochs,
            &format!("must be between 1 and {MAX_EPOCHS}"),
        )?;
        ensure(
            self.batch_size >= 1,
            "batch size",
            self.batch_size,
            "must be at least 1",
        )?;
        ensure(
            self.l2.is_finite() && self.l2 >= 0.0,
            "L2 penalty γ",
            self.l2,
            "must be finite and non-negative",
        )?;
        ensure(
            self.input_noise.is_finite() && self.input_noise >= 0.0,
            "input noise variance",
            self.input_noise,
            "must be finite and non-negative",
        )?;
        self.optimizer.check()
    }
}

/// The mean training loss of one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochStats {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean over the epoch's rows of the data loss (before each step).
    pub loss: f64,
    /// `γ Σ|W|²` at the end of the epoch.
    pub penalty: f64,
}

/// Buffers of one training step, sized once for the largest batch.
struct Workspace<T> {
    /// `acts[k]`: the input of stage k (`acts[0]` the batch), `acts[L]` the output.
    acts: Vec<Vec<T>>,
    /// The branch activations of residual stages.
    hidden: Vec<Vec<T>>,
    targets: Vec<T>,
    /// ∂L/∂(stage output), and the same for the stage's input.
    grad_out: Vec<T>,
    grad_in: Vec<T>,
    grad_hidden: Vec<T>,
    /// Gradients of every affine map, stage by stage.
    grads: Vec<Vec<LinearGrad<T>>>,
}

impl<T: Real> Workspace<T> {
    fn new(net: &Network<T>, batch: usize, target_width: usize) -> Self {
        let widths = net.widths();
        let max_w = widths.iter().copied().max().unwrap_or(1);
        Workspace {
            acts: widths.iter().map(|&w| vec![T::ZERO; batch * w]).collect(),
            hidden: net.stages.iter().map(|_| Vec::new()).collect(),
            targets: vec![T::ZERO; batch * target_width],
            grad_out: vec![T::ZERO; batch * max_w],
            grad_in: vec![T::ZERO; batch * max_w],
            grad_hidden: Vec::new(),
            grads: net
                .stages
                .iter()
                .map(|s| s.linears().iter().map(|l| l.zero_grad()).collect())
                .collect(),
        }
    }
}

/// The data loss of the batch in `ws.acts[0]` / `ws.targets` (`n` rows), with every parameter's
/// gradient of that loss left in `ws.grads` (the penalty's gradient is not included).
fn loss_and_gradients<T: Real>(
    net: &Network<T>,
    ws: &mut Workspace<T>,
    n: usize,
    classes: bool,
) -> f64 {
    let widths = net.widths();
    for (k, stage) in net.stages.iter().enumerate() {
        let (before, after) = ws.acts.split_at_mut(k + 1);
        stage.forward(
            &before[k][..n * widths[k]],
            n,
            &mut after[0][..n * widths[k + 1]],
            &mut ws.hidden[k],
        );
    }
    let last = net.stages.len();
    let w_out = widths[last];
    let loss = loss_and_grad(
        classes,
        &ws.acts[last][..n * w_out],
        &ws.targets[..n * if classes { 1 } else { w_out }],
        n,
        w_out,
        &mut ws.grad_out[..n * w_out],
    );
    for (k, stage) in net.stages.iter().enumerate().rev() {
        let (w_in, w_out) = (widths[k], widths[k + 1]);
        let x = &ws.acts[k][..n * w_in];
        let g = &mut ws.grad_out[..n * w_out];
        let dx = &mut ws.grad_in[..n * w_in];
        match stage {
            Stage::Dense { linear, activation } => {
                activation.backward(&ws.acts[k + 1][..n * w_out], g);
                dx.iter_mut().for_each(|v| *v = T::ZERO);
                linear.backward(x, g, n, &mut ws.grads[k][0], (k > 0).then_some(dx));
            }
            Stage::Residual {
                inner,
                outer,
                activation,
            } => {
                let h = &ws.hidden[k];
                ws.grad_hidden.clear();
                ws.grad_hidden.resize(h.len(), T::ZERO);
                outer.backward(h, g, n, &mut ws.grads[k][1], Some(&mut ws.grad_hidden));
                activation.backward(h, &mut ws.grad_hidden);
                // ∂L/∂x = ∂L/∂y (the skip path) + the branch's W₁ᵀ-pulled gradient.
                dx.copy_from_slice(g);
                inner.backward(x, &ws.grad_hidden, n, &mut ws.grads[k][0], Some(dx));
            }
        }
        std::mem::swap(&mut ws.grad_out, &mut ws.grad_in);
    }
    loss
}

/// Trains `net` on `(inputs, targets)`: `opts.epochs` passes in a seeded random order, one
/// `opts.optimizer` step per batch on the gradient of `L + γ Σ_ℓ |W_ℓ|²` (L: the mean loss of
/// [`Targets`] on the batch, the inputs first corrupted by `N(0, t I)` noise when
/// `opts.input_noise = t > 0`). Calls `on_epoch` after every epoch.
///
/// Deterministic: the same seed, data and options give bit-identical weights on the same machine
/// (every product runs on one thread, so the thread count does not matter either).
///
/// Errors (the network is left unchanged): options out of domain, inputs of the wrong width or
/// non-finite, targets of the wrong shape, a class index `≥ d_L`, more than
/// [`MAX_SAMPLE_PASSES`] sample-passes, or a non-finite loss ([`Error::Diverged`], naming the
/// epoch and step). Cost `O(epochs · n · parameters)`.
pub fn fit<T: Real>(
    net: &mut Network<T>,
    inputs: ArrayView2<f64>,
    targets: Targets,
    opts: &TrainOptions,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<Vec<EpochStats>> {
    opts.check()?;
    let n = inputs.nrows();
    let (d_in, d_out) = (net.input_dim(), net.output_dim());
    ensure(n >= 1, "training set", "empty", "needs at least one row")?;
    if inputs.ncols() != d_in {
        return Err(Error::Shape {
            what: "training inputs' width".into(),
            expected: d_in,
            got: inputs.ncols(),
        });
    }
    check_finite("training inputs", inputs)?;
    if targets.len() != n {
        return Err(Error::Shape {
            what: "number of training targets".into(),
            expected: n,
            got: targets.len(),
        });
    }
    match targets {
        Targets::Values(y) => {
            if y.ncols() != d_out {
                return Err(Error::Shape {
                    what: "training targets' width".into(),
                    expected: d_out,
                    got: y.ncols(),
                });
            }
            check_finite("training targets", y)?;
        }
        Targets::Classes(c) => {
            if let Some(i) = c.iter().position(|&c| c >= d_out) {
                return Err(Error::InvalidParameter {
                    name: format!("class of row {}", i + 1),
                    value: c[i].to_string(),
                    reason: format!("the network has {d_out} outputs (classes 0..{d_out})"),
                });
            }
        }
    }
    ensure(
        (opts.epochs as u128) * (n as u128) <= MAX_SAMPLE_PASSES,
        "epochs × samples",
        (opts.epochs as u128) * (n as u128),
        &format!("at most {MAX_SAMPLE_PASSES} sample-passes per run"),
    )?;

    let mut work = net.clone();
    let classes = matches!(targets, Targets::Classes(_));
    let batch = opts.batch_size.min(n);
    let target_width = if classes { 1 } else { d_out };
    let mut ws = Workspace::new(&work, batch, target_width);
    let mut states: Vec<State<T>> = work
        .stages
        .iter()
        .flat_map(Stage::linears)
        .flat_map(|l| [l.weight.len(), l.bias.len()])
        .map(|len| State::new(len, &opts.optimizer))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut order: Vec<usize> = (0..n).collect();
    let noise_sd = opts.input_noise.sqrt();
    let two_gamma = T::of(2.0 * opts.l2);
    let mut history = Vec::with_capacity(opts.epochs);
    let mut step_count = 0u64;
    for epoch in 1..=opts.epochs {
        order.shuffle(&mut rng);
        let mut epoch_loss = 0.0;
        for (step, rows) in order.chunks(batch).enumerate() {
            let m = rows.len();
            for (r, &i) in rows.iter().enumerate() {
                let dst = &mut ws.acts[0][r * d_in..(r + 1) * d_in];
                for (d, &v) in dst.iter_mut().zip(inputs.row(i)) {
                    *d = if noise_sd > 0.0 {
                        let e: f64 = StandardNormal.sample(&mut rng);
                        T::of(v + noise_sd * e)
                    } else {
                        T::of(v)
                    };
                }
                match targets {
                    Targets::Values(y) => {
                        for (d, &v) in ws.targets[r * d_out..(r + 1) * d_out]
                            .iter_mut()
                            .zip(y.row(i))
                        {
                            *d = T::of(v);
                        }
                    }
                    Targets::Classes(c) => ws.targets[r] = T::of(c[i] as f64),
                }
            }
            let loss = loss_and_gradients(&work, &mut ws, m, classes);
            if !loss.is_finite() {
                return Err(Error::Diverged {
                    epoch,
                    step: step + 1,
                    loss,
                });
            }
            epoch_loss += loss * m as f64;
            step_count += 1;
            let mut state = states.iter_mut();
            for (stage, grads) in work.stages.iter_mut().zip(&ws.grads) {
                for (lin, grad) in stage.linears_mut().into_iter().zip(grads) {
                    let (sw, sb) = (state.next().expect("w"), state.next().expect("b"));
                    if opts.l2 > 0.0 {
                        // ∂(γ|W|²)/∂W = 2γW, added to a copy so the stored gradient stays L's.
                        let g: Vec<T> = grad
                            .weight
                            .iter()
                            .zip(&lin.weight)
                            .map(|(&g, &w)| g + two_gamma * w)
                            .collect();
                        sw.step(&opts.optimizer, step_count, &mut lin.weight, &g);
                    } else {
                        sw.step(&opts.optimizer, step_count, &mut lin.weight, &grad.weight);
                    }
                    sb.step(&opts.optimizer, step_count, &mut lin.bias, &grad.bias);
                }
            }
        }
        let stats = EpochStats {
            epoch,
            loss: epoch_loss / n as f64,
            penalty: opts.l2 * work.weight_norm_sq(),
        };
        if !stats.penalty.is_finite() {
            return Err(Error::Diverged {
                epoch,
                step: n.div_ceil(batch),
                loss: stats.penalty,
            });
        }
        on_epoch(&stats);
        history.push(stats);
    }
    *net = work;
    Ok(history)
}

/// `(∂L/∂W, ∂L/∂b)` of every affine map, in stage order.
pub type Gradients<T> = Vec<(Vec<T>, Vec<T>)>;

/// The data loss `L` of [`Targets`] and its gradient for every weight and bias, in the order of
/// [`Network::stages`] and [`Stage::linears`] (`(∂L/∂W, ∂L/∂b)` per affine map), on the rows of
/// `inputs` (no noise, no penalty). For checking back-propagation against an independent
/// differentiation (finite differences, another framework's autograd).
pub fn gradients<T: Real>(
    net: &Network<T>,
    inputs: ArrayView2<f64>,
    targets: Targets,
) -> Result<(f64, Gradients<T>)> {
    let n = inputs.nrows();
    let classes = matches!(targets, Targets::Classes(_));
    let d_out = net.output_dim();
    let mut ws = Workspace::new(net, n, if classes { 1 } else { d_out });
    if inputs.ncols() != net.input_dim() || targets.len() != n {
        return Err(Error::Shape {
            what: "inputs and targets".into(),
            expected: net.input_dim(),
            got: inputs.ncols(),
        });
    }
    for (d, &v) in ws.acts[0].iter_mut().zip(inputs.iter()) {
        *d = T::of(v);
    }
    match targets {
        Targets::Values(y) => ws
            .targets
            .iter_mut()
            .zip(y.iter())
            .for_each(|(d, &v)| *d = T::of(v)),
        Targets::Classes(c) => ws
            .targets
            .iter_mut()
            .zip(c)
            .for_each(|(d, &c)| *d = T::of(c as f64)),
    }
    let loss = loss_and_gradients(net, &mut ws, n, classes);
    let grads = ws
        .grads
        .into_iter()
        .flatten()
        .map(|g| (g.weight, g.bias))
        .collect();
    Ok((loss, grads))
}
