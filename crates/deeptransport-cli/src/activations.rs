//! Layer activations for `tracks` (docs/cli.md, "Files of layer activations"): a list of point
//! files, a `.npz` archive, a `.safetensors` file or a trajectory `.npy`, read one layer at a
//! time so that a stack larger than memory can be scored.

use crate::BadInput;
use crate::io::{
    Format, escape_controls, format_of, one_line, read_npy_array, read_npy_from, read_points,
    read_trajectory,
};
use anyhow::Result;
use deeptransport::flow::Trajectory;
use ndarray::{Array2, ArrayD};
use safetensors::{Dtype, SafeTensors};
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

/// Where the layers come from.
enum Source {
    Files(Vec<PathBuf>),
    Npz {
        archive: zip::ZipArchive<BufReader<File>>,
        /// Entry names (`KEY.npy`), in scoring order.
        entries: Vec<String>,
    },
    Safetensors {
        bytes: Vec<u8>,
    },
    Trajectory(Trajectory),
}

/// The layers of one network on the same `n` inputs, readable one at a time.
pub struct Layers {
    source: Source,
    /// One name per layer, as messages show it (`FILE`, `FILE:KEY`, `FILE slice K`).
    names: Vec<String>,
    /// Keys of a `.safetensors` file, in scoring order.
    keys: Vec<String>,
    flatten: bool,
}

fn bad(msg: String) -> anyhow::Error {
    BadInput::new(msg)
}

impl Layers {
    /// Opens the source given by exactly one of `files`, `archive` (`.npz` or `.safetensors`,
    /// ordered by `keys` or else the archive's order) or `trajectory`.
    pub fn open(
        files: Option<Vec<PathBuf>>,
        archive: Option<PathBuf>,
        keys: Option<Vec<String>>,
        trajectory: Option<PathBuf>,
        flatten: bool,
    ) -> Result<Self> {
        if keys.is_some() && archive.is_none() {
            return Err(bad("--keys needs --activations".into()));
        }
        let (source, names, keys) = match (files, archive, trajectory) {
            (Some(files), None, None) => {
                let names = files.iter().map(|f| f.display().to_string()).collect();
                (Source::Files(files), names, vec![])
            }
            (None, Some(path), None) => open_archive(path, keys)?,
            (None, None, Some(path)) => {
                let (traj, _) = read_trajectory(&path)?;
                let names = (0..traj.len_times())
                    .map(|k| format!("{} slice {}", path.display(), k + 1))
                    .collect();
                (Source::Trajectory(traj), names, vec![])
            }
            _ => {
                return Err(bad(
                    "give exactly one of --layers, --activations or --trajectory".into(),
                ));
            }
        };
        Ok(Layers {
            source,
            names,
            keys,
            flatten,
        })
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Layer `k`'s name for messages.
    pub fn name(&self, k: usize) -> &str {
        &self.names[k]
    }

    /// Reads layer `k` as an `n × d` array (finite; more than two dimensions only with
    /// `--flatten`, each row then flattened; a 1-D array is one column).
    pub fn read(&mut self, k: usize) -> Result<Array2<f64>> {
        let name = self.names[k].clone();
        let a: ArrayD<f64> = match &mut self.source {
            Source::Files(files) => match format_of(&files[k])? {
                Format::Csv => return read_points(&files[k]),
                Format::Npy => read_npy_array(&files[k])?,
            },
            Source::Trajectory(t) => return Ok(t.at(k).to_owned()),
            Source::Npz {
                archive, entries, ..
            } => {
                let entry = archive
                    .by_name(&entries[k])
                    .map_err(|e| bad(format!("{name}: cannot read the entry: {}", one_line(e))))?;
                let len = entry.size();
                read_npy_from(entry, &name, len, |shape| {
                    if shape.is_empty() {
                        Err("a scalar, not one row per input".into())
                    } else {
                        Ok(())
                    }
                })?
            }
            Source::Safetensors { bytes, .. } => read_tensor(bytes, &self.keys[k], &name)?,
        };
        to_rows(a, &name, self.flatten)
    }
}

/// An array with one row per input: 1-D as a column, 2-D as is, more dimensions flattened per
/// row with `--flatten` (else refused); every value finite.
fn to_rows(a: ArrayD<f64>, name: &str, flatten: bool) -> Result<Array2<f64>> {
    let shape = a.shape().to_vec();
    let n = shape[0];
    let d: usize = shape[1..].iter().product();
    if shape.len() > 2 && !flatten {
        return Err(bad(format!(
            "{name}: array of shape {shape:?} has more than two dimensions; pass --flatten to \
             flatten each row (e.g. conv feature maps (n, C, H, W))"
        )));
    }
    if n == 0 || d == 0 {
        return Err(bad(format!(
            "{name}: array of shape {shape:?} holds no values"
        )));
    }
    let a = a
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((n, d))
        .expect("n·d values");
    if let Some(((i, j), v)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(bad(format!(
            "{name}: row {}, column {}: {v} is not allowed; expected a finite number",
            i + 1,
            j + 1
        )));
    }
    Ok(a)
}

type Opened = (Source, Vec<String>, Vec<String>);

fn open_archive(path: PathBuf, keys: Option<Vec<String>>) -> Result<Opened> {
    let file = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("npz") => {
            let f = File::open(&path).map_err(|e| bad(format!("{file}: cannot open: {e}")))?;
            let archive = zip::ZipArchive::new(BufReader::new(f)).map_err(|e| {
                bad(format!(
                    "{file}: not a readable .npz archive: {}",
                    one_line(e)
                ))
            })?;
            let present: Vec<String> = (0..archive.len())
                .filter_map(|i| {
                    archive
                        .name_for_index(i)
                        .and_then(|r| r.ok())
                        .map(|n| n.into_owned())
                })
                .collect();
            let order = pick(
                &file,
                keys,
                present
                    .iter()
                    .map(|e| e.trim_end_matches(".npy").to_string())
                    .collect(),
            )?;
            let entries = order.iter().map(|k| format!("{k}.npy")).collect();
            let names = order.iter().map(|k| layer_name(&file, k)).collect();
            Ok((Source::Npz { archive, entries }, names, vec![]))
        }
        Some("safetensors") => {
            let bytes =
                std::fs::read(&path).map_err(|e| bad(format!("{file}: cannot read: {e}")))?;
            let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| {
                bad(format!(
                    "{file}: not a readable .safetensors file: {}",
                    one_line(e)
                ))
            })?;
            // The archive's order is the order of the tensors' data in the file.
            let present = meta.offset_keys();
            let order = pick(&file, keys, present)?;
            let names = order.iter().map(|k| layer_name(&file, k)).collect();
            Ok((Source::Safetensors { bytes }, names, order))
        }
        _ => Err(bad(format!(
            "{file}: unknown archive type; --activations takes a .npz or .safetensors file"
        ))),
    }
}

/// `FILE:KEY`, the key's control characters (a line break in a name read from the archive)
/// escaped so that a message stays on its line.
fn layer_name(file: &str, key: &str) -> String {
    format!("{file}:{}", escape_controls(key))
}

/// `keys` when given (each present, none repeated), else every key in the archive's order.
fn pick(file: &str, keys: Option<Vec<String>>, present: Vec<String>) -> Result<Vec<String>> {
    let given = keys.is_some();
    let order = keys.unwrap_or_else(|| present.clone());
    for (i, k) in order.iter().enumerate() {
        let shown = escape_controls(k);
        if !present.contains(k) {
            let names: Vec<String> = present.iter().map(|p| escape_controls(p)).collect();
            return Err(bad(format!(
                "{file}: no array named '{shown}' (it has: {})",
                names.join(", ")
            )));
        }
        if order[..i].contains(k) {
            return Err(bad(if given {
                format!("--keys names '{shown}' twice")
            } else {
                // A zip archive can hold two entries of one name (found by fuzz/, target npz).
                format!("{file}: holds two arrays named '{shown}'; expected one array per layer")
            }));
        }
    }
    if order.len() < 2 {
        return Err(bad(format!(
            "{file}: {} layer(s); tracks need at least two",
            order.len()
        )));
    }
    Ok(order)
}

/// A tensor of a `.safetensors` file widened to f64 (F64, F32, F16, BF16).
fn read_tensor(bytes: &[u8], key: &str, name: &str) -> Result<ArrayD<f64>> {
    let st =
        SafeTensors::deserialize(bytes).map_err(|e| bad(format!("{name}: {}", one_line(e))))?;
    let t = st
        .tensor(key)
        .map_err(|e| bad(format!("{name}: {}", one_line(e))))?;
    let data = t.data();
    let values: Vec<f64> = match t.dtype() {
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8")))
            .collect(),
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4")) as f64)
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes(c.try_into().expect("2")).to_f64())
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes(c.try_into().expect("2")).to_f64())
            .collect(),
        d => {
            return Err(bad(format!(
                "{name}: dtype {d:?}; expected F64, F32, F16 or BF16"
            )));
        }
    };
    if t.shape().is_empty() {
        return Err(bad(format!("{name}: a scalar, not one row per input")));
    }
    Ok(ArrayD::from_shape_vec(t.shape().to_vec(), values).expect("safetensors checked the size"))
}
