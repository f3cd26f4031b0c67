//! The demo's HTML report: one self-contained file (figures embedded as PNG data URIs, no
//! scripts, no external fonts or styles) with, per section, what the paper claims next to what
//! was measured, the tables of numbers and the figures.

use base64::Engine as _;
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

const STYLE: &str = "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;\
line-height:1.45;color:#222}h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;\
border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}\
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}\
caption{caption-side:top;text-align:left;font-weight:bold;padding:.3em 0}\
.claim{margin:.4em 0;padding:.4em .7em;border-left:4px solid #2a7}\
.claim.fails{border-color:#c33}.claim b{display:inline-block;min-width:6.5em}\
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}\
figcaption{font-size:.9em;color:#555}";

impl Report {
    /// The whole report as one HTML5 document.
    pub fn to_html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        for p in &self.intro {
            let _ = writeln!(h, "<p>{}</p>", escape(p));
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
        let _ = writeln!(h, "<h2>{}</h2>", escape(&self.title));
        for p in &self.text {
            let _ = writeln!(h, "<p>{}</p>", escape(p));
        }
        for (href, text) in &self.links {
            let _ = writeln!(
                h,
                "<p><a href=\"{}\">{}</a></p>",
                escape(href),
                escape(text)
            );
        }
        for c in &self.claims {
            let _ = writeln!(
                h,
                "<div class=\"claim{}\"><div><b>Paper:</b> {}</div><div><b>Measured:</b> {} \
                 {}</div></div>",
                if c.holds { "" } else { " fails" },
                escape(&c.paper),
                escape(&c.measured),
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
                escape(&f.caption),
                escape(&f.caption)
            );
        }
        for t in &self.tables {
            let _ = write!(h, "<table><caption>{}</caption><tr>", escape(&t.caption));
            for c in &t.header {
                let _ = write!(h, "<th>{}</th>", escape(c));
            }
            h.push_str("</tr>\n");
            for r in &t.rows {
                h.push_str("<tr>");
                for c in r {
                    let _ = write!(h, "<td>{}</td>", escape(c));
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
}
