//! Networks as a sequence of stages — dense layers `x ↦ σ(Wx + b)` and residual blocks
//! `x ↦ x + W₂σ(W₁x + b₁) + b₂` — with the three architectures of the seeds built from them, and
//! the per-stage outputs of a batch as a [`Trajectory`].

use crate::error::{Error, Result, ensure};
use crate::{Activation, Linear, Real};
use deeptransport::flow::Trajectory;
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The largest width of any layer: larger nets are not what this crate is for (and a typo such as
/// `--width 1000000` should be an error, not an allocation of 4·10¹² weights).
pub const MAX_WIDTH: usize = 1 << 16;
/// The largest number of stages.
pub const MAX_STAGES: usize = 1024;
/// The largest number of parameters (2²⁸ ≈ 2.7·10⁸, 1 GiB in f32).
pub const MAX_PARAMETERS: usize = 1 << 28;

/// Rows pushed through a network at once by [`Network::forward`] and [`Network::trace`]: bounds
/// the scratch memory to `ROWS_PER_CHUNK × max width` values whatever the batch.
const ROWS_PER_CHUNK: usize = 1024;

/// One stage of a network: a map `ℝ^{in} → ℝ^{out}` whose output is one point of every input's
/// track.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage<T> {
    /// `x ↦ σ(W x + b)`.
    Dense {
        /// `W`, `b`.
        linear: Linear<T>,
        /// `σ`.
        activation: Activation,
    },
    /// `x ↦ x + W₂ σ(W₁ x + b₁) + b₂`, width-preserving (the ResNet block; the hidden width of
    /// the branch is `inner.fan_out`).
    Residual {
        /// `W₁`, `b₁`: width → hidden.
        inner: Linear<T>,
        /// `W₂`, `b₂`: hidden → width.
        outer: Linear<T>,
        /// `σ` inside the branch.
        activation: Activation,
    },
}

impl<T: Real> Stage<T> {
    /// Input width.
    pub fn fan_in(&self) -> usize {
        match self {
            Stage::Dense { linear, .. } => linear.fan_in,
            Stage::Residual { inner, .. } => inner.fan_in,
        }
    }

    /// Output width.
    pub fn fan_out(&self) -> usize {
        match self {
            Stage::Dense { linear, .. } => linear.fan_out,
            Stage::Residual { outer, .. } => outer.fan_out,
        }
    }

    /// The affine maps of this stage, in order.
    pub fn linears(&self) -> Vec<&Linear<T>> {
        match self {
            Stage::Dense { linear, .. } => vec![linear],
            Stage::Residual { inner, outer, .. } => vec![inner, outer],
        }
    }

    pub(crate) fn linears_mut(&mut self) -> Vec<&mut Linear<T>> {
        match self {
            Stage::Dense { linear, .. } => vec![linear],
            Stage::Residual { inner, outer, .. } => vec![inner, outer],
        }
    }

    /// The stage on the `n` rows of `x`, into `y` (`n × out`); `hidden` (`n × hidden`) receives
    /// the branch activations of a residual block and is untouched for a dense one.
    pub(crate) fn forward(&self, x: &[T], n: usize, y: &mut [T], hidden: &mut Vec<T>) {
        match self {
            Stage::Dense { linear, activation } => {
                linear.forward(x, n, y);
                activation.apply(y);
            }
            Stage::Residual {
                inner,
                outer,
                activation,
            } => {
                hidden.resize(n * inner.fan_out, T::ZERO);
                inner.forward(x, n, hidden);
                activation.apply(hidden);
                outer.forward(hidden, n, y);
                for (y, &x) in y.iter_mut().zip(x) {
                    *y += x;
                }
            }
        }
    }
}

/// Which of the seeds' architectures a network was built as (recorded in its weight file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A plain multilayer perceptron.
    Mlp,
    /// Embedding, residual blocks of equal width, head.
    ResidualMlp,
    /// Encoder to a bottleneck, decoder back.
    Autoencoder,
}

impl Kind {
    /// `"mlp"`, `"residual_mlp"` or `"autoencoder"`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Mlp => "mlp",
            Kind::ResidualMlp => "residual_mlp",
            Kind::Autoencoder => "autoencoder",
        }
    }
}

/// A feed-forward network `f = s_L ∘ … ∘ s_1` of [`Stage`]s, in precision `T`.
///
/// Its track of an input `x` is `(x, s_1(x), s_2(s_1(x)), …, f(x))` — [`Network::trace`] returns
/// the tracks of a batch as a [`Trajectory`] (METHODS §7), so the core's analyses apply to it
/// unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Network<T> {
    pub(crate) kind: Kind,
    pub(crate) stages: Vec<Stage<T>>,
    /// For an autoencoder, the number of encoder stages (the code is that stage's output).
    pub(crate) encoder_stages: Option<usize>,
}

fn check_width(name: &str, w: usize) -> Result<()> {
    ensure(
        (1..=MAX_WIDTH).contains(&w),
        name,
        w,
        &format!("a width must be between 1 and {MAX_WIDTH}"),
    )
}

impl<T: Real> Network<T> {
    /// A network from its stages (checked: consecutive widths agree, residual blocks preserve
    /// width, sizes within [`MAX_WIDTH`], [`MAX_STAGES`], [`MAX_PARAMETERS`]).
    pub fn from_stages(
        kind: Kind,
        stages: Vec<Stage<T>>,
        encoder_stages: Option<usize>,
    ) -> Result<Self> {
        ensure(
            (1..=MAX_STAGES).contains(&stages.len()),
            "number of layers",
            stages.len(),
            &format!("a network has between 1 and {MAX_STAGES} layers"),
        )?;
        let mut params = 0usize;
        for (k, s) in stages.iter().enumerate() {
            check_width(&format!("input width of layer {}", k + 1), s.fan_in())?;
            check_width(&format!("output width of layer {}", k + 1), s.fan_out())?;
            if k > 0 && stages[k - 1].fan_out() != s.fan_in() {
                return Err(Error::Shape {
                    what: format!("input width of layer {}", k + 1),
                    expected: stages[k - 1].fan_out(),
                    got: s.fan_in(),
                });
            }
            for l in s.linears() {
                if l.weight.len() != l.fan_in * l.fan_out || l.bias.len() != l.fan_out {
                    return Err(Error::Shape {
                        what: format!("parameters of layer {}", k + 1),
                        expected: l.fan_in * l.fan_out + l.fan_out,
                        got: l.weight.len() + l.bias.len(),
                    });
                }
                params += l.weight.len() + l.bias.len();
            }
            if let Stage::Residual { inner, outer, .. } = s
                && (outer.fan_out != inner.fan_in || outer.fan_in != inner.fan_out)
            {
                return Err(Error::Shape {
                    what: format!("residual block {} (must keep its width)", k + 1),
                    expected: inner.fan_in,
                    got: outer.fan_out,
                });
            }
        }
        ensure(
            params <= MAX_PARAMETERS,
            "number of parameters",
            params,
            &format!("at most {MAX_PARAMETERS}"),
        )?;
        if let Some(e) = encoder_stages {
            ensure(
                (1..stages.len()).contains(&e),
                "encoder layers",
                e,
                "an autoencoder needs at least one encoder and one decoder layer",
            )?;
        }
        Ok(Network {
            kind,
            stages,
            encoder_stages,
        })
    }

    /// A multilayer perceptron with layer widths `widths = [d_0, d_1, …, d_L]`: `L` dense layers,
    /// `activation` after every one but the last (which is affine). Initialised as PyTorch does
    /// ([`Linear::init`]) from `seed`.
    pub fn mlp(widths: &[usize], activation: Activation, seed: u64) -> Result<Self> {
        ensure(
            widths.len() >= 2,
            "widths",
            format!("{widths:?}"),
            "an MLP needs an input and an output width",
        )?;
        for (k, &w) in widths.iter().enumerate() {
            check_width(&format!("width {k}"), w)?;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let last = widths.len() - 2;
        let stages = widths
            .windows(2)
            .enumerate()
            .map(|(k, w)| Stage::Dense {
                linear: Linear::init(w[0], w[1], &mut rng),
                activation: if k == last {
                    Activation::Identity
                } else {
                    activation
                },
            })
            .collect();
        Self::from_stages(Kind::Mlp, stages, None)
    }

    /// A residual MLP: an embedding `x ↦ σ(W x + b)` of `input` into `width`, `blocks` residual
    /// blocks `x ↦ x + W₂σ(W₁x + b₁) + b₂` of that width (hidden width `width`), and an affine
    /// head to `output`. Its tracks (the block outputs) live in one space ℝ^width.
    pub fn residual_mlp(
        input: usize,
        width: usize,
        blocks: usize,
        output: usize,
        activation: Activation,
        seed: u64,
    ) -> Result<Self> {
        check_width("input width", input)?;
        check_width("width", width)?;
        check_width("output width", output)?;
        ensure(
            blocks < MAX_STAGES - 1,
            "blocks",
            blocks,
            &format!("at most {}", MAX_STAGES - 2),
        )?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stages = vec![Stage::Dense {
            linear: Linear::init(input, width, &mut rng),
            activation,
        }];
        for _ in 0..blocks {
            let inner = Linear::init(width, width, &mut rng);
            let outer = Linear::init(width, width, &mut rng);
            stages.push(Stage::Residual {
                inner,
                outer,
                activation,
            });
        }
        stages.push(Stage::Dense {
            linear: Linear::init(width, output, &mut rng),
            activation: Activation::Identity,
        });
        Self::from_stages(Kind::ResidualMlp, stages, None)
    }

    /// An autoencoder `ℝ^input → ℝ^latent → ℝ^input`: the encoder is the MLP
    /// `input → hidden[0] → … → latent`, the decoder `latent → … → hidden[0] → input`, each with
    /// `activation` inside and an affine last layer (so codes and reconstructions are unbounded).
    pub fn autoencoder(
        input: usize,
        hidden: &[usize],
        latent: usize,
        activation: Activation,
        seed: u64,
    ) -> Result<Self> {
        check_width("input width", input)?;
        check_width("latent width", latent)?;
        let mut enc = vec![input];
        enc.extend_from_slice(hidden);
        enc.push(latent);
        for (k, &w) in hidden.iter().enumerate() {
            check_width(&format!("hidden width {}", k + 1), w)?;
        }
        let dec: Vec<usize> = enc.iter().rev().copied().collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stages = Vec::new();
        for widths in [&enc, &dec] {
            let last = widths.len() - 2;
            for (k, w) in widths.windows(2).enumerate() {
                stages.push(Stage::Dense {
                    linear: Linear::init(w[0], w[1], &mut rng),
                    activation: if k == last {
                        Activation::Identity
                    } else {
                        activation
                    },
                });
            }
        }
        let e = enc.len() - 1;
        Self::from_stages(Kind::Autoencoder, stages, Some(e))
    }

    /// The architecture it was built as.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The stages, input to output.
    pub fn stages(&self) -> &[Stage<T>] {
        &self.stages
    }

    /// Input width `d_0`.
    pub fn input_dim(&self) -> usize {
        self.stages[0].fan_in()
    }

    /// Output width `d_L`.
    pub fn output_dim(&self) -> usize {
        self.stages[self.stages.len() - 1].fan_out()
    }

    /// The widths of the track's points: `[d_0, d_1, …, d_L]`.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.input_dim())
            .chain(self.stages.iter().map(Stage::fan_out))
            .collect()
    }

    /// The number of trainable parameters (weights and biases).
    pub fn parameter_count(&self) -> usize {
        self.stages
            .iter()
            .flat_map(Stage::linears)
            .map(|l| l.weight.len() + l.bias.len())
            .sum()
    }

    /// `Σ_ℓ |W_ℓ|²` over every weight matrix (not the biases): the quantity the L2 penalty `γ Σ|W|²`
    /// of the seeds' "weight decay" multiplies.
    pub fn weight_norm_sq(&self) -> f64 {
        self.stages
            .iter()
            .flat_map(Stage::linears)
            .map(Linear::weight_norm_sq)
            .sum()
    }

    /// An upper bound on the network's Lipschitz constant in the Euclidean norm: the product over
    /// stages of `Lip(σ)·‖W‖₂` (dense) and `1 + ‖W₂‖₂·Lip(σ)·‖W₁‖₂` (residual), with `Lip(σ)` = 1
    /// for the identity, ReLU and tanh and ¼ for the sigmoid. Bounds how far the output can move:
    /// `|f(x) − f(y)| ≤ L |x − y|`.
    pub fn lipschitz_bound(&self) -> f64 {
        self.stages
            .iter()
            .map(|s| match s {
                Stage::Dense { linear, activation } => {
                    activation.lipschitz() * linear.spectral_norm()
                }
                Stage::Residual {
                    inner,
                    outer,
                    activation,
                } => 1.0 + outer.spectral_norm() * activation.lipschitz() * inner.spectral_norm(),
            })
            .product()
    }

    /// For an autoencoder, the number of encoder stages (its code is that stage's output).
    pub fn encoder_stages(&self) -> Option<usize> {
        self.encoder_stages
    }

    /// `f(x)` for every row of `x` (`n × d_0`), in precision `T`, returned widened to `f64`.
    /// Errors: a width other than `d_0`; a non-finite input. Cost `O(n · parameters)`.
    pub fn forward(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let mut out = self.run(x, 0..self.stages.len(), false)?;
        Ok(out.pop().expect("run returns the last output"))
    }

    /// The tracks of the rows of `x`: the input and every stage's output, `L + 1` layers, as a
    /// [`Trajectory`] with times `0, 1, …, L` (the layer index) whose layers of different widths
    /// are zero-padded to the largest (METHODS §7). Cost `O(n · parameters)`, memory
    /// `O(n · Σ_ℓ d_ℓ)`.
    pub fn trace(&self, x: ArrayView2<f64>) -> Result<Trajectory> {
        let layers = self.layer_outputs(x)?;
        let times = (0..layers.len()).map(|k| k as f64).collect();
        Ok(Trajectory::from_layers(layers, times)?)
    }

    /// The input and every stage's output on the rows of `x`, `[x, s_1(x), …, f(x)]`, each at its
    /// own width.
    pub fn layer_outputs(&self, x: ArrayView2<f64>) -> Result<Vec<Array2<f64>>> {
        let mut layers = vec![x.to_owned()];
        layers.extend(self.run(x, 0..self.stages.len(), true)?);
        Ok(layers)
    }

    /// An autoencoder's code `E(x)` (the bottleneck's output). Errors when the network is not an
    /// autoencoder.
    pub fn encode(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        let e = self
            .encoder_stages
            .ok_or_else(|| not_autoencoder(self.kind))?;
        Ok(self.run(x, 0..e, false)?.pop().expect("one output"))
    }

    /// An autoencoder's decoder `D(z)` on codes `z` (`n × latent`).
    pub fn decode(&self, z: ArrayView2<f64>) -> Result<Array2<f64>> {
        let e = self
            .encoder_stages
            .ok_or_else(|| not_autoencoder(self.kind))?;
        Ok(self
            .run(z, e..self.stages.len(), false)?
            .pop()
            .expect("one output"))
    }

    /// Stages `range` on the rows of `x` in chunks of [`ROWS_PER_CHUNK`]; every stage's output
    /// when `all`, else the last.
    fn run(
        &self,
        x: ArrayView2<f64>,
        range: std::ops::Range<usize>,
        all: bool,
    ) -> Result<Vec<Array2<f64>>> {
        let d0 = self.stages[range.start].fan_in();
        if x.ncols() != d0 {
            return Err(Error::Shape {
                what: "input width".into(),
                expected: d0,
                got: x.ncols(),
            });
        }
        check_finite("network input", x)?;
        let n = x.nrows();
        let kept: Vec<usize> = if all {
            range.clone().collect()
        } else {
            vec![range.end - 1]
        };
        let mut outs: Vec<Array2<f64>> = kept
            .iter()
            .map(|&k| Array2::zeros((n, self.stages[k].fan_out())))
            .collect();
        let mut hidden = Vec::new();
        for start in (0..n).step_by(ROWS_PER_CHUNK) {
            let rows = ROWS_PER_CHUNK.min(n - start);
            let mut cur: Vec<T> = x
                .slice(ndarray::s![start..start + rows, ..])
                .iter()
                .map(|&v| T::of(v))
                .collect();
            for k in range.clone() {
                let mut next = vec![T::ZERO; rows * self.stages[k].fan_out()];
                self.stages[k].forward(&cur, rows, &mut next, &mut hidden);
                if let Some(pos) = kept.iter().position(|&j| j == k) {
                    let w = self.stages[k].fan_out();
                    for (i, row) in next.chunks_exact(w).enumerate() {
                        for (o, &v) in outs[pos].row_mut(start + i).iter_mut().zip(row) {
                            *o = v.to_f64();
                        }
                    }
                }
                cur = next;
            }
        }
        for (pos, &k) in kept.iter().enumerate() {
            check_finite(&format!("output of layer {}", k + 1), outs[pos].view())?;
        }
        Ok(outs)
    }
}

fn not_autoencoder(kind: Kind) -> Error {
    Error::InvalidParameter {
        name: "network".into(),
        value: kind.name().into(),
        reason: "only an autoencoder has an encoder and a decoder".into(),
    }
}

/// `Error::NonFinite` at the first NaN/±∞ of `a` (1-based row and column): the core's check,
/// its error carried over as this crate's variant.
pub(crate) fn check_finite(what: &str, a: ArrayView2<f64>) -> Result<()> {
    deeptransport::error::check_finite(what, a).map_err(|e| match e {
        deeptransport::Error::NonFinite {
            what,
            row,
            col,
            value,
        } => Error::NonFinite {
            what,
            row,
            col,
            value,
        },
        e => Error::Core(e),
    })
}
