//! A finished sweep's charts and `report.html`, drawn from its tally.

use super::manifest::Manifest;
use super::tally::{Tally, CELL_COLUMNS};
use crate::report::charts::{self, CellPoint, Chart, PowerPoint, Series};
use crate::report::html::{self, ReportPage};
use std::path::{Path, PathBuf};

/// The sweep's four charts.
pub fn sweep_charts(tally: &Tally) -> Vec<Chart> {
    let points: Vec<CellPoint> = tally
        .cells
        .iter()
        .filter_map(|c| {
            let (ttd_p50_s, ttd_p95_s) = c.ttd_s?;
            Some(CellPoint {
                strategy: c.keys[0].clone(),
                label: format!("{} x {}", c.keys[1], c.keys[2]),
                ttd_p50_s,
                ttd_p95_s,
                blast_p50: c.blast.0,
                blast_p95: c.blast.1,
            })
        })
        .collect();
    let ttd: Vec<Series> = tally
        .ttd
        .iter()
        .map(|((strategy, triggers), h)| Series {
            label: format!("{strategy} / {triggers}"),
            points: h.cdf(),
        })
        .collect();
    let blast: Vec<Series> = tally
        .blast
        .iter()
        .map(|(strategy, h)| Series {
            label: strategy.clone(),
            points: h.cdf(),
        })
        .collect();
    let settings: Vec<PowerPoint> = tally
        .settings
        .iter()
        .filter(|s| s.bad.0 > 0 && s.good.0 > 0)
        .map(|s| PowerPoint {
            group: s.strategy.clone(),
            label: s.triggers.clone(),
            false_rollback_pct: 100.0 * s.good.1 as f64 / s.good.0 as f64,
            power_pct: 100.0 * s.bad.1 as f64 / s.bad.0 as f64,
        })
        .collect();
    vec![
        charts::blast_vs_ttd(&points),
        charts::cdf(
            "ttd_cdf",
            "Bad releases detected within t (per strategy and triggers)",
            "time to detect, s",
            &ttd,
        ),
        charts::cdf(
            "blast_radius_cdf",
            "Blast radius of bad releases (per strategy)",
            "failed requests on the new version",
            &blast,
        ),
        charts::power_vs_false_rollback(&settings),
    ]
}

/// The command that reruns the whole sweep.
fn sweep_command(m: &Manifest) -> String {
    let mut cmd = format!("deploysim sweep {} --trials {}", m.sweep_file, m.trials_per_cell);
    if let Some(c) = m.cell {
        cmd.push_str(&format!(" --cell {c}"));
    }
    cmd
}

/// Writes `charts/*.svg|png` and `report.html` into `dir`; returns the
/// files written.
pub fn write(dir: &Path, m: &Manifest, tally: &Tally) -> std::io::Result<Vec<PathBuf>> {
    let chart_dir = dir.join("charts");
    let charts = sweep_charts(tally);
    let mut written = Vec::new();
    for c in &charts {
        charts::write_chart(&chart_dir, c)?;
        written.push(chart_dir.join(format!("{}.svg", c.name)));
        written.push(chart_dir.join(format!("{}.png", c.name)));
    }
    let question = if m.question.is_empty() {
        "How much harm gets through (blast radius) against how soon it is caught (time to detect), \
         for each strategy, trigger setting and fault?"
            .to_string()
    } else {
        m.question.clone()
    };
    // Row k of summary.csv is cell k (or the one cell run).
    let reproduce = (0..tally.summary_rows.len())
        .map(|i| {
            let k = m.cell.unwrap_or(i as u64 + 1);
            format!(
                "deploysim sweep {} --trials {} --cell {k} --out reports/{}-cell-{k}",
                m.sweep_file, m.trials_per_cell, m.sweep
            )
        })
        .collect();
    let page = ReportPage {
        title: format!("deploysim sweep: {}", m.sweep),
        question,
        command: sweep_command(m),
        facts: vec![
            ("Sweep file".into(), m.sweep_file.clone()),
            ("Cells".into(), tally.summary_rows.len().to_string()),
            ("Trials per cell".into(), m.trials_per_cell.to_string()),
            ("Trials".into(), m.rows.to_string()),
            (
                "Seed".into(),
                format!("{} (trial i of every cell uses the streams of (seed, i))", m.seed),
            ),
            ("Fingerprint".into(), m.fingerprint.clone()),
        ],
        header: CELL_COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: tally.summary_rows.clone(),
        reproduce,
        charts,
    };
    let path = dir.join("report.html");
    crate::report::write_atomic(&path, html::render(&page).as_bytes())?;
    written.push(path);
    Ok(written)
}
