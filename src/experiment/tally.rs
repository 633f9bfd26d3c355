//! What a sweep's trials add up to, computed from `trials.csv` rows.
//!
//! The per-cell summary and the chart data are computed from the rows as
//! written (strings), never from in-memory numbers, so a sweep, a resumed
//! sweep and a merge of shards give the same bytes by construction. Rows
//! come in (cell, trial) order, so only the current cell's values are held:
//! memory does not grow with the number of cells or trials.

use super::stats::{mean, quantile, wilson};
use crate::report::csv_out::SUMMARY_COLUMNS;

/// The columns `trials.csv` adds before `run`'s summary columns.
pub const KEY_COLUMNS: [&str; 5] = ["strategy", "triggers", "faults", "releases", "trial"];

/// Columns of `summary.csv` of a sweep, in order.
pub const CELL_COLUMNS: [&str; 37] = [
    "strategy",
    "triggers",
    "faults",
    "releases",
    "trials",
    "bad_trials",
    "detection_power_pct",
    "detection_power_lo_pct",
    "detection_power_hi_pct",
    "detection_power_with_monitoring_pct",
    "false_rollback_rate_pct",
    "false_rollback_lo_pct",
    "false_rollback_hi_pct",
    "ttd_p50_s",
    "ttd_p95_s",
    "ttd_max_s",
    "ttr_p50_s",
    "ttr_p95_s",
    "blast_radius_requests_mean",
    "blast_radius_requests_p50",
    "blast_radius_requests_p95",
    "blast_radius_users_mean",
    "blast_radius_users_p50",
    "blast_radius_users_p95",
    "excess_failed_requests_mean",
    "deploy_duration_p50_s",
    "deploy_duration_p95_s",
    "availability_min_pct",
    "availability_mean_pct",
    "games_disrupted_mean",
    "games_lost_mean",
    "bets_lost_mean",
    "bets_lost_max",
    "session_continuity_mean_pct",
    "blast_radius_players_mean",
    "blast_radius_players_p50",
    "blast_radius_players_p95",
];

/// The header of `trials.csv`.
pub fn trial_header() -> Vec<&'static str> {
    KEY_COLUMNS.iter().chain(SUMMARY_COLUMNS.iter()).copied().collect()
}

/// Where each needed column sits in a `trials.csv` row.
#[derive(Clone, Copy)]
struct Columns {
    release: usize,
    rollback_performed: usize,
    after_completion: usize,
    ttd: usize,
    ttr: usize,
    duration: usize,
    blast: usize,
    users: usize,
    excess: usize,
    availability: usize,
    games_disrupted: usize,
    games_lost: usize,
    bets_lost: usize,
    continuity: usize,
    players: usize,
}

impl Default for Columns {
    fn default() -> Self {
        Columns::new()
    }
}

impl Columns {
    fn new() -> Self {
        let at = |name: &str| {
            KEY_COLUMNS.len()
                + SUMMARY_COLUMNS
                    .iter()
                    .position(|c| *c == name)
                    .expect("a summary column")
        };
        Columns {
            release: at("release"),
            rollback_performed: at("rollback_performed"),
            after_completion: at("rolled_back_after_completion"),
            ttd: at("ttd_s"),
            ttr: at("ttr_s"),
            duration: at("deploy_duration_s"),
            blast: at("blast_radius_requests"),
            users: at("blast_radius_users"),
            excess: at("excess_failed_requests"),
            availability: at("availability_pct"),
            games_disrupted: at("games_disrupted"),
            games_lost: at("games_lost"),
            bets_lost: at("bets_lost"),
            continuity: at("session_continuity_pct"),
            players: at("blast_radius_players"),
        }
    }
}

/// One cell's trials so far.
#[derive(Default)]
struct CellStats {
    keys: [String; 4],
    trials: u64,
    bad: u64,
    bad_caught_before_completion: u64,
    bad_caught: u64,
    good: u64,
    good_rolled_back: u64,
    ttd: Vec<f64>,
    ttr: Vec<f64>,
    blast: Vec<f64>,
    users: Vec<f64>,
    excess: Vec<f64>,
    duration: Vec<f64>,
    availability: Vec<f64>,
    games_disrupted: Vec<f64>,
    games_lost: Vec<f64>,
    bets_lost: Vec<f64>,
    continuity: Vec<f64>,
    players: Vec<f64>,
}

impl CellStats {
    fn add(&mut self, row: &[String], col: Columns) {
        let num = |i: usize| row.get(i).and_then(|s| s.parse::<f64>().ok());
        let yes = |i: usize| row.get(i).map(String::as_str) == Some("true");
        self.trials += 1;
        let rolled_back = yes(col.rollback_performed);
        if row.get(col.release).map(String::as_str) == Some("bad") {
            self.bad += 1;
            self.bad_caught += u64::from(rolled_back);
            self.bad_caught_before_completion += u64::from(rolled_back && !yes(col.after_completion));
        } else {
            self.good += 1;
            self.good_rolled_back += u64::from(rolled_back);
        }
        self.ttd.extend(num(col.ttd));
        self.ttr.extend(num(col.ttr));
        self.duration.extend(num(col.duration));
        self.blast.extend(num(col.blast));
        self.users.extend(num(col.users));
        self.excess.extend(num(col.excess));
        self.availability.extend(num(col.availability));
        self.games_disrupted.extend(num(col.games_disrupted));
        self.games_lost.extend(num(col.games_lost));
        self.bets_lost.extend(num(col.bets_lost));
        self.continuity.extend(num(col.continuity));
        self.players.extend(num(col.players));
    }

    fn record(&self) -> Vec<String> {
        let f = |x: Option<f64>, d: usize| x.map(|v| format!("{v:.d$}")).unwrap_or_default();
        let pct = |k: u64, n: u64| (n > 0).then(|| 100.0 * k as f64 / n as f64);
        let power = wilson(self.bad_caught_before_completion, self.bad);
        let false_rb = wilson(self.good_rolled_back, self.good);
        let mut rec: Vec<String> = self.keys.to_vec();
        rec.extend([
            self.trials.to_string(),
            self.bad.to_string(),
            f(pct(self.bad_caught_before_completion, self.bad), 2),
            f(power.map(|p| 100.0 * p.0), 2),
            f(power.map(|p| 100.0 * p.1), 2),
            f(pct(self.bad_caught, self.bad), 2),
            f(pct(self.good_rolled_back, self.good), 2),
            f(false_rb.map(|p| 100.0 * p.0), 2),
            f(false_rb.map(|p| 100.0 * p.1), 2),
            f(quantile(&self.ttd, 0.5), 3),
            f(quantile(&self.ttd, 0.95), 3),
            f(quantile(&self.ttd, 1.0), 3),
            f(quantile(&self.ttr, 0.5), 3),
            f(quantile(&self.ttr, 0.95), 3),
            f(mean(&self.blast), 2),
            f(quantile(&self.blast, 0.5), 0),
            f(quantile(&self.blast, 0.95), 0),
            f(mean(&self.users), 2),
            f(quantile(&self.users, 0.5), 0),
            f(quantile(&self.users, 0.95), 0),
            f(mean(&self.excess), 2),
            f(quantile(&self.duration, 0.5), 3),
            f(quantile(&self.duration, 0.95), 3),
            f(quantile(&self.availability, 0.0), 4),
            f(mean(&self.availability), 4),
            f(mean(&self.games_disrupted), 2),
            f(mean(&self.games_lost), 2),
            f(mean(&self.bets_lost), 2),
            f(quantile(&self.bets_lost, 1.0), 0),
            f(mean(&self.continuity), 4),
            f(mean(&self.players), 2),
            f(quantile(&self.players, 0.5), 0),
            f(quantile(&self.players, 0.95), 0),
        ]);
        rec
    }

    /// The cell's gaming figures, when its trials had games.
    fn gaming(&self) -> Option<GamingCell> {
        Some(GamingCell {
            keys: self.keys.clone(),
            players_harmed_mean: mean(&self.players)?,
            games_disrupted_mean: mean(&self.games_disrupted)?,
            games_lost_mean: mean(&self.games_lost)?,
            bets_lost_mean: mean(&self.bets_lost)?,
            session_continuity_mean_pct: mean(&self.continuity)?,
            ttd_p50_s: quantile(&self.ttd, 0.5),
        })
    }
}

/// A histogram on a logarithmic scale (200 bins per decade, 1.2% wide, from 1 ms or 1
/// request up to 10^7) plus a bin for zero: enough resolution for a CDF
/// chart, in memory that does not depend on the number of trials.
#[derive(Clone, Debug, Default)]
pub struct LogHistogram {
    zero: u64,
    bins: Vec<u64>,
    /// Trials counted, including those with no value (never detected).
    pub total: u64,
}

const DECADES_FROM: i32 = -3;
const BINS_PER_DECADE: f64 = 200.0;
const N_BINS: usize = 2000;

impl LogHistogram {
    /// Counts one trial; `None` (e.g. never detected) adds to the total only.
    pub fn add(&mut self, value: Option<f64>) {
        self.total += 1;
        let Some(v) = value.filter(|v| v.is_finite() && *v >= 0.0) else {
            return;
        };
        if self.bins.is_empty() {
            self.bins = vec![0; N_BINS];
        }
        if v <= 10f64.powi(DECADES_FROM) {
            self.zero += 1;
            return;
        }
        let pos = ((v.log10() - f64::from(DECADES_FROM)) * BINS_PER_DECADE).ceil();
        self.bins[(pos.max(0.0) as usize).min(N_BINS - 1)] += 1;
    }

    /// The CDF as (upper edge, share of all counted trials at or below it),
    /// one point per non-empty bin. It ends below 1 when some trials had no
    /// value.
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        if self.total == 0 {
            return Vec::new();
        }
        let n = self.total as f64;
        let mut acc = self.zero;
        let mut out = vec![(0.0, acc as f64 / n)];
        for (i, &c) in self.bins.iter().enumerate() {
            if c > 0 {
                acc += c;
                let edge = 10f64.powf(f64::from(DECADES_FROM) + i as f64 / BINS_PER_DECADE);
                out.push((edge, acc as f64 / n));
            }
        }
        out
    }
}

/// A point per bad cell for the blast-radius-vs-TTD chart.
#[derive(Clone, Debug, PartialEq)]
pub struct CellMarks {
    /// The cell's keys: strategy, triggers, faults, releases.
    pub keys: [String; 4],
    /// TTD p50 and p95, seconds (`None` when nothing was detected).
    pub ttd_s: Option<(f64, f64)>,
    /// Blast radius p50 and p95, requests.
    pub blast: (f64, f64),
}

/// The gaming figures of one cell (with `[gaming]`), for the comparison
/// chart.
#[derive(Clone, Debug, PartialEq)]
pub struct GamingCell {
    /// The cell's keys: strategy, triggers, faults, releases.
    pub keys: [String; 4],
    /// Mean players harmed per trial (blast radius in players).
    pub players_harmed_mean: f64,
    /// Mean games disrupted per trial.
    pub games_disrupted_mean: f64,
    /// Mean games lost per trial.
    pub games_lost_mean: f64,
    /// Mean bets lost per trial.
    pub bets_lost_mean: f64,
    /// Mean session continuity, percent.
    pub session_continuity_mean_pct: f64,
    /// Median TTD of the cell's rollbacks, seconds (`None` without one).
    pub ttd_p50_s: Option<f64>,
}

/// Detection and false rollbacks of one (strategy, triggers) setting, over
/// all its fault variants.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Setting {
    /// Strategy variant.
    pub strategy: String,
    /// Trigger variant.
    pub triggers: String,
    /// Bad-release trials, and those rolled back before completion.
    pub bad: (u64, u64),
    /// Good-release trials, and those rolled back.
    pub good: (u64, u64),
}

/// Everything the report draws, gathered from the rows.
#[derive(Default)]
pub struct Tally {
    columns: Columns,
    cell: CellStats,
    /// `summary.csv` rows, one per cell, in cell order.
    pub summary_rows: Vec<Vec<String>>,
    /// One entry per cell with bad-release trials.
    pub cells: Vec<CellMarks>,
    /// TTD of bad releases per (strategy, triggers), in first-seen order.
    pub ttd: Vec<((String, String), LogHistogram)>,
    /// Blast radius of bad releases per strategy, in first-seen order.
    pub blast: Vec<(String, LogHistogram)>,
    /// Per (strategy, triggers) setting, in first-seen order.
    pub settings: Vec<Setting>,
    /// One entry per cell whose trials had games, in cell order.
    pub gaming: Vec<GamingCell>,
}

fn entry<'a, K: PartialEq + Clone, V: Default>(list: &'a mut Vec<(K, V)>, key: &K) -> &'a mut V {
    let i = match list.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            list.push((key.clone(), V::default()));
            list.len() - 1
        }
    };
    &mut list[i].1
}

impl Tally {
    /// An empty tally.
    pub fn new() -> Self {
        Tally::default()
    }

    /// Adds one `trials.csv` row (the rows of one cell must be contiguous).
    pub fn add(&mut self, row: &[String]) {
        let col = self.columns;
        let keys: [String; 4] = std::array::from_fn(|i| row.get(i).cloned().unwrap_or_default());
        if self.cell.trials > 0 && self.cell.keys != keys {
            self.close_cell();
        }
        if self.cell.trials == 0 {
            self.cell.keys = keys.clone();
        }
        self.cell.add(row, col);
        if row.get(col.release).map(String::as_str) == Some("bad") {
            let num = |i: usize| row.get(i).and_then(|s| s.parse::<f64>().ok());
            entry(&mut self.ttd, &(keys[0].clone(), keys[1].clone())).add(num(col.ttd));
            entry(&mut self.blast, &keys[0]).add(num(col.blast));
        }
    }

    fn close_cell(&mut self) {
        let cell = std::mem::take(&mut self.cell);
        self.summary_rows.push(cell.record());
        self.gaming.extend(cell.gaming());
        let [strategy, triggers, ..] = &cell.keys;
        let i = match self
            .settings
            .iter()
            .position(|s| &s.strategy == strategy && &s.triggers == triggers)
        {
            Some(i) => i,
            None => {
                self.settings.push(Setting {
                    strategy: strategy.clone(),
                    triggers: triggers.clone(),
                    ..Setting::default()
                });
                self.settings.len() - 1
            }
        };
        let s = &mut self.settings[i];
        s.bad.0 += cell.bad;
        s.bad.1 += cell.bad_caught_before_completion;
        s.good.0 += cell.good;
        s.good.1 += cell.good_rolled_back;
        if cell.bad > 0 {
            let ttd = quantile(&cell.ttd, 0.5).zip(quantile(&cell.ttd, 0.95));
            let blast = (
                quantile(&cell.blast, 0.5).unwrap_or(0.0),
                quantile(&cell.blast, 0.95).unwrap_or(0.0),
            );
            self.cells.push(CellMarks {
                keys: cell.keys.clone(),
                ttd_s: ttd,
                blast,
            });
        }
    }

    /// Closes the last cell; call once after the last row.
    pub fn finish(&mut self) {
        if self.cell.trials > 0 {
            self.close_cell();
        }
    }

    /// `summary.csv` as bytes.
    pub fn summary_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(CELL_COLUMNS).expect("in-memory write");
        for row in &self.summary_rows {
            w.write_record(row).expect("in-memory write");
        }
        w.into_inner().expect("in-memory write")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(keys: [&str; 4], release: &str, rolled_back: bool, ttd: &str, blast: u64) -> Vec<String> {
        let mut r: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        r.push("0".into());
        r.extend(SUMMARY_COLUMNS.iter().map(|_| String::new()));
        let col = Columns::new();
        r[col.release] = release.into();
        r[col.rollback_performed] = rolled_back.to_string();
        r[col.after_completion] = "false".into();
        r[col.ttd] = ttd.into();
        r[col.blast] = blast.to_string();
        r
    }

    #[test]
    fn cells_close_when_keys_change_and_settings_sum_over_faults() {
        let mut t = Tally::new();
        t.add(&row(["c", "t", "f1", "bad"], "bad", true, "10", 5));
        t.add(&row(["c", "t", "f1", "bad"], "bad", false, "", 50));
        t.add(&row(["c", "t", "f2", "good"], "good", true, "20", 0));
        t.finish();
        assert_eq!(t.summary_rows.len(), 2);
        assert_eq!(t.summary_rows[0][4], "2"); // trials
        assert_eq!(t.summary_rows[0][6], "50.00"); // power
        assert_eq!(t.settings.len(), 1);
        assert_eq!(t.settings[0].bad, (2, 1));
        assert_eq!(t.settings[0].good, (1, 1));
        assert_eq!(t.cells.len(), 1);
        assert_eq!(t.cells[0].ttd_s, Some((10.0, 10.0)));
        // The undetected bad trial keeps the CDF below 1.
        let cdf = t.ttd[0].1.cdf();
        assert_eq!(cdf.last().unwrap().1, 0.5);
    }

    #[test]
    fn log_histogram_bins_are_upper_edges_and_zero_has_its_own() {
        let mut h = LogHistogram::default();
        for v in [0.0, 1.0, 1.0, 100.0] {
            h.add(Some(v));
        }
        h.add(None);
        let cdf = h.cdf();
        assert_eq!(cdf[0], (0.0, 0.2));
        // 1.0 sits exactly on a bin edge (10^0), so its bin's edge is 1.
        assert!((cdf[1].0 - 1.0).abs() < 1e-9 && (cdf[1].1 - 0.6).abs() < 1e-12);
        assert!((cdf[2].0 - 100.0).abs() < 1e-6 && (cdf[2].1 - 0.8).abs() < 1e-12);
    }
}
