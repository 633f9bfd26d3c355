//! The CSV files of a run: `summary.csv`, `timeline.csv` and `events.csv`.
//!
//! Conventions: snake_case headers with units in the name, one header row,
//! an empty cell for "not applicable", never NaN; numbers with a fixed count
//! of decimals so the bytes never depend on float printing.

use super::narrate::{describe, trigger_names};
use crate::engine::time::format_secs;
use crate::engine::{SimDuration, SimTime};
use crate::model::queue_stats::QueueFigures;
use crate::model::{InstanceStatus, Version};
use crate::record::{EventSink, RunSoFar, SimEvent, Summary, TimelineRow};

/// Columns of `summary.csv`, in order.
pub const SUMMARY_COLUMNS: [&str; 53] = [
    "scenario",
    "strategy",
    "release",
    "seed",
    "fidelity",
    "outcome",
    "final_phase",
    "rollback_performed",
    "trigger",
    "rolled_back_after_completion",
    "recovery",
    "rollback_verified",
    "ttd_s",
    "ttr_s",
    "deploy_duration_s",
    "first_exposure_s",
    "triggered_at_s",
    "requests_total",
    "failed_requests",
    "excess_failed_requests",
    "exposed_requests",
    "blast_radius_requests",
    "blast_radius_users",
    "dropped_requests",
    "availability_pct",
    "stable_wait_mean_ms",
    "stable_wait_p99_ms",
    "stable_waited_pct",
    "stable_timed_out_pct",
    "new_wait_mean_ms",
    "new_wait_p99_ms",
    "new_waited_pct",
    "new_timed_out_pct",
    "checks_run",
    "games_started",
    "games_completed",
    "games_failed",
    "games_disrupted",
    "games_migrated",
    "games_restored",
    "games_lost",
    "drain_timeouts",
    "bets_placed",
    "bets_settled",
    "bets_refunded",
    "bets_reconciled",
    "bets_lost",
    "bets_open",
    "sessions_dropped",
    "session_continuity_pct",
    "blast_radius_players",
    "games_to_recover",
    "games_recovered",
];

/// The queue columns of one version, after its name, in both files.
const QUEUE_COLUMNS: [&str; 4] = ["wait_mean_ms", "wait_p99_ms", "waited_pct", "timed_out_pct"];

/// The cells of [`QUEUE_COLUMNS`] (empty without `[capacity]` or requests),
/// shares with `pct_decimals`.
fn queue_cells(q: Option<QueueFigures>, pct_decimals: usize) -> [String; 4] {
    [
        fixed(q.map(|q| q.wait_mean_s * 1000.0), 3),
        fixed(q.map(|q| q.wait_p99_s * 1000.0), 3),
        fixed(q.map(|q| q.waited_pct), pct_decimals),
        fixed(q.map(|q| q.timed_out_pct), pct_decimals),
    ]
}

/// Columns of `events.csv`.
pub const EVENT_COLUMNS: [&str; 4] = ["t_s", "kind", "subject", "detail"];

/// Columns of `timeline.csv`, in order.
pub fn timeline_columns() -> Vec<String> {
    let mut cols = vec!["t_s".to_string(), "phase".into(), "canary_weight_pct".into()];
    for v in Version::ALL {
        for s in InstanceStatus::ALL {
            cols.push(format!("{}_{}", v.as_str(), s.as_str()));
        }
        cols.push(format!("{}_routable", v.as_str()));
    }
    for v in Version::ALL {
        for m in ["requests", "errors", "error_rate_pct", "p99_ms"]
            .iter()
            .chain(&QUEUE_COLUMNS)
        {
            cols.push(format!("{}_{m}", v.as_str()));
        }
    }
    cols.push("active_faults".into());
    cols
}

fn secs(t: SimTime) -> String {
    format_secs(t.0)
}

fn dur(d: Option<SimDuration>) -> String {
    d.map(|d| format_secs(d.0)).unwrap_or_default()
}

fn opt_secs(t: Option<SimTime>) -> String {
    t.map(secs).unwrap_or_default()
}

fn fixed(x: Option<f64>, decimals: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => String::new(),
    }
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    // Writing to memory cannot fail; an error here would be a csv crate bug.
    w.into_inner().expect("in-memory CSV writer")
}

/// The header and row of `summary.csv`.
pub fn summary_csv(s: &Summary) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(SUMMARY_COLUMNS).expect("in-memory write");
    w.write_record(summary_record(s)).expect("in-memory write");
    finish(w)
}

/// The cells of one summary row, in `SUMMARY_COLUMNS` order.
pub fn summary_record(s: &Summary) -> Vec<String> {
    let mut row = vec![
        s.scenario.clone(),
        s.strategy.to_string(),
        s.release.as_str().to_string(),
        s.seed.to_string(),
        s.fidelity.to_string(),
        s.outcome.map(|o| o.as_str().to_string()).unwrap_or_default(),
        s.final_phase.as_str().to_string(),
        s.rollback_performed.to_string(),
        trigger_names(&s.trigger),
        s.rolled_back_after_completion().to_string(),
        s.recovery.map(|r| r.as_str().to_string()).unwrap_or_default(),
        s.rollback_verified.map(|v| v.to_string()).unwrap_or_default(),
        dur(s.ttd()),
        dur(s.ttr()),
        dur(s.deploy_duration()),
        opt_secs(s.first_exposure),
        opt_secs(s.triggered_at),
        s.requests_total().to_string(),
        s.failed_requests().to_string(),
        s.excess_failed_requests().map(|x| x.to_string()).unwrap_or_default(),
        s.exposed_requests().to_string(),
        s.blast_radius_requests().to_string(),
        s.blast_radius_users.map(|u| u.to_string()).unwrap_or_default(),
        s.totals.dropped.iter().sum::<u64>().to_string(),
        fixed(s.availability_pct(), 4),
    ];
    for v in Version::ALL {
        row.extend(queue_cells(s.queue[v.index()], 4));
    }
    row.push(s.checks.to_string());
    match &s.gaming {
        None => row.extend(std::iter::repeat_n(String::new(), 19)),
        Some(g) => {
            let t = &g.totals;
            for n in [
                t.games_started,
                t.games_completed,
                t.games_failed,
                t.games_disrupted,
                t.games_migrated,
                t.games_restored,
                t.games_lost,
                t.drain_timeouts,
                t.bets.placed,
                t.bets.settled,
                t.bets.refunded,
                t.bets.reconciled,
                t.bets.lost,
                t.bets.open,
                t.sessions_dropped,
            ] {
                row.push(n.to_string());
            }
            row.push(fixed(t.session_continuity_pct(), 4));
            row.push(t.players_harmed.to_string());
            row.push(g.recovery.map(|r| r.0.to_string()).unwrap_or_default());
            row.push(g.recovery.map(|r| r.1.to_string()).unwrap_or_default());
        }
    }
    row
}

/// `timeline.csv`.
pub fn timeline_csv(rows: &[TimelineRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(timeline_columns()).expect("in-memory write");
    for r in rows {
        let mut rec = vec![secs(r.t), r.phase.as_str().to_string(), fixed(Some(r.weight_pct), 2)];
        for v in Version::ALL {
            let f = &r.fleet[v.index()];
            for s in InstanceStatus::ALL {
                rec.push(f.count(s).to_string());
            }
            rec.push(f.routable.to_string());
        }
        for v in Version::ALL {
            let i = v.index();
            let rate = (r.requests[i] > 0).then(|| 100.0 * r.errors[i] as f64 / r.requests[i] as f64);
            rec.push(r.requests[i].to_string());
            rec.push(r.errors[i].to_string());
            rec.push(fixed(rate, 3));
            rec.push(fixed(r.p99_s[i].map(|s| s * 1000.0), 3));
            rec.extend(queue_cells(r.queue[i], 3));
        }
        rec.push(r.active_faults.clone());
        w.write_record(&rec).expect("in-memory write");
    }
    finish(w)
}

/// `events.csv`.
pub fn events_csv(events: &[(SimTime, SimEvent)]) -> Vec<u8> {
    let mut w = EventsCsv::new(Vec::new());
    for (t, e) in events {
        w.row(*t, e);
    }
    // Writing to memory cannot fail.
    w.finish().expect("in-memory CSV writer")
}

/// `events.csv` written row by row as the run goes: an [`EventSink`], so
/// memory does not grow with the events. The first write error is kept and
/// returned by [`EventsCsv::finish`]; rows after it are dropped.
pub struct EventsCsv<W: std::io::Write> {
    w: csv::Writer<W>,
    error: Option<csv::Error>,
}

impl<W: std::io::Write> EventsCsv<W> {
    /// Starts the file: writes the header.
    pub fn new(out: W) -> Self {
        let mut w = csv::Writer::from_writer(out);
        let error = w.write_record(EVENT_COLUMNS).err();
        EventsCsv { w, error }
    }

    /// Writes one event's row.
    pub fn row(&mut self, t: SimTime, e: &SimEvent) {
        if self.error.is_none() {
            let d = describe(e);
            self.error = self
                .w
                .write_record([secs(t), d.kind.to_string(), d.subject, d.detail])
                .err();
        }
    }

    /// Flushes the rows and returns the output, or the first write error.
    pub fn finish(self) -> std::io::Result<W> {
        match self.error.map(csv::Error::into_kind) {
            Some(csv::ErrorKind::Io(e)) => Err(e),
            Some(other) => Err(std::io::Error::other(format!("{other:?}"))),
            None => self.w.into_inner().map_err(|e| e.into_error()),
        }
    }
}

impl<W: std::io::Write> EventSink for EventsCsv<W> {
    fn event(&mut self, t: SimTime, event: &SimEvent, _so_far: &RunSoFar) {
        self.row(t, event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_queue_columns_are_the_queue_columns_of_each_version() {
        // `SUMMARY_COLUMNS` spells them out (a const array); they must be
        // the ones `queue_cells` fills, in its order, stable then new.
        let at = SUMMARY_COLUMNS.iter().position(|c| *c == "availability_pct").unwrap() + 1;
        let expected: Vec<String> = Version::ALL
            .iter()
            .flat_map(|v| QUEUE_COLUMNS.iter().map(move |m| format!("{}_{m}", v.as_str())))
            .collect();
        assert_eq!(
            SUMMARY_COLUMNS[at..at + expected.len()],
            expected.iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
    }
}
