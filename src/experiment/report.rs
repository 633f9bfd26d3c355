//! A finished sweep's charts and `report.html`, drawn from its tally.

use super::manifest::Manifest;
use super::tally::{GamingCell, Tally, CELL_COLUMNS};
use crate::report::charts::{self, CellPoint, Chart, GamingRow, PowerPoint, Series};
use crate::report::html::{self, ReportPage};
use crate::report::outdir::{OutError, Staging};

/// Caption of the gaming comparison in `report.html`.
const GAMING_CAPTION: &str = "What each cell's rollouts broke in the games. \
     One row per sweep cell (strategy variant / release); trial i of every cell sees the same \
     games arrive, so rows differ only in what the cells vary (plain against gaming-aware, \
     strategy, triggers, faults). Bars are means per \
     trial of the players harmed (blast radius in players), games disrupted and bets lost: \
     shorter is better, and zero means the rollout broke nothing of that kind. Dots give the \
     mean session continuity (share of player sessions that survived, higher is better) and \
     the median time to detect over the cell's rollbacks (\"no rollback\" when none of its \
     trials rolled back).";

/// The sweep's four charts, and the gaming comparison when some cell's
/// trials had games.
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
    let mut charts = vec![
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
    ];
    if !tally.gaming.is_empty() {
        let mut gaming = charts::gaming_comparison(&gaming_rows(&tally.gaming));
        gaming.caption = GAMING_CAPTION.to_string();
        charts.push(gaming);
    }
    charts
}

/// One row per gaming cell, labelled with its strategy variant and release,
/// plus its triggers and faults variants when those differ between cells
/// (so no two rows share a label without reason).
fn gaming_rows(cells: &[GamingCell]) -> Vec<GamingRow> {
    let varies = |k: usize| {
        cells
            .first()
            .is_some_and(|first| cells.iter().any(|c| c.keys[k] != first.keys[k]))
    };
    let shown: Vec<usize> = [0, 1, 2, 3]
        .into_iter()
        .filter(|&k| k == 0 || k == 3 || varies(k))
        .collect();
    cells
        .iter()
        .map(|c| GamingRow {
            group: c.keys[0].clone(),
            label: shown
                .iter()
                .map(|&k| c.keys[k].as_str())
                .collect::<Vec<_>>()
                .join(" / "),
            players_harmed: c.players_harmed_mean,
            games_disrupted: c.games_disrupted_mean,
            bets_lost: c.bets_lost_mean,
            session_continuity_pct: c.session_continuity_mean_pct,
            ttd_p50_s: c.ttd_p50_s,
        })
        .collect()
}

/// The command that reruns the whole sweep.
fn sweep_command(m: &Manifest) -> String {
    let mut cmd = format!(
        "deploysim sweep {} --trials {}",
        crate::report::shell_quote(&m.sweep_file),
        m.trials_per_cell
    );
    if let Some(c) = m.cell {
        cmd.push_str(&format!(" --cell {c}"));
    }
    cmd
}

/// Stages `charts/*.svg|png` and `report.html` (committed with the rest of
/// the sweep's final files).
pub fn write(stage: &mut Staging<'_>, m: &Manifest, tally: &Tally) -> Result<(), OutError> {
    let charts = sweep_charts(tally);
    for c in &charts {
        stage.chart("charts/", c)?;
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
                "deploysim sweep {} --trials {} --cell {k} --out {}",
                crate::report::shell_quote(&m.sweep_file),
                m.trials_per_cell,
                crate::report::shell_quote(&format!("reports/{}-cell-{k}", m.sweep))
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
    stage.write("report.html", html::render(&page).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaming_cell(strategy: &str, faults: &str, release: &str) -> GamingCell {
        GamingCell {
            keys: [strategy.into(), "base".into(), faults.into(), release.into()],
            players_harmed_mean: 12.0,
            games_disrupted_mean: 3.0,
            games_lost_mean: 3.0,
            bets_lost_mean: 8.5,
            session_continuity_mean_pct: 99.5,
            ttd_p50_s: Some(300.0),
        }
    }

    #[test]
    fn gaming_chart_only_when_cells_had_games() {
        let mut tally = Tally::new();
        let names: Vec<String> = sweep_charts(&tally).into_iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            ["blast_vs_ttd", "ttd_cdf", "blast_radius_cdf", "power_vs_false_rollback"]
        );
        tally.gaming = vec![gaming_cell("plain", "base", "bad"), gaming_cell("aware", "base", "bad")];
        let charts = sweep_charts(&tally);
        assert_eq!(charts.len(), 5);
        let gaming = &charts[4];
        assert_eq!(gaming.name, "gaming_comparison");
        assert_eq!(gaming.caption, GAMING_CAPTION);
        assert!(gaming.svg.contains("plain / bad") && gaming.svg.contains("aware / bad"));
        assert!(charts[..4].iter().all(|c| c.caption.is_empty()));
    }

    #[test]
    fn gaming_labels_add_the_keys_that_vary() {
        let same = gaming_rows(&[
            gaming_cell("plain", "base", "good"),
            gaming_cell("aware", "base", "bad"),
        ]);
        let labels: Vec<&str> = same.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["plain / good", "aware / bad"]);
        let varied = gaming_rows(&[
            gaming_cell("plain", "none", "bad"),
            gaming_cell("plain", "outage", "bad"),
        ]);
        let labels: Vec<&str> = varied.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["plain / none / bad", "plain / outage / bad"]);
        assert_eq!(varied[0].group, "plain");
        assert!(gaming_rows(&[]).is_empty());
    }
}
