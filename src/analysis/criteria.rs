//! The chapter's success criteria, judged over one window of metrics.

use crate::model::games::{GameCounters, GameCriteria};
use crate::model::WindowStats;
use crate::scenario::SuccessCriteria;

/// Which criterion a failure is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Criterion {
    /// Error rate above `max_error_rate_pct`.
    ErrorRate,
    /// Success rate below `min_success_rate_pct`.
    SuccessRate,
    /// p99 latency above `max_latency_p99`.
    LatencyP99,
    /// Game completion rate below `min_game_completion_pct`.
    GameCompletion,
    /// Bet success rate below `min_bet_success_pct`.
    BetSuccess,
    /// Session continuity below `min_session_continuity_pct`.
    SessionContinuity,
    /// Average game latency above `max_game_latency`.
    GameLatency,
    /// A metric with no data in its window (Flagger counts it as failed).
    NoData,
    /// Fewer requests than `min_request_count`: not judged.
    TooFewRequests,
    /// A Kayenta judge with fewer data points than `min_data_points`.
    TooFewDataPoints,
    /// A judge of `success_criteria.judges` fired (its kind).
    Judge(&'static str),
}

impl Criterion {
    /// Short name for CSV and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::ErrorRate => "error_rate",
            Criterion::SuccessRate => "success_rate",
            Criterion::LatencyP99 => "latency_p99",
            Criterion::GameCompletion => "game_completion",
            Criterion::BetSuccess => "bet_success",
            Criterion::SessionContinuity => "session_continuity",
            Criterion::GameLatency => "game_latency",
            Criterion::NoData => "no_data",
            Criterion::TooFewRequests => "too_few_requests",
            Criterion::TooFewDataPoints => "too_few_data_points",
            Criterion::Judge(kind) => kind,
        }
    }
}

/// One criterion that the window breaks, with the numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CriterionFailure {
    /// The criterion.
    pub criterion: Criterion,
    /// What the window shows (percent, or milliseconds for latency).
    pub observed: f64,
    /// The limit (same unit).
    pub threshold: f64,
}

/// The result of one check.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// No criterion broken.
    Pass,
    /// Criteria broken with enough requests to act on.
    Fail(Vec<CriterionFailure>),
    /// Criteria broken, but the window holds fewer than `min_request_count`
    /// requests, so the chapter's rule does not act on it.
    Inconclusive(Vec<CriterionFailure>),
}

/// Judges `window` against `criteria`. As in the chapter, a check fails only
/// when some criterion is broken and the window holds at least
/// `min_request_count` requests; with fewer, it is inconclusive. An empty
/// window is inconclusive too: no data is not a pass (dropped scrapes must
/// not promote a release).
pub fn evaluate(criteria: &SuccessCriteria, window: &WindowStats) -> Verdict {
    let mut broken = Vec::new();
    if let (Some(max), Some(rate)) = (criteria.max_error_rate_pct, window.error_rate_pct()) {
        if rate > max {
            broken.push(CriterionFailure {
                criterion: Criterion::ErrorRate,
                observed: rate,
                threshold: max,
            });
        }
    }
    if let (Some(min), Some(rate)) = (criteria.min_success_rate_pct, window.success_rate_pct()) {
        if rate < min {
            broken.push(CriterionFailure {
                criterion: Criterion::SuccessRate,
                observed: rate,
                threshold: min,
            });
        }
    }
    if let (Some(max), Some(p99)) = (criteria.max_latency_p99, window.p99_s) {
        if p99 > max.as_secs_f64() {
            broken.push(CriterionFailure {
                criterion: Criterion::LatencyP99,
                observed: p99 * 1000.0,
                threshold: max.as_millis_f64(),
            });
        }
    }
    verdict_of(broken, window.requests, criteria.min_request_count)
}

/// The chapter's verdict on the criteria a window of `requests` breaks:
/// inconclusive with no requests at all, a pass with nothing broken, a
/// failure with at least `min_requests`, else inconclusive.
pub fn verdict_of(broken: Vec<CriterionFailure>, requests: u64, min_requests: u64) -> Verdict {
    if requests == 0 {
        Verdict::Inconclusive(vec![CriterionFailure {
            criterion: Criterion::TooFewRequests,
            observed: 0.0,
            threshold: min_requests.max(1) as f64,
        }])
    } else if broken.is_empty() {
        Verdict::Pass
    } else if requests >= min_requests {
        Verdict::Fail(broken)
    } else {
        Verdict::Inconclusive(broken)
    }
}

/// The gaming criteria a window of the new version's games breaks (the
/// chapter's `monitor_gaming_metrics`). A window in which fewer than
/// `min_games` games ended breaks nothing: too few games to judge.
pub fn game_failures(c: &GameCriteria, games: &GameCounters) -> Vec<CriterionFailure> {
    let mut broken = Vec::new();
    if games.games_ended() < c.min_games.max(1) {
        return broken;
    }
    let mut below = |criterion, min: Option<f64>, value: Option<f64>| {
        if let (Some(min), Some(v)) = (min, value) {
            if v < min {
                broken.push(CriterionFailure {
                    criterion,
                    observed: v,
                    threshold: min,
                });
            }
        }
    };
    below(
        Criterion::GameCompletion,
        c.min_game_completion_pct,
        games.completion_pct(),
    );
    below(Criterion::BetSuccess, c.min_bet_success_pct, games.bet_success_pct());
    below(
        Criterion::SessionContinuity,
        c.min_session_continuity_pct,
        games.session_continuity_pct(),
    );
    if let (Some(max), Some(ms)) = (c.max_game_latency, games.avg_latency_ms()) {
        if ms > max.as_millis_f64() {
            broken.push(CriterionFailure {
                criterion: Criterion::GameLatency,
                observed: ms,
                threshold: max.as_millis_f64(),
            });
        }
    }
    broken
}

/// A request verdict with the gaming criteria's failures added: any gaming
/// failure fails the check (it already had enough games to judge).
pub fn with_game_failures(verdict: Verdict, games: Vec<CriterionFailure>) -> Verdict {
    if games.is_empty() {
        return verdict;
    }
    let mut all = match verdict {
        Verdict::Pass => Vec::new(),
        Verdict::Fail(f) | Verdict::Inconclusive(f) => f,
    };
    all.extend(games);
    Verdict::Fail(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    fn criteria() -> SuccessCriteria {
        SuccessCriteria {
            max_error_rate_pct: Some(1.0),
            min_success_rate_pct: Some(98.0),
            max_latency_p99: Some(SimDuration::from_millis(500)),
            min_request_count: 200,
            evaluation_window: SimDuration::from_secs(60),
            games: None,
            judges: vec![],
        }
    }

    fn window(requests: u64, errors: u64, p99_s: Option<f64>) -> WindowStats {
        WindowStats {
            requests,
            errors,
            buckets: vec![],
            p99_s,
            games: Default::default(),
        }
    }

    #[test]
    fn passes_within_limits() {
        assert_eq!(evaluate(&criteria(), &window(1000, 10, Some(0.2))), Verdict::Pass);
    }

    #[test]
    fn threshold_is_strict() {
        // Exactly 1% is not above 1%.
        assert_eq!(evaluate(&criteria(), &window(200, 2, None)), Verdict::Pass);
        assert!(matches!(evaluate(&criteria(), &window(200, 3, None)), Verdict::Fail(_)));
    }

    #[test]
    fn reports_every_broken_criterion() {
        let Verdict::Fail(f) = evaluate(&criteria(), &window(1000, 50, Some(0.9))) else {
            panic!("expected a failure")
        };
        let names: Vec<_> = f.iter().map(|x| x.criterion).collect();
        assert_eq!(
            names,
            vec![Criterion::ErrorRate, Criterion::SuccessRate, Criterion::LatencyP99]
        );
        assert!((f[0].observed - 5.0).abs() < 1e-12);
        assert!((f[2].observed - 900.0).abs() < 1e-9);
    }

    fn chapter_games() -> GameCriteria {
        GameCriteria {
            min_game_completion_pct: Some(95.0),
            min_bet_success_pct: Some(99.0),
            min_session_continuity_pct: Some(98.0),
            max_game_latency: Some(SimDuration::from_millis(200)),
            min_games: 5,
            window: SimDuration::from_secs(300),
        }
    }

    #[test]
    fn gaming_criteria_use_the_chapter_thresholds() {
        let ok = GameCounters {
            completed: 19,
            failed: 1,
            bets_settled: 99,
            bets_failed: 1,
            sessions_kept: 98,
            sessions_dropped: 2,
            ops: 10,
            op_latency_us: 2_000_000,
        };
        // Exactly at every limit: nothing broken.
        assert!(game_failures(&chapter_games(), &ok).is_empty());
        let bad = GameCounters {
            completed: 18,
            bets_failed: 2,
            sessions_dropped: 3,
            op_latency_us: 2_000_010,
            ..ok
        };
        let names: Vec<_> = game_failures(&chapter_games(), &bad)
            .iter()
            .map(|f| f.criterion)
            .collect();
        assert_eq!(
            names,
            vec![
                Criterion::GameCompletion,
                Criterion::BetSuccess,
                Criterion::SessionContinuity,
                Criterion::GameLatency
            ]
        );
        // Four games ended: too few to judge.
        let few = GameCounters {
            completed: 0,
            failed: 4,
            ..bad
        };
        assert!(game_failures(&chapter_games(), &few).is_empty());
    }

    #[test]
    fn a_gaming_failure_fails_even_a_thin_request_window() {
        let f = game_failures(
            &chapter_games(),
            &GameCounters {
                failed: 5,
                ..GameCounters::default()
            },
        );
        let v = with_game_failures(evaluate(&criteria(), &window(10, 0, None)), f);
        assert!(matches!(v, Verdict::Fail(ref x) if x[0].criterion == Criterion::GameCompletion));
        assert_eq!(with_game_failures(Verdict::Pass, vec![]), Verdict::Pass);
    }

    #[test]
    fn too_few_requests_is_inconclusive() {
        assert!(matches!(
            evaluate(&criteria(), &window(199, 100, None)),
            Verdict::Inconclusive(_)
        ));
        // Under the minimum but nothing broken: the chapter passes it.
        assert_eq!(evaluate(&criteria(), &window(150, 0, Some(0.1))), Verdict::Pass);
    }

    #[test]
    fn an_empty_window_is_inconclusive_not_a_pass() {
        let v = evaluate(&criteria(), &window(0, 0, None));
        assert!(
            matches!(&v, Verdict::Inconclusive(f) if f[0].criterion == Criterion::TooFewRequests),
            "{v:?}"
        );
    }
}
