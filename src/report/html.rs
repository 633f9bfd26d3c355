//! The sweep report as one self-contained HTML page.
//!
//! The page must open from a file, offline, years later: no network, no
//! external CSS, scripts or fonts. Charts are inlined as SVG markup (crisp
//! at any zoom), or as a `data:` PNG when a chart has no usable SVG. All
//! text from the caller is HTML-escaped; the SVG markup is trusted, it comes
//! from [`super::charts`], which escapes its own text.

use super::charts::Chart;

/// Everything the report page shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportPage {
    /// Page title and top heading.
    pub title: String,
    /// What the sweep asks, as prose; blank lines separate paragraphs.
    pub question: String,
    /// The exact command that reproduces the whole sweep.
    pub command: String,
    /// Key facts shown as label/value pairs, e.g. ("Trials", "288,000").
    pub facts: Vec<(String, String)>,
    /// Column names of the summary table.
    pub header: Vec<String>,
    /// Summary table rows, cells in header order.
    pub rows: Vec<Vec<String>>,
    /// One command per row that reproduces that row, shown in a last
    /// column; empty to leave the column out.
    pub reproduce: Vec<String>,
    /// Charts, shown in order below the table.
    pub charts: Vec<Chart>,
}

/// Small and readable on purpose: the page is read, not themed. The table
/// scrolls inside its own box so a wide sweep never widens the page, and its
/// header stays visible while scrolling.
const STYLE: &str = "\
body { font: 15px/1.5 system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif; color: #1f2328;
       max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid #d0d7de; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: .6rem .8rem; overflow-x: auto; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
dl.facts { display: flex; flex-wrap: wrap; gap: .4rem 2rem; margin: 1rem 0; }
dl.facts dt { color: #656d76; font-size: .8rem; }
dl.facts dd { margin: 0; font-weight: 600; }
.table-scroll { overflow: auto; max-height: 75vh; border: 1px solid #d0d7de; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #e6e9ec; text-align: left; white-space: nowrap; }
thead th { position: sticky; top: 0; background: #f6f8fa; box-shadow: 0 1px 0 #d0d7de; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; }
figure.chart { margin: 1.5rem 0; }
figure.chart svg, figure.chart img { display: block; max-width: 100%; height: auto; }
figcaption { color: #656d76; font-size: .9rem; margin-top: .3rem; }
";

/// Renders the page. Deterministic: the same page gives the same text.
pub fn render(page: &ReportPage) -> String {
    let mut html = String::with_capacity(64 * 1024 + page.charts.iter().map(|c| c.svg.len()).sum::<usize>());
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!(
        "<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(&page.title)
    ));
    html.push_str(&format!("<h1>{}</h1>\n", escape(&page.title)));
    push_question(&mut html, &page.question);
    push_command(&mut html, &page.command);
    push_facts(&mut html, &page.facts);
    // Charts first: they answer the question at a glance; the table (one
    // row per cell, often hundreds) is for looking things up.
    push_charts(&mut html, &page.charts);
    push_table(&mut html, page);
    html.push_str("</body>\n</html>\n");
    html
}

fn push_question(html: &mut String, question: &str) {
    html.push_str("<section id=\"question\">\n<h2>Question</h2>\n");
    for paragraph in question.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        html.push_str(&format!("<p>{}</p>\n", escape(paragraph)));
    }
    html.push_str("</section>\n");
}

fn push_command(html: &mut String, command: &str) {
    html.push_str("<section id=\"reproduce\">\n<h2>Reproduce the sweep</h2>\n");
    html.push_str(&format!("<pre><code>{}</code></pre>\n</section>\n", escape(command)));
}

fn push_facts(html: &mut String, facts: &[(String, String)]) {
    if facts.is_empty() {
        return;
    }
    html.push_str("<dl class=\"facts\">\n");
    for (label, value) in facts {
        html.push_str(&format!(
            "<div><dt>{}</dt><dd>{}</dd></div>\n",
            escape(label),
            escape(value)
        ));
    }
    html.push_str("</dl>\n");
}

/// The summary table. Short rows are padded with empty cells so every row
/// has a cell under every heading; the reproduce column is added when any
/// row has a command.
fn push_table(html: &mut String, page: &ReportPage) {
    let with_reproduce = !page.reproduce.is_empty();
    let width = page
        .rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(page.header.len()))
        .max()
        .unwrap_or(0);
    html.push_str("<section id=\"results\">\n<h2>Summary</h2>\n<div class=\"table-scroll\">\n<table id=\"summary\">\n");
    html.push_str("<thead><tr>");
    for i in 0..width {
        let name = page.header.get(i).map_or("", String::as_str);
        html.push_str(&format!("<th scope=\"col\">{}</th>", escape(name)));
    }
    if with_reproduce {
        html.push_str("<th scope=\"col\">Reproduce</th>");
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for (i, row) in page.rows.iter().enumerate() {
        html.push_str("<tr>");
        for cell in row.iter().map(String::as_str).chain(std::iter::repeat("")).take(width) {
            let class = if looks_numeric(cell) { " class=\"num\"" } else { "" };
            html.push_str(&format!("<td{class}>{}</td>", escape(cell)));
        }
        if with_reproduce {
            let command = page.reproduce.get(i).map_or("", String::as_str);
            html.push_str(&format!("<td><code>{}</code></td>", escape(command)));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

/// Numbers align right so their digits line up; "1,234", "5.0%" and "-3"
/// count as numbers.
fn looks_numeric(cell: &str) -> bool {
    let stripped: String = cell
        .trim()
        .trim_end_matches('%')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    !stripped.is_empty() && stripped.parse::<f64>().is_ok()
}

/// Each chart as a figure: the SVG inline (or the PNG), captioned with its
/// title and, when it has one, its caption paragraph.
fn push_charts(html: &mut String, charts: &[Chart]) {
    if charts.is_empty() {
        return;
    }
    html.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
    for chart in charts {
        html.push_str(&format!(
            "<figure class=\"chart\" id=\"chart-{}\">\n",
            escape(&chart.name)
        ));
        match inline_svg(&chart.svg) {
            Some(svg) => {
                html.push_str(svg);
                html.push('\n');
            }
            None => html.push_str(&format!(
                "<img alt=\"{}\" src=\"data:image/png;base64,{}\">\n",
                escape(&chart.title),
                base64(&chart.png)
            )),
        }
        html.push_str(&format!("<figcaption>{}", escape(&chart.title)));
        if !chart.caption.is_empty() {
            html.push_str(&format!("\n<p>{}</p>\n", escape(&chart.caption)));
        }
        html.push_str("</figcaption>\n</figure>\n");
    }
    html.push_str("</section>\n");
}

/// The SVG from its root element on: an XML prolog or doctype is not
/// allowed inside HTML. `None` when there is no SVG root element.
fn inline_svg(svg: &str) -> Option<&str> {
    let start = svg.find("<svg")?;
    Some(svg[start..].trim_end())
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648), for `data:` URIs; a few lines
/// here are cheaper than a dependency.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        // Each chunk of three bytes becomes four sextets; a short final
        // chunk emits only the sextets its bytes reach, then padding.
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::{blast_vs_ttd, cdf, CellPoint, Series};

    fn page() -> ReportPage {
        let cell = CellPoint {
            strategy: "canary".into(),
            label: "c".into(),
            ttd_p50_s: 30.0,
            ttd_p95_s: 60.0,
            blast_p50: 10.0,
            blast_p95: 40.0,
        };
        let series = Series {
            label: "canary".into(),
            points: vec![(1.0, 0.2), (2.0, 1.0)],
        };
        ReportPage {
            title: "Sweep <1>".into(),
            question: "Which strategy?\n\nSecond paragraph.".into(),
            command: "deploysim sweep --seed 1 > out".into(),
            facts: vec![("Trials".into(), "288,000".into()), ("Seed".into(), "1".into())],
            header: vec!["strategy".into(), "ttd_p50_s".into()],
            rows: vec![
                vec!["canary".into(), "30.0".into()],
                vec!["<script>alert(1)</script>".into(), "1,234".into()],
                vec!["short row".into()],
            ],
            reproduce: vec![
                "deploysim run a".into(),
                "deploysim run b".into(),
                "deploysim run c".into(),
            ],
            charts: vec![blast_vs_ttd(&[cell]), cdf("ttd_cdf", "TTD CDF", "seconds", &[series])],
        }
    }

    #[test]
    fn escapes_cell_text() {
        let html = render(&page());
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("<title>Sweep &lt;1&gt;</title>"));
        assert!(html.contains("deploysim sweep --seed 1 &gt; out"));
    }

    #[test]
    fn contains_table_rows_and_every_chart() {
        let html = render(&page());
        assert!(html.contains("<table id=\"summary\">"));
        let body = &html[html.find("<tbody>").unwrap()..html.find("</tbody>").unwrap()];
        assert_eq!(body.matches("<tr>").count(), 3);
        assert_eq!(
            body.matches("<td").count(),
            3 * 3,
            "short row padded, reproduce column added"
        );
        assert!(body.contains("<td><code>deploysim run c</code></td>"));
        assert!(body.contains("<td class=\"num\">1,234</td>"));
        for name in ["blast_vs_ttd", "ttd_cdf"] {
            assert!(html.contains(&format!("<figure class=\"chart\" id=\"chart-{name}\">")));
        }
        assert_eq!(html.matches("<svg").count(), 2);
        assert_eq!(html.matches("<figcaption>").count(), 2);
        assert!(!html.contains("<?xml"));
        assert!(html.find("id=\"question\"").unwrap() < html.find("id=\"summary\"").unwrap());
    }

    #[test]
    fn falls_back_to_png_without_svg() {
        let mut p = page();
        p.charts[0].svg = String::new();
        let html = render(&p);
        assert!(html.contains("<img alt=\"Blast radius"));
        assert!(html.contains("src=\"data:image/png;base64,iVBORw0KGgo"));
    }

    #[test]
    fn strips_xml_prolog() {
        assert_eq!(
            inline_svg("<?xml version=\"1.0\"?>\n<svg a>x</svg>\n"),
            Some("<svg a>x</svg>")
        );
        assert_eq!(inline_svg("not svg"), None);
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn caption_paragraph_follows_the_title_only_when_set() {
        let mut p = page();
        let plain = render(&p);
        assert!(!plain.contains("<figcaption>TTD CDF\n<p>"));
        p.charts[1].caption = "What <this> shows.".into();
        let html = render(&p);
        assert!(html.contains("<figcaption>TTD CDF\n<p>What &lt;this&gt; shows.</p>\n</figcaption>"));
        assert_eq!(html.matches("<figcaption>").count(), 2);
    }

    #[test]
    fn empty_page_renders() {
        let html = render(&ReportPage::default());
        assert!(html.contains("<table id=\"summary\">"));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(render(&page()), render(&page()));
    }
}
