//! The demo's HTML report: one self-contained file (figures embedded as PNG data URIs, no
//! scripts, no external fonts or styles) with, per section, what the paper claims next to what
//! was measured, the tables of numbers and the figures.

use base64::Engine as _;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// A report: a title, an introduction and sections, rendered by [`Report::to_html`].
#[derive(Debug, Default)]
pub struct Report {
    /// The page title.
    pub title: String,
    /// Paragraphs under the title.
    pub intro: Vec<String>,
    /// The sections, in order.
    pub sections: Vec<Section>,
}

/// One section: a claim of the paper checked by a measurement, with its tables and figures.
#[derive(Debug, Default)]
pub struct Section {
    /// Section heading.
    pub title: String,
    /// Explanatory paragraphs (plain text, escaped on output).
    pub text: Vec<String>,
    /// "The paper claims … / measured …" lines.
    pub claims: Vec<Claim>,
    /// Tables of the numbers.
    pub tables: Vec<Table>,
    /// Figures (PNG bytes, embedded).
    pub figures: Vec<Figure>,
    /// Links to other pages, `(relative href, text)`, listed under the text.
    pub links: Vec<(String, String)>,
}

/// A claim of the paper next to what this run measured.
#[derive(Debug, Clone)]
pub struct Claim {
    /// What the paper (or METHODS.md) states.
    pub paper: String,
    /// What was measured in this run.
    pub measured: String,
    /// Whether the measurement agrees with the claim.
    pub holds: bool,
}

/// A table of numbers.
#[derive(Debug)]
pub struct Table {
    /// Caption above the table.
    pub caption: String,
    /// Column headings.
    pub header: Vec<String>,
    /// Rows of cells (already formatted).
    pub rows: Vec<Vec<String>>,
}

/// A figure to embed.
#[derive(Debug)]
pub struct Figure {
    /// The PNG file's bytes.
    pub png: Vec<u8>,
    /// Caption under the figure.
    pub caption: String,
    /// Name of the figure's files next to the report (shown as a link to the SVG).
    pub svg_name: Option<String>,
}

/// Escapes `&`, `<`, `>` and `"` for HTML text and attributes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// HTML text with the report's math notation typeset: `_{…}`/`^{…}` become a subscript or
/// superscript, and so does `_x`/`^x` right after a symbol (a non-ASCII letter such as Φ, μ, σ or
/// a script just closed), `x` a run of letters or a number (`Φ_t`, `λ_min`, `Φ_0.4`,
/// `Φ^t_{0:L}`). An underscore after an ASCII letter stays as it is, so that file names and JSON
/// keys (`mixture_fig2.svg`, `all_claims_hold`) are never mangled. Escapes like [`escape`].
pub fn rich(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let (mut i, mut after_symbol) = (0, false);
    while i < c.len() {
        if (c[i] == '_' || c[i] == '^')
            && let Some((body, next)) = script_body(&c, i + 1, after_symbol)
        {
            let tag = if c[i] == '_' { "sub" } else { "sup" };
            let _ = write!(out, "<{tag}>{}</{tag}>", escape(&body));
            i = next;
            after_symbol = true;
            continue;
        }
        out.push_str(&escape(&c[i].to_string()));
        after_symbol = !c[i].is_ascii() && c[i].is_alphabetic();
        i += 1;
    }
    out
}

/// The script starting at `c[j]`: a braced group (always), or, after a symbol, a number
/// (`0.4`) or a run of letters; with the index after it.
fn script_body(c: &[char], j: usize, after_symbol: bool) -> Option<(String, usize)> {
    if c.get(j) == Some(&'{') {
        let end = (j + 1..c.len()).find(|&k| c[k] == '}')?;
        return Some((c[j + 1..end].iter().collect(), end + 1));
    }
    if !after_symbol {
        return None;
    }
    let first = *c.get(j)?;
    let mut k = j;
    if first.is_ascii_digit() {
        // Digits, and a decimal point only when a digit follows it (`Φ_0.4`, not `Φ_1.`).
        while k < c.len()
            && (c[k].is_ascii_digit()
                || (c[k] == '.' && c.get(k + 1).is_some_and(|d| d.is_ascii_digit())))
        {
            k += 1;
        }
    } else {
        while k < c.len() && c[k].is_alphabetic() {
            k += 1;
        }
    }
    (k > j).then(|| (c[j..k].iter().collect(), k))
}

/// Where a report comes from: the tool's version, the git commit it was built from, the command
/// line and the date (UTC, RFC 3339). In the report under the title and in `summary.json` under
/// the key `provenance` — one object, so that comparisons between runs can set it aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// `CARGO_PKG_VERSION`.
    pub version: String,
    /// Short commit hash embedded by `build.rs`, or `unknown` outside a git checkout.
    pub commit: String,
    /// The command line, quoted for a POSIX shell, program name without its folder.
    pub command: String,
    /// When the run started, `YYYY-MM-DDTHH:MM:SSZ`.
    pub date: String,
}

impl Provenance {
    /// This process: its version, commit, arguments and the current time.
    pub fn current() -> Self {
        let args: Vec<String> = std::env::args_os()
            .enumerate()
            .map(|(i, a)| {
                let a = std::path::PathBuf::from(a);
                // The program by its name: the folder it was run from says nothing about the run.
                let a = if i == 0 {
                    a.file_name().map_or(a.clone(), std::path::PathBuf::from)
                } else {
                    a
                };
                shell_quote(&a.to_string_lossy())
            })
            .collect();
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Provenance {
            version: env!("CARGO_PKG_VERSION").into(),
            commit: env!("DEEPTRANSPORT_COMMIT").into(),
            command: args.join(" "),
            date: rfc3339_utc(secs),
        }
    }

    /// `{"version", "commit", "command", "date"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "version": self.version,
            "commit": self.commit,
            "command": self.command,
            "date": self.date,
        })
    }
}

/// `s` as one word for a POSIX shell: unchanged when it holds only safe characters, else in
/// single quotes (a quote inside written `'\''`).
fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.into()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Seconds since 1970-01-01T00:00:00Z as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar;
/// the days-to-date step is Howard Hinnant's `civil_from_days`). The standard library has no
/// calendar and a date is not worth a dependency.
pub fn rfc3339_utc(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem / 60 % 60,
        rem % 60
    )
}

const STYLE: &str = "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;\
line-height:1.45;color:#222}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;\
border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}\
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}\
caption{caption-side:top;text-align:left;font-weight:bold;padding:.3em 0}\
.claim{margin:.4em 0;padding:.4em .7em;border-left:4px solid #2a7}\
.claim.fails{border-color:#c33}.claim b{display:inline-block;min-width:6.5em}\
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}\
figcaption{font-size:.9em;color:#555}.prov{font-size:.85em;color:#555}\
.prov code{background:#f3f3f3;padding:0 .3em}";

impl Report {
    /// The whole report as one HTML5 document.
    pub fn to_html(&self) -> String {
        self.to_html_with(None)
    }

    /// [`Report::to_html`] with where it comes from (version, commit, command, date) under the
    /// title.
    pub fn to_html_with(&self, provenance: Option<&Provenance>) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
            escape(&self.title),
            rich(&self.title)
        );
        if let Some(p) = provenance {
            let _ = writeln!(
                h,
                "<p class=\"prov\">deeptransport {} (commit {}), run <time>{}</time>: \
                 <code>{}</code></p>",
                escape(&p.version),
                escape(&p.commit),
                escape(&p.date),
                escape(&p.command)
            );
        }
        for p in &self.intro {
            let _ = writeln!(h, "<p>{}</p>", rich(p));
        }
        for s in &self.sections {
            s.write_html(&mut h);
        }
        h.push_str("</body></html>\n");
        h
    }
}

impl Section {
    fn write_html(&self, h: &mut String) {
        let _ = writeln!(h, "<h2>{}</h2>", rich(&self.title));
        for p in &self.text {
            let _ = writeln!(h, "<p>{}</p>", rich(p));
        }
        for (href, text) in &self.links {
            let _ = writeln!(h, "<p><a href=\"{}\">{}</a></p>", escape(href), rich(text));
        }
        for c in &self.claims {
            let _ = writeln!(
                h,
                "<div class=\"claim{}\"><div><b>Paper:</b> {}</div><div><b>Measured:</b> {} \
                 {}</div></div>",
                if c.holds { "" } else { " fails" },
                rich(&c.paper),
                rich(&c.measured),
                if c.holds { "✔" } else { "✘" }
            );
        }
        for f in &self.figures {
            let data = base64::engine::general_purpose::STANDARD.encode(&f.png);
            let link = f
                .svg_name
                .as_ref()
                .map(|n| format!(" (<a href=\"{0}\">{0}</a>)", escape(n)))
                .unwrap_or_default();
            let _ = writeln!(
                h,
                "<figure><img alt=\"{}\" src=\"data:image/png;base64,{data}\">\
                 <figcaption>{}{link}</figcaption></figure>",
                // No markup in an attribute: the scripts' text without their tags.
                ["<sub>", "</sub>", "<sup>", "</sup>"]
                    .iter()
                    .fold(rich(&f.caption), |a, t| a.replace(t, "")),
                rich(&f.caption)
            );
        }
        for t in &self.tables {
            let _ = write!(h, "<table><caption>{}</caption><tr>", rich(&t.caption));
            for c in &t.header {
                let _ = write!(h, "<th>{}</th>", rich(c));
            }
            h.push_str("</tr>\n");
            for r in &t.rows {
                h.push_str("<tr>");
                for c in r {
                    let _ = write!(h, "<td>{}</td>", rich(c));
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</table>\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_embeds_png() {
        let r = Report {
            title: "a < b & \"c\"".into(),
            intro: vec![],
            sections: vec![Section {
                title: "s".into(),
                figures: vec![Figure {
                    png: vec![0x89, b'P', b'N', b'G'],
                    caption: "fig".into(),
                    svg_name: Some("fig.svg".into()),
                }],
                claims: vec![Claim {
                    paper: "x".into(),
                    measured: "y".into(),
                    holds: false,
                }],
                ..Section::default()
            }],
        };
        let html = r.to_html();
        assert!(html.contains("<title>a &lt; b &amp; &quot;c&quot;</title>"));
        assert!(html.contains("data:image/png;base64,iVBORw=="));
        assert!(html.contains("claim fails"));
    }

    #[test]
    fn math_notation_becomes_sub_and_superscripts_but_file_names_stay() {
        assert_eq!(rich("Φ_t(x)"), "Φ<sub>t</sub>(x)");
        assert_eq!(rich("Φ^t_{0:L}"), "Φ<sup>t</sup><sub>0:L</sub>");
        assert_eq!(rich("Φ_{0:L}♯N"), "Φ<sub>0:L</sub>♯N");
        assert_eq!(
            rich("to Φ_0.4; λ_min/2"),
            "to Φ<sub>0.4</sub>; λ<sub>min</sub>/2"
        );
        assert_eq!(rich("Φ_ℓτ|²"), "Φ<sub>ℓτ</sub>|²");
        assert_eq!(rich("Φ_1."), "Φ<sub>1</sub>.");
        for plain in [
            "mixture_fig2.svg",
            "all_claims_hold",
            "a_b < c",
            "Φ_ alone",
            "x^2",
        ] {
            assert_eq!(rich(plain), escape(plain), "{plain}");
        }
        assert_eq!(rich("a <b>"), "a &lt;b&gt;");
    }

    #[test]
    fn provenance_dates_are_rfc3339_utc_and_commands_are_quoted() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_733_414_400 + 3_661), "2024-12-05T17:01:01Z");
        assert_eq!(rfc3339_utc(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(shell_quote("--out"), "--out");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        let p = Provenance::current();
        assert_eq!(p.version, env!("CARGO_PKG_VERSION"));
        assert!(!p.commit.is_empty() && !p.command.is_empty());
        let html = Report::default().to_html_with(Some(&p));
        assert!(html.contains(&p.date) && html.contains(&p.commit), "{html}");
        assert_eq!(p.to_json()["date"], p.date.as_str());
    }
}
