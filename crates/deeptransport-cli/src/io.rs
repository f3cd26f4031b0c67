//! File formats of the CLI contract: point files (CSV, NPY), weight files, measure specs (JSON),
//! and atomic output writes. Every error names the file, and for data errors the 1-based data row
//! (not counting a header) and 1-based column.

use crate::BadInput;
use crate::interrupt::Live;
use anyhow::{Context, Result};
use deeptransport::error::fmt_num;
use deeptransport::measure::{Gaussian, Measure, Mixture};
use ndarray::{Array1, Array2};
use serde::Deserialize;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The two array formats, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated text.
    Csv,
    /// NumPy `.npy`.
    Npy,
}

/// The format of `path` from its extension, or a usage error naming the file.
pub fn format_of(path: &Path) -> Result<Format> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
    {
        Some(e) if e == "csv" => Ok(Format::Csv),
        Some(e) if e == "npy" => Ok(Format::Npy),
        _ => Err(BadInput::new(format!(
            "{}: unknown file type; expected a .csv or .npy extension",
            path.display()
        ))),
    }
}

/// Reads an `n × d` point file (CSV or NPY), rejecting empty data, ragged rows, non-numeric
/// cells, NaN/±∞ and coordinates beyond `±MAX_COORDINATE` (their squared distances overflow).
pub fn read_points(path: &Path) -> Result<Array2<f64>> {
    let a = match format_of(path)? {
        Format::Csv => read_csv(path)?,
        Format::Npy => read_npy(path, false)?,
    };
    if a.nrows() == 0 || a.ncols() == 0 {
        return Err(BadInput::new(format!(
            "{}: holds no data rows",
            path.display()
        )));
    }
    deeptransport::error::check_points("point", a.view(), None)
        .map_err(|e| BadInput::new(format!("{}: {e}", path.display())))?;
    Ok(a)
}

/// Reads query points that must have the dimension `d` of the measure read from `source`.
pub fn read_queries(path: &Path, d: usize, source: &Path) -> Result<Array2<f64>> {
    let q = read_points(path)?;
    if q.ncols() != d {
        return Err(BadInput::new(format!(
            "{}: query points have dimension {}, but {} has dimension {d}",
            path.display(),
            q.ncols(),
            source.display()
        )));
    }
    Ok(q)
}

/// Reads a weight file: one column (CSV, or `.npy` of shape `(n,)` or `(n, 1)`), `n` rows,
/// finite, non-negative, with a positive sum.
pub fn read_weights(path: &Path, n: usize) -> Result<Array1<f64>> {
    let a = match format_of(path)? {
        Format::Csv => read_csv(path)?,
        Format::Npy => read_npy(path, true)?,
    };
    let file = path.display();
    if a.ncols() != 1 {
        return Err(BadInput::new(format!(
            "{file}: a weight file has one column, found {}",
            a.ncols()
        )));
    }
    if a.nrows() != n {
        return Err(BadInput::new(format!(
            "{file}: {} weights for {n} data points; give one weight per data row",
            a.nrows()
        )));
    }
    for (i, &w) in a.column(0).iter().enumerate() {
        if w < 0.0 {
            return Err(BadInput::new(format!(
                "{file}: row {}, column 1: weight {} is negative; weights must be ≥ 0",
                i + 1,
                fmt_num(w)
            )));
        }
    }
    let w = a.column(0).to_owned();
    let sum = w.sum();
    if !(sum > 0.0 && sum.is_finite()) {
        return Err(BadInput::new(format!(
            "{file}: the weights sum to {}; expected a positive finite sum",
            fmt_num(sum)
        )));
    }
    Ok(w)
}

/// A library's error message on one line, as the contract's messages are one or two lines: a
/// parser diagnostic's source excerpt (the `N | …`, `|` and `^---` lines with which npyz reports
/// a bad `.npy` header) is dropped, its `= expected …` notes are kept after `; `, other line
/// breaks (in a name quoted from the file) become spaces and control characters are escaped.
pub fn one_line(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        let excerpt = t.is_empty()
            || t.starts_with('|')
            || t.split_once(" | ")
                .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
        if i == 0 {
            out.push_str(line.trim_end());
        } else if let Some(note) = t.strip_prefix("= ") {
            out.push_str("; ");
            out.push_str(note);
        } else if !excerpt {
            out.push(' ');
            out.push_str(line);
        }
    }
    escape_controls(&out)
}

/// `s` with its control characters (line breaks, tabs, form feeds) escaped as `\n`, `\u{c}`, …
pub fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_cell(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

fn read_csv(path: &Path) -> Result<Array2<f64>> {
    let file = path.display();
    let f = File::open(path).map_err(|e| BadInput::new(format!("{file}: cannot open: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .comment(Some(b'#'))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(BufReader::new(f));
    let mut values = Vec::new();
    let mut ncols = None;
    let mut row = 0usize;
    let mut first = true;
    for record in reader.byte_records() {
        let record = record.map_err(|e| BadInput::new(format!("{file}: {e}")))?;
        // Bytes, not text, so that a cell that is not UTF-8 is reported by row and column below.
        let record: Vec<_> = record.iter().map(String::from_utf8_lossy).collect();
        if record.iter().all(|c| c.is_empty()) {
            continue;
        }
        // The first non-blank record is a header when none of its cells is a number.
        let header = first && record.iter().all(|c| parse_cell(c).is_none());
        first = false;
        if header {
            continue;
        }
        row += 1;
        let expected = *ncols.get_or_insert(record.len());
        if record.len() != expected {
            // Name the first column that is missing, or the first one too many.
            let col = record.len().min(expected) + 1;
            let what = if record.len() < expected {
                "missing"
            } else {
                "one too many"
            };
            return Err(BadInput::new(format!(
                "{file}: row {row}, column {col}: {what}; the row has {} columns, expected \
                 {expected} like the rows before it",
                record.len()
            )));
        }
        for (col, cell) in record.iter().enumerate() {
            let v = parse_cell(cell).ok_or_else(|| {
                BadInput::new(format!(
                    "{file}: row {row}, column {}: {cell:?} is not a number",
                    col + 1
                ))
            })?;
            if !v.is_finite() {
                return Err(BadInput::new(format!(
                    "{file}: row {row}, column {}: {cell} is not allowed; expected a finite number",
                    col + 1
                )));
            }
            values.push(v);
        }
    }
    let d = ncols.unwrap_or(0);
    if row == 0 {
        return Err(BadInput::new(format!(
            "{file}: holds no data rows (empty, or only a header and comments)"
        )));
    }
    Ok(Array2::from_shape_vec((row, d), values).expect("rows × columns"))
}

/// Reads a 2-D `<f8`/`<f4` array in C or Fortran order; `allow_1d` accepts shape `(n,)` as
/// `(n, 1)` (weight files).
fn read_npy(path: &Path, allow_1d: bool) -> Result<Array2<f64>> {
    let file = path.display();
    let a = read_npy_any(path, |shape| match shape {
        [_, _] => Ok(()),
        [_] if allow_1d => Ok(()),
        _ => Err(format!(
            "array has shape {shape:?}; expected a 2-D array (n points × d coordinates)"
        )),
    })?;
    let a = if a.ndim() == 1 {
        let n = a.len();
        a.into_shape_with_order(ndarray::IxDyn(&[n, 1]))
            .expect("n values")
    } else {
        a
    }
    .into_dimensionality::<ndarray::Ix2>()
    .expect("2-D checked above");
    if let Some(((i, j), v)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(BadInput::new(format!(
            "{file}: row {}, column {}: {v} is not allowed; expected a finite number",
            i + 1,
            j + 1
        )));
    }
    Ok(a)
}

/// Reads a `.npy` of `<f8` or `<f4` values in C or Fortran order into a standard-layout array,
/// after `check_shape` accepts its shape (its message is prefixed with the file name). The
/// announced size is checked against the file before anything is allocated, so that a corrupt
/// header can neither overflow the element count nor make us read far past the end.
fn read_npy_any(
    path: &Path,
    check_shape: impl Fn(&[usize]) -> std::result::Result<(), String>,
) -> Result<ndarray::ArrayD<f64>> {
    let file = path.display();
    let f = File::open(path).map_err(|e| BadInput::new(format!("{file}: cannot open: {e}")))?;
    let file_len = f.metadata().map_or(u64::MAX, |m| m.len());
    read_npy_from(BufReader::new(f), &file.to_string(), file_len, check_shape)
}

/// A `.npy` of any shape with at least one dimension (for activations: one row per input),
/// `<f8`/`<f4`, C or Fortran order, in standard layout.
pub fn read_npy_array(path: &Path) -> Result<ndarray::ArrayD<f64>> {
    read_npy_any(path, |shape| {
        if shape.is_empty() {
            Err("a scalar, not one row per input".into())
        } else {
            Ok(())
        }
    })
}

/// The deepest bracket nesting accepted in a `.npy` header: NumPy writes 2 for plain dtypes
/// (`{…(n, d)}`), 4 for nested structured ones; npyz's parser time grows exponentially with it.
const MAX_NPY_HEADER_DEPTH: usize = 8;

/// [`read_npy_any`] on any reader (a file, an entry of a `.npz` archive) holding at most
/// `file_len` bytes; `file` names it in messages.
pub fn read_npy_from(
    reader: impl std::io::Read,
    file: &str,
    file_len: u64,
    check_shape: impl Fn(&[usize]) -> std::result::Result<(), String>,
) -> Result<ndarray::ArrayD<f64>> {
    // npyz allocates the header length that the preamble announces (up to 4 GiB in versions 2
    // and 3) before reading it: check it against the file, then read the header here, growing
    // with the bytes that are there, and hand npyz what was read. Its parser of the header's
    // Python literal backtracks exponentially in the depth of unclosed brackets (a 200-byte
    // header ran for more than ten minutes): refuse nesting deeper than MAX_NPY_HEADER_DEPTH.
    // Both found by fuzz/, target npy.
    use std::io::Read as _;
    let not_readable = |e: std::io::Error| {
        BadInput::new(format!("{file}: not a readable .npy file: {}", one_line(e)))
    };
    let mut reader = reader;
    let mut head = Vec::new();
    reader
        .by_ref()
        .take(12)
        .read_to_end(&mut head)
        .map_err(not_readable)?;
    let announced = match (head.starts_with(b"\x93NUMPY"), head.get(6), head.len()) {
        (true, Some(1), 10..) => Some((10, u64::from(u16::from_le_bytes([head[8], head[9]])))),
        (true, Some(2 | 3), 12) => Some((
            12,
            u64::from(u32::from_le_bytes([head[8], head[9], head[10], head[11]])),
        )),
        _ => None,
    };
    if let Some((prefix, len)) = announced {
        let bytes = prefix + len;
        if bytes > file_len {
            return Err(BadInput::new(format!(
                "{file}: the .npy header announces {bytes} bytes but the file holds only \
                 {file_len} bytes; the file may be truncated"
            )));
        }
        let rest = bytes.saturating_sub(head.len() as u64);
        reader
            .by_ref()
            .take(rest)
            .read_to_end(&mut head)
            .map_err(not_readable)?;
        let mut depth = 0usize;
        for &c in &head[prefix as usize..] {
            match c {
                b'{' | b'[' | b'(' => depth += 1,
                b'}' | b']' | b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_NPY_HEADER_DEPTH {
                return Err(BadInput::new(format!(
                    "{file}: not a readable .npy file: the header nests brackets more than \
                     {MAX_NPY_HEADER_DEPTH} deep; expected a dict like {{'descr': '<f8', \
                     'fortran_order': False, 'shape': (n, d)}}"
                )));
            }
        }
    }
    let reader = std::io::Read::chain(&head[..], reader);
    let npy = npyz::NpyFile::new(reader)
        .map_err(|e| BadInput::new(format!("{file}: not a readable .npy file: {}", one_line(e))))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
    check_shape(&shape).map_err(|why| BadInput::new(format!("{file}: {why}")))?;
    let fortran = npy.order() == npyz::Order::Fortran;
    let dtype = match npy.dtype() {
        npyz::DType::Plain(ts) => ts.to_string(),
        other => format!("{other:?}"),
    };
    let itemsize: u64 = match dtype.as_str() {
        "<f8" | ">f8" => 8,
        "<f4" | ">f4" => 4,
        _ => {
            return Err(BadInput::new(format!(
                "{file}: unsupported dtype {dtype}; expected float64 (<f8) or float32 (<f4)"
            )));
        }
    };
    let count = shape
        .iter()
        .try_fold(1u64, |acc, &s| acc.checked_mul(s as u64));
    if count
        .and_then(|c| c.checked_mul(itemsize))
        .is_none_or(|bytes| bytes > file_len)
    {
        return Err(BadInput::new(format!(
            "{file}: the header announces shape {shape:?} but the file holds only {file_len} \
             bytes; the file may be truncated"
        )));
    }
    // The values as f64 and their standard-layout copy (f32 files: the f32 values and their
    // widening instead): refuse what the machine cannot hold rather than abort in the allocator.
    crate::limits::check_memory(
        16.0 * shape.iter().map(|&s| s as f64).product::<f64>(),
        &format!("{file}: an array of shape {shape:?}"),
        "use a smaller file",
    )?;
    let truncated = |e: std::io::Error| {
        BadInput::new(format!(
            "{file}: cannot read the data ({e}); the file may be truncated"
        ))
    };
    let flat: Vec<f64> = if itemsize == 8 {
        npy.into_vec::<f64>().map_err(truncated)?
    } else {
        npy.into_vec::<f32>()
            .map_err(truncated)?
            .into_iter()
            .map(f64::from)
            .collect()
    };
    let expected: usize = shape.iter().product();
    if flat.len() != expected {
        return Err(BadInput::new(format!(
            "{file}: holds {} values for shape {shape:?}; the file may be truncated",
            flat.len()
        )));
    }
    // Exactly the announced number of values was read, so the shapes below are valid.
    let a = if fortran {
        let reversed: Vec<usize> = shape.iter().rev().copied().collect();
        ndarray::ArrayD::from_shape_vec(reversed, flat)
            .expect("announced values")
            .reversed_axes()
    } else {
        ndarray::ArrayD::from_shape_vec(shape, flat).expect("announced values")
    };
    Ok(a.as_standard_layout().into_owned())
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum Spec {
    Gaussian {
        mean: Vec<f64>,
        cov: Vec<Vec<f64>>,
    },
    Mixture {
        weights: Vec<f64>,
        components: Vec<ComponentSpec>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComponentSpec {
    mean: Vec<f64>,
    cov: Vec<Vec<f64>>,
}

/// Reads a measure spec: `{"kind": "gaussian", "mean", "cov"}` or
/// `{"kind": "mixture", "weights", "components": [{"mean", "cov"}, …]}`.
pub fn read_measure(path: &Path) -> Result<Measure> {
    let file = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput::new(format!("{file}: cannot read: {e}")))?;
    let spec: Spec = serde_json::from_str(&text).map_err(|e| {
        BadInput::new(format!(
            "{file}: not a measure spec ({}); expected {{\"kind\": \"gaussian\", \"mean\": [...], \
             \"cov\": [[...]]}} or {{\"kind\": \"mixture\", \"weights\": [...], \"components\": [...]}}",
            one_line(e)
        ))
    })?;
    let gaussian = |what: &str, mean: Vec<f64>, cov: Vec<Vec<f64>>| -> Result<Gaussian> {
        let d = mean.len();
        if cov.len() != d {
            return Err(BadInput::new(format!(
                "{file}: {what}: cov has {} rows; expected {d}×{d} to match the mean",
                cov.len()
            )));
        }
        for (i, r) in cov.iter().enumerate() {
            if r.len() != d {
                return Err(BadInput::new(format!(
                    "{file}: {what}: cov row {} has {} entries; expected {d}×{d} to match the mean",
                    i + 1,
                    r.len()
                )));
            }
        }
        if d == 0 {
            return Err(BadInput::new(format!("{file}: {what}: the mean is empty")));
        }
        let c = Array2::from_shape_fn((d, d), |(i, j)| cov[i][j]);
        Gaussian::new(Array1::from(mean), c)
            .map_err(|e| BadInput::new(format!("{file}: {what}: {e}")))
    };
    Ok(match spec {
        Spec::Gaussian { mean, cov } => Measure::Gaussian(gaussian("gaussian", mean, cov)?),
        Spec::Mixture {
            weights,
            components,
        } => {
            if weights.len() != components.len() {
                return Err(BadInput::new(format!(
                    "{file}: {} weights for {} components",
                    weights.len(),
                    components.len()
                )));
            }
            let comps = components
                .into_iter()
                .enumerate()
                .map(|(k, c)| gaussian(&format!("component {}", k + 1), c.mean, c.cov))
                .collect::<Result<Vec<_>>>()?;
            let d = comps.first().map_or(0, |c| c.dim());
            if let Some(k) = comps.iter().position(|c| c.dim() != d) {
                return Err(BadInput::new(format!(
                    "{file}: component {} has dimension {}, component 1 has {d}",
                    k + 1,
                    comps[k].dim()
                )));
            }
            Measure::Mixture(
                Mixture::new(Array1::from(weights), comps)
                    .map_err(|e| BadInput::new(format!("{file}: {e}")))?,
            )
        }
    })
}

/// An output file written atomically: a temporary file in the destination's folder, renamed over
/// the destination only by [`Output::commit`]. Creating it first checks that the folder is
/// writable before any work is done; dropping it uncommitted leaves the destination untouched,
/// and so does an interruption (the temporary is registered with [`crate::interrupt`]).
pub struct Output {
    path: PathBuf,
    format: Option<Format>,
    // Declared before `live`: the file is removed before it is forgotten by the handler.
    tmp: tempfile::NamedTempFile,
    live: Live,
    /// A trajectory's `NAME.times.csv`, prepared with it by [`Output::trajectory`].
    sidecar: Option<Box<Output>>,
}

impl Output {
    /// Prepares to write an array to `path` (format from its extension).
    pub fn create(path: &Path) -> Result<Self> {
        let format = format_of(path)?;
        Self::create_with(path, Some(format))
    }

    /// Prepares to write a file of any kind (JSON, HTML, SVG) with [`Output::commit_bytes`].
    pub fn file(path: &Path) -> Result<Self> {
        Self::create_with(path, None)
    }

    /// Prepares to write a trajectory (`.npy` only, `what` names its shape in the refusal of
    /// another extension) and its sidecar `NAME.times.csv`, both checked before any work.
    pub fn trajectory(path: &Path, what: &str) -> Result<Self> {
        if format_of(path)? != Format::Npy {
            return Err(BadInput::new(format!(
                "{}: a trajectory is written as .npy ({what})",
                path.display()
            )));
        }
        let mut out = Self::create(path)?;
        out.sidecar = Some(Box::new(Output::file(&trajectory_times_path(path))?));
        Ok(out)
    }

    fn create_with(path: &Path, format: Option<Format>) -> Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let file = path.display();
        if !dir.is_dir() {
            let why = if dir.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            return Err(BadInput::new(format!(
                "{file}: cannot write there: {} {why}",
                dir.display()
            )));
        }
        if path.is_dir() {
            return Err(BadInput::new(format!(
                "{file}: is a folder; expected the name of an output file"
            )));
        }
        let (tmp, live) = Live::create(
            || {
                tempfile::Builder::new()
                    .prefix(".deeptransport-")
                    .suffix(".tmp")
                    .tempfile_in(&dir)
            },
            |t| t.path(),
        )
        .map_err(|e| {
            BadInput::new(format!(
                "{file}: cannot write in folder {}: {e}",
                dir.display()
            ))
        })?;
        Ok(Output {
            path: path.to_path_buf(),
            format,
            tmp,
            live,
            sidecar: None,
        })
    }

    /// Writes an `n × d` array in the output's format and renames it into place.
    pub fn commit_points(mut self, a: &Array2<f64>) -> Result<()> {
        {
            let mut w = BufWriter::new(self.tmp.as_file_mut());
            match self.format {
                Some(Format::Csv) => write_csv(&mut w, a)?,
                Some(Format::Npy) | None => write_npy(&mut w, a.shape(), a.iter().copied())?,
            }
            w.flush()?;
        }
        self.commit()
    }

    /// Writes a vector: a 1-D `.npy` of shape `(n,)`, or a one-column CSV under `header`.
    pub fn commit_vector(mut self, v: &[f64], header: &str) -> Result<()> {
        {
            let mut w = BufWriter::new(self.tmp.as_file_mut());
            match self.format {
                Some(Format::Csv) => {
                    writeln!(w, "{header}")?;
                    for x in v {
                        writeln!(w, "{x:?}")?;
                    }
                }
                Some(Format::Npy) | None => write_npy(&mut w, &[v.len()], v.iter().copied())?,
            }
            w.flush()?;
        }
        self.commit()
    }

    /// Writes a trajectory (`T × n × d`) as a 3-D `.npy` and renames it into place, then its
    /// times as the sidecar `NAME.times.csv` (one column, header `t`; CLI.md).
    pub fn commit_trajectory(mut self, traj: &deeptransport::flow::Trajectory) -> Result<()> {
        {
            let mut w = BufWriter::new(self.tmp.as_file_mut());
            let p = traj.positions();
            write_npy(&mut w, p.shape(), p.iter().copied())?;
            w.flush()?;
        }
        let mut csv = String::from("t\n");
        for t in traj.times() {
            csv.push_str(&format!("{t:?}\n"));
        }
        let sidecar = match self.sidecar.take() {
            Some(s) => *s,
            None => Output::file(&trajectory_times_path(&self.path))?,
        };
        self.commit()?;
        sidecar.commit_bytes(csv.as_bytes())
    }

    /// Writes raw bytes (JSON, HTML, SVG) and renames into place.
    pub fn commit_bytes(mut self, bytes: &[u8]) -> Result<()> {
        self.tmp.as_file_mut().write_all(bytes)?;
        self.commit()
    }

    fn commit(self) -> Result<()> {
        self.tmp.as_file().sync_all().ok();
        // tempfile creates 0600 files; an output is an ordinary file (0644 before the umask).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = self
                .tmp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        let Output {
            path, tmp, live, ..
        } = self;
        live.finish(|| tmp.persist(&path)).with_context(|| {
            format!(
                "{}: cannot move the finished output into place",
                path.display()
            )
        })?;
        Ok(())
    }
}

fn write_csv(w: &mut impl Write, a: &Array2<f64>) -> Result<()> {
    for row in a.rows() {
        let mut first = true;
        for v in row {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            // `{:?}` prints the shortest representation that round-trips exactly.
            write!(w, "{v:?}")?;
        }
        w.write_all(b"\n")?;
    }
    Ok(())
}

fn write_npy(w: &mut impl Write, shape: &[usize], values: impl Iterator<Item = f64>) -> Result<()> {
    use npyz::WriterBuilder;
    let shape: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(w)
        .begin_nd()?;
    writer.extend(values)?;
    writer.finish()?;
    Ok(())
}

/// The sidecar of a trajectory file: `NAME.times.csv` next to `NAME.npy`.
pub fn trajectory_times_path(path: &Path) -> PathBuf {
    path.with_extension("times.csv")
}

/// Reads a trajectory file: a 3-D `.npy` of shape `(T, n, d)` (`<f8`/`<f4`, C or Fortran order),
/// with its times from the sidecar `NAME.times.csv` (one column, optional header, `T` rows,
/// finite and non-decreasing) when that file exists, else `0, 1, …, T − 1` (slice indices).
/// Returns the trajectory and whether the times came from the sidecar. Errors name the file, and
/// for a bad value the slice (1-based, as `slice s`), row and column.
pub fn read_trajectory(path: &Path) -> Result<(deeptransport::flow::Trajectory, bool)> {
    let file = path.display();
    if format_of(path)? != Format::Npy {
        return Err(BadInput::new(format!(
            "{file}: a trajectory file is a 3-D .npy of shape (T, n, d)"
        )));
    }
    let a = read_npy_any(path, |shape| match shape {
        [t, n, d] if *t == 0 || *n == 0 || *d == 0 => {
            Err(format!("trajectory of shape ({t}, {n}, {d}) holds no data"))
        }
        [_, _, _] => Ok(()),
        _ => Err(format!(
            "array has shape {shape:?}; expected a 3-D trajectory (T times × n points × d \
             coordinates)"
        )),
    })?
    .into_dimensionality::<ndarray::Ix3>()
    .expect("3-D checked above");
    let t_len = a.shape()[0];
    if let Some(((s, i, j), v)) = a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(BadInput::new(format!(
            "{file}: slice {}, row {}, column {}: {v} is not allowed; expected a finite number",
            s + 1,
            i + 1,
            j + 1
        )));
    }
    // The bound of point files (`check_points`): beyond it squared distances overflow.
    let max = deeptransport::error::MAX_COORDINATE;
    if let Some(((s, i, j), &v)) = a.indexed_iter().find(|(_, v)| v.abs() > max) {
        return Err(BadInput::new(format!(
            "{file}: slice {}, row {}, column {}: {}: coordinates beyond ±{max:e} are refused: \
             their squared distances would overflow f64; rescale the data",
            s + 1,
            i + 1,
            j + 1,
            deeptransport::error::fmt_num(v)
        )));
    }
    let positions = a;
    let sidecar = trajectory_times_path(path);
    let (times, from_sidecar) = if sidecar.is_file() {
        let side = sidecar.display();
        let t = read_csv(&sidecar)?;
        if t.ncols() != 1 || t.nrows() != t_len {
            return Err(BadInput::new(format!(
                "{side}: holds {} rows × {} columns; expected one column with one time per slice \
                 of {file} ({t_len})",
                t.nrows(),
                t.ncols()
            )));
        }
        let times = t.column(0).to_vec();
        if let Some(s) = (1..t_len).find(|&s| times[s] < times[s - 1]) {
            return Err(BadInput::new(format!(
                "{side}: row {}, column 1: time {} is before the previous time {}; expected \
                 non-decreasing times",
                s + 1,
                fmt_num(times[s]),
                fmt_num(times[s - 1])
            )));
        }
        (times, true)
    } else {
        ((0..t_len).map(|s| s as f64).collect(), false)
    };
    let traj = deeptransport::flow::Trajectory::new(positions, times)
        .map_err(|e| BadInput::new(format!("{file}: {e}")))?;
    Ok((traj, from_sidecar))
}
