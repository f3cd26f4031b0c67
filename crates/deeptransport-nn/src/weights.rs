//! Weights as `.safetensors` files: one tensor per weight matrix (`out × in`, PyTorch's layout)
//! and bias, named `stages.{k}.weight` / `stages.{k}.bias` (residual blocks:
//! `stages.{k}.inner.*`, `stages.{k}.outer.*`), with the architecture in the header's metadata
//! under the key `deeptransport-nn`.

use crate::error::{Error, Result};
use crate::network::Kind;
use crate::{Activation, Linear, Network, Real, Stage};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// The metadata key holding the architecture.
pub const METADATA_KEY: &str = "deeptransport-nn";

#[derive(Serialize, Deserialize)]
struct Architecture {
    format: u32,
    kind: String,
    precision: String,
    encoder_stages: Option<usize>,
    stages: Vec<StageSpec>,
}

#[derive(Serialize, Deserialize)]
struct StageSpec {
    #[serde(rename = "type")]
    kind: String,
    fan_in: usize,
    fan_out: usize,
    hidden: Option<usize>,
    activation: String,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Weights(msg.into())
}

impl<T: Real> Network<T> {
    /// The network as the bytes of a `.safetensors` file (tensors in precision `T`).
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let arch = Architecture {
            format: 1,
            kind: self.kind.name().into(),
            precision: T::NAME.into(),
            encoder_stages: self.encoder_stages,
            stages: self
                .stages
                .iter()
                .map(|s| StageSpec {
                    kind: match s {
                        Stage::Dense { .. } => "dense".into(),
                        Stage::Residual { .. } => "residual".into(),
                    },
                    fan_in: s.fan_in(),
                    fan_out: s.fan_out(),
                    hidden: match s {
                        Stage::Dense { .. } => None,
                        Stage::Residual { inner, .. } => Some(inner.fan_out),
                    },
                    activation: match s {
                        Stage::Dense { activation, .. } | Stage::Residual { activation, .. } => {
                            activation.name().into()
                        }
                    },
                })
                .collect(),
        };
        let mut bytes: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, lin) in self.named_linears() {
            bytes.push((
                format!("{name}.weight"),
                vec![lin.fan_out, lin.fan_in],
                T::to_le_bytes(&lin.weight),
            ));
            bytes.push((
                format!("{name}.bias"),
                vec![lin.fan_out],
                T::to_le_bytes(&lin.bias),
            ));
        }
        let views = bytes
            .iter()
            .map(|(name, shape, data)| {
                TensorView::new(T::DTYPE, shape.clone(), data)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| bad(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let meta = HashMap::from([(
            METADATA_KEY.to_string(),
            serde_json::to_string(&arch).map_err(|e| bad(e.to_string()))?,
        )]);
        safetensors::serialize(views, Some(meta)).map_err(|e| bad(e.to_string()))
    }

    /// A network from the bytes of a `.safetensors` file written by [`Network::to_safetensors`]
    /// (in either precision: tensors are converted to `T`). Checks the architecture, every
    /// tensor's presence, dtype and shape, and that every value is finite.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self> {
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let text = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get(METADATA_KEY))
            .ok_or_else(|| {
                bad(format!(
                    "no '{METADATA_KEY}' architecture in the file's metadata (not written by \
                     deeptransport-nn)"
                ))
            })?;
        let arch: Architecture =
            serde_json::from_str(text).map_err(|e| bad(format!("architecture metadata: {e}")))?;
        if arch.format != 1 {
            return Err(bad(format!("unknown format version {}", arch.format)));
        }
        let kind = match arch.kind.as_str() {
            "mlp" => Kind::Mlp,
            "residual_mlp" => Kind::ResidualMlp,
            "autoencoder" => Kind::Autoencoder,
            k => return Err(bad(format!("unknown network kind '{k}'"))),
        };
        if arch.stages.is_empty() || arch.stages.len() > crate::network::MAX_STAGES {
            return Err(bad(format!("{} layers", arch.stages.len())));
        }
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let read = |name: &str, shape: &[usize]| -> Result<Vec<T>> {
            let t = tensors
                .tensor(name)
                .map_err(|_| bad(format!("tensor '{name}' is missing")))?;
            if t.shape() != shape {
                return Err(bad(format!(
                    "tensor '{name}' has shape {:?}, the architecture says {shape:?}",
                    t.shape()
                )));
            }
            let values: Vec<f64> = match t.dtype() {
                Dtype::F64 => t
                    .data()
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
                Dtype::F32 => t
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64)
                    .collect(),
                d => {
                    return Err(bad(format!(
                        "tensor '{name}' has dtype {d:?} (expected F32 or F64)"
                    )));
                }
            };
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(bad(format!(
                    "tensor '{name}' holds a non-finite value at flat index {i}"
                )));
            }
            let values: Vec<T> = values.into_iter().map(T::of).collect();
            // An f64 beyond f32's range is finite but becomes ±∞ as f32 (found by fuzz/).
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(bad(format!(
                    "tensor '{name}' holds a value at flat index {i} beyond the range of {}",
                    T::NAME
                )));
            }
            Ok(values)
        };
        let linear = |name: String, fan_in: usize, fan_out: usize| -> Result<Linear<T>> {
            if fan_in == 0
                || fan_out == 0
                || fan_in > crate::network::MAX_WIDTH
                || fan_out > crate::network::MAX_WIDTH
            {
                return Err(bad(format!("'{name}': width {fan_in} → {fan_out}")));
            }
            Ok(Linear {
                fan_in,
                fan_out,
                weight: read(&format!("{name}.weight"), &[fan_out, fan_in])?,
                bias: read(&format!("{name}.bias"), &[fan_out])?,
            })
        };
        let mut stages = Vec::with_capacity(arch.stages.len());
        for (k, s) in arch.stages.iter().enumerate() {
            let activation: Activation = s
                .activation
                .parse()
                .map_err(|e: String| bad(format!("layer {}: {e}", k + 1)))?;
            stages.push(match (s.kind.as_str(), s.hidden) {
                ("dense", None) => Stage::Dense {
                    linear: linear(format!("stages.{k}"), s.fan_in, s.fan_out)?,
                    activation,
                },
                ("residual", Some(h)) => Stage::Residual {
                    inner: linear(format!("stages.{k}.inner"), s.fan_in, h)?,
                    outer: linear(format!("stages.{k}.outer"), h, s.fan_out)?,
                    activation,
                },
                (other, _) => {
                    return Err(bad(format!("layer {}: unknown stage '{other}'", k + 1)));
                }
            });
        }
        Network::from_stages(kind, stages, arch.encoder_stages)
    }

    /// Writes the network to `path` as `.safetensors`, through a temporary file in the same folder
    /// renamed into place, so a failure never leaves a partial file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let bytes = self.to_safetensors()?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        tmp.write_all(&bytes).map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Reads a network written by [`Network::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_safetensors(&bytes).map_err(|e| match e {
            Error::Weights(m) => Error::Weights(format!("{}: {m}", path.display())),
            e => e,
        })
    }

    /// Every affine map with its tensor-name prefix.
    fn named_linears(&self) -> Vec<(String, &Linear<T>)> {
        let mut out = Vec::new();
        for (k, s) in self.stages.iter().enumerate() {
            match s {
                Stage::Dense { linear, .. } => out.push((format!("stages.{k}"), linear)),
                Stage::Residual { inner, outer, .. } => {
                    out.push((format!("stages.{k}.inner"), inner));
                    out.push((format!("stages.{k}.outer"), outer));
                }
            }
        }
        out
    }
}
