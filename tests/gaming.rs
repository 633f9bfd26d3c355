//! Gaming-aware deployments (the chapter's BitCraps): no live game is moved
//! or stopped by the gaming-aware path, bets are conserved, a rollback
//! brings back every game it had to, and the numbers agree with the
//! probabilities that set them.
//!
//! Every run here checks the invariants after every event (debug builds do),
//! including `games_kept_safe`: a game moved in Rolling or Payout (or in
//! Betting with more than the cutoff left), an instance stopped under a game
//! in Rolling or Payout, a live game on an instance that is gone, or a bet
//! ledger that does not balance stops the run with a violation.

mod common;

use deploysim::engine::SimDuration;
use deploysim::record::{GamingOutcome, Summary};
use deploysim::scenario::{self, GameMetric, Scenario, StrategySpec, TriggerKind, TriggerScope, TriggerSpec};
use deploysim::sim::{run, RunOptions};
use std::path::Path;

const SCENARIOS: [&str; 4] = [
    "bitcraps/gaming-canary-good.toml",
    "bitcraps/gaming-canary-bad.toml",
    "bitcraps/gaming-blue-green-good.toml",
    "bitcraps/gaming-blue-green-bad.toml",
];

fn checked(s: &Scenario, seed: u64) -> Summary {
    let opts = RunOptions {
        check_invariants: true,
        keep_detail: false,
        ..RunOptions::default()
    };
    run(s, seed, opts)
        .unwrap_or_else(|v| panic!("{} seed {seed}: {v}", s.name))
        .summary
}

fn games(s: &Summary) -> GamingOutcome {
    s.gaming.expect("a gaming scenario")
}

fn plain(mut s: Scenario) -> Scenario {
    s.gaming.as_mut().unwrap().aware = false;
    s
}

#[test]
fn the_gaming_aware_path_never_moves_or_stops_a_live_game_and_loses_no_bet() {
    let (mut held_or_moved, mut runs) = (0, 0);
    for name in SCENARIOS {
        let s = common::load(name);
        assert!(s.gaming.as_ref().unwrap().aware, "{name} takes the gaming-aware path");
        for seed in 0..25 {
            let g = games(&checked(&s, seed));
            let t = g.totals;
            assert_eq!(t.bets.lost, 0, "{name} seed {seed}");
            assert_eq!(t.games_lost, 0, "{name} seed {seed}");
            assert_eq!(t.drain_timeouts, 0, "{name} seed {seed}");
            held_or_moved += t.games_migrated;
            runs += 1;
        }
    }
    // The drain had work to do: the check above was not vacuous.
    assert!(held_or_moved > runs, "{held_or_moved} games moved in {runs} runs");
}

#[test]
fn the_plain_path_loses_games_and_bets_where_the_aware_path_loses_none() {
    let (mut lost_games, mut lost_bets, mut dropped) = (0, 0, 0);
    for name in SCENARIOS {
        let aware = common::load(name);
        let s = plain(aware.clone());
        for seed in 0..10 {
            let p = games(&checked(&s, seed)).totals;
            let a = games(&checked(&aware, seed)).totals;
            assert_eq!(
                p.games_migrated, 0,
                "{name} seed {seed}: the plain path never moves a game"
            );
            lost_games += p.games_lost;
            lost_bets += p.bets.lost;
            dropped += p.sessions_dropped.saturating_sub(a.sessions_dropped);
            assert_eq!(a.bets.lost, 0, "{name} seed {seed}");
        }
    }
    assert!(
        lost_games > 0 && lost_bets > 0 && dropped > 0,
        "{lost_games} {lost_bets} {dropped}"
    );
}

#[test]
fn bets_are_conserved_and_crashed_games_are_restored_from_their_backup() {
    // Instances crash at random (mean time between failures 20 minutes per
    // instance): without a backup their games and open bets are gone; with
    // one, every game is restored elsewhere and its open bets reconciled.
    let path = common::scenario_path("bitcraps/gaming-canary-good.toml");
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n[[faults]]\nkind = \"instance_crashes\"\nat = \"5m\"\nduration = \"1h\"\nmtbf = \"20m\"\n";
    let aware = scenario::parse(&path, &text, "crashes").unwrap();
    let s = plain(aware.clone());
    let (mut reconciled, mut restored, mut lost) = (0, 0, 0);
    for seed in 0..10 {
        for (sc, is_aware) in [(&aware, true), (&s, false)] {
            let t = games(&checked(sc, seed)).totals;
            let b = t.bets;
            assert_eq!(
                b.placed,
                b.settled + b.refunded + b.reconciled + b.lost + b.open,
                "seed {seed}"
            );
            if is_aware {
                assert_eq!((b.lost, t.games_lost), (0, 0), "seed {seed}");
                assert_eq!(t.games_restored, t.games_disrupted, "seed {seed}");
                reconciled += b.reconciled;
                restored += t.games_restored;
            } else {
                assert_eq!(t.games_restored, 0);
                lost += b.lost;
            }
        }
    }
    assert!(
        reconciled > 0 && restored > 0 && lost > 0,
        "{reconciled} {restored} {lost}"
    );
}

#[test]
fn a_rollback_brings_back_every_game_that_was_on_the_new_version() {
    for name in ["bitcraps/gaming-canary-bad.toml", "bitcraps/gaming-blue-green-bad.toml"] {
        let aware = common::load(name);
        let s = plain(aware.clone());
        let (mut to_recover, mut plain_missing) = (0, 0);
        for seed in 0..15 {
            let a = checked(&aware, seed);
            assert!(a.rollback_performed, "{name} seed {seed}");
            let (n, through) = games(&a).recovery.expect("a rollback");
            assert_eq!(n, through, "{name} seed {seed}: every game came through");
            to_recover += n;
            let (n, through) = games(&checked(&s, seed)).recovery.expect("a rollback");
            plain_missing += n - through;
        }
        assert!(to_recover > 0, "{name}: games were on the new version at the rollback");
        assert!(
            plain_missing > 0,
            "{name}: the plain path loses some (the check can fail)"
        );
    }
}

#[test]
fn game_arrivals_and_completions_match_their_probabilities() {
    // No rollout for 10 hours: games arrive as a Poisson process at 30 a
    // minute (mean and variance 18,000: 4 sd is 537), play exactly 3 rounds,
    // and each roll and each payout fails with p = 2%. A game completes when
    // all 6 succeed: (1 - p)^6 = 0.88584; a placed bet settles when its
    // round's roll and payout succeed: (1 - p)^2 = 0.9604.
    let s = common::parse(
        r#"
fidelity = "aggregate"
[simulation]
max_duration = "10h"
[fleet]
instances = 4
[traffic]
rate_rps = 10
[stable]
version = "v1"
game_error_rate_pct = 2
[release]
version = "v2"
quality = "good"
[gaming]
games_per_minute = 30
players_min = 2
players_max = 6
rounds_min = 3
rounds_max = 3
[strategy]
kind = "none"
"#,
    );
    let p: f64 = 0.02;
    let t = games(&checked(&s, 11)).totals;
    let expected = 30.0 * 600.0;
    assert!(
        (t.games_started as f64 - expected).abs() < 4.0 * expected.sqrt(),
        "{}",
        t.games_started
    );
    let ended = (t.games_completed + t.games_failed) as f64;
    let q = (1.0 - p).powi(6);
    let share = t.games_completed as f64 / ended;
    // 4 binomial standard deviations.
    let tol = 4.0 * (q * (1.0 - q) / ended).sqrt();
    assert!((share - q).abs() < tol, "completion {share} vs {q} +- {tol}");
    let resolved = (t.bets.settled + t.bets.refunded) as f64;
    let q = (1.0 - p).powi(2);
    let settled = t.bets.settled as f64 / resolved;
    // Bets of one round share their game's fate, so the effective sample
    // is the number of rounds (about a quarter of the bets with 2-6
    // players): the tolerance uses that.
    let tol = 4.0 * (q * (1.0 - q) / (resolved / 4.0)).sqrt();
    assert!((settled - q).abs() < tol, "settled {settled} vs {q} +- {tol}");
    assert_eq!(t.bets.lost, 0);
    assert_eq!(t.players_harmed, 0, "no rollout, nobody harmed by one");
}

#[test]
fn gaming_metrics_work_as_rollback_triggers() {
    // The bad canary without gaming criteria, but with a game-completion
    // trigger on the new version: the trigger catches the bug instead.
    let mut s = common::load("bitcraps/gaming-canary-bad.toml");
    let StrategySpec::Canary(spec) = &mut s.strategy else {
        panic!("a canary")
    };
    spec.criteria.games = None;
    s.rollback.triggers.push(TriggerSpec {
        kind: TriggerKind::Game {
            metric: GameMetric::Completion,
            threshold: 95.0,
            window: SimDuration::from_secs(300),
        },
        scope: TriggerScope::New,
        min_request_count: 10,
    });
    let m = checked(&s, 3);
    assert_eq!(
        m.trigger.as_ref().expect("rolled back").name(),
        "trigger:game_completion"
    );
    // Without the trigger nothing sees the bug: requests are healthy.
    s.rollback.triggers.clear();
    assert!(!checked(&s, 3).rollback_performed);
}

fn rejected(text: &str) -> String {
    match scenario::parse(Path::new("inline.toml"), text, "inline") {
        Ok(_) => panic!("accepted"),
        Err(errors) => errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"),
    }
}

#[test]
fn gaming_aware_rolling_and_games_without_a_gaming_table_are_clear_errors() {
    let base = "[fleet]\ninstances = 4\n[traffic]\nrate_rps = 10\n[release]\nversion = \"v2\"\nquality = \"good\"\n";
    let e = rejected(&format!(
        "{base}[gaming]\naware = true\n[strategy]\nkind = \"rolling\"\n"
    ));
    assert!(e.contains("gaming.aware"), "{e}");
    assert!(e.contains("\"canary\" or \"blue_green\""), "{e}");
    let e = rejected(&format!(
        "{base}[gaming]\naware = true\n[strategy]\nkind = \"recreate\"\n"
    ));
    assert!(e.contains("recreate"), "{e}");
    let e = rejected(&format!(
        "{base}[strategy]\nkind = \"none\"\n[[rollback.triggers]]\nkind = \"bet_success\"\nbelow_pct = 99\n"
    ));
    assert!(e.contains("rollback.triggers[0].kind") && e.contains("[gaming]"), "{e}");
    let e = rejected(&format!(
        "{base}[stable]\ngame_error_rate_pct = 1\n[strategy]\nkind = \"none\"\n"
    ));
    assert!(e.contains("stable.game_error_rate_pct"), "{e}");
    let e = rejected(&format!(
        "{base}[gaming]\nplayers_min = 5\nplayers_max = 2\nrolling = \"0s\"\n[strategy]\nkind = \"none\"\n"
    ));
    assert!(e.contains("gaming.players_max") && e.contains("gaming.rolling"), "{e}");
    // Plain games go with any strategy.
    common::parse(&format!(
        "{base}[gaming]\naware = false\n[strategy]\nkind = \"rolling\"\nbatch_size = 1\n"
    ));
}

fn events(s: &Scenario, seed: u64) -> Vec<(deploysim::engine::SimTime, deploysim::record::SimEvent)> {
    run(s, seed, RunOptions::default())
        .unwrap_or_else(|v| panic!("{} seed {seed}: {v}", s.name))
        .events
}

#[test]
fn the_drain_timeout_runs_from_the_stop_time_not_the_stop_request() {
    // Stops take 3 minutes and the drain may add 10 s: no game may be given
    // up before the instance's stop time is over.
    use deploysim::model::world::{GameChange, WorldChange};
    use deploysim::record::SimEvent;
    let mut s = common::load("bitcraps/gaming-canary-bad.toml");
    s.fleet.stop_time = deploysim::model::dist::DurationDist::Fixed(SimDuration::from_secs(180));
    s.gaming.as_mut().unwrap().drain_timeout = SimDuration::from_secs(10);
    for seed in 0..5 {
        let ev = events(&s, seed);
        let stop = ev
            .iter()
            .find(|(_, e)| {
                matches!(
                    e,
                    SimEvent::World(WorldChange::Scaled {
                        version: deploysim::model::Version::New,
                        to: 0,
                        ..
                    })
                )
            })
            .map(|(t, _)| *t)
            .expect("the rollback scales the canary down");
        for (t, e) in &ev {
            if matches!(
                e,
                SimEvent::World(WorldChange::Game(
                    GameChange::DrainTimedOut { .. } | GameChange::Restored { .. }
                ))
            ) {
                assert!(*t >= stop + SimDuration::from_secs(190), "seed {seed}: {e:?} at {t}");
            }
        }
    }
}

#[test]
fn a_rollback_drains_games_to_stable_and_a_zone_outage_restores_each_game_once() {
    use deploysim::model::world::{GameChange, WorldChange};
    use deploysim::model::Version;
    use deploysim::record::SimEvent;
    // Blue-green promoted, then rolled back batch by batch by an operator:
    // every game moved during the rollback goes to stable.
    let path = common::scenario_path("bitcraps/gaming-blue-green-good.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "[rollback]\nrecovery = \"blue_green_switch\"\n",
        "[rollback]\nrecovery = \"rolling_rollback\"\nrecovery_batch_size = 2\npost_deploy_monitoring = \"30m\"\n\
         [[rollback.triggers]]\nkind = \"manual\"\nat = \"30m\"\n",
    );
    let s = scenario::parse(&path, &text, "rr").unwrap();
    let ev = events(&s, 1);
    let moved_to: Vec<Version> = ev
        .iter()
        .filter(|(t, _)| *t >= deploysim::engine::SimTime::from_secs(1800))
        .filter_map(|(_, e)| match e {
            SimEvent::World(WorldChange::Game(GameChange::Migrated { to, .. })) => Some(to.0),
            _ => None,
        })
        .collect();
    assert!(!moved_to.is_empty());
    assert!(moved_to.iter().all(|v| *v == Version::Stable), "{moved_to:?}");
    // Half the fleet fails at once mid-rollout: each disrupted game is
    // restored once, onto an instance that survives.
    let path = common::scenario_path("bitcraps/gaming-canary-good.toml");
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n[[faults]]\nkind = \"zone_outage\"\nzones = 2\nzone = 0\nat = \"8m\"\nduration = \"3m\"\n";
    let s = scenario::parse(&path, &text, "zone").unwrap();
    for seed in 0..5 {
        let t = games(&checked(&s, seed)).totals;
        assert!(t.games_disrupted > 0, "seed {seed}");
        assert_eq!((t.games_restored, t.games_lost), (t.games_disrupted, 0), "seed {seed}");
        // No game is restored onto an instance of the failing zone (it would
        // be restored a second time in the same instant).
        let mut restored: Vec<u32> = events(&s, seed)
            .iter()
            .filter_map(|(_, e)| match e {
                SimEvent::World(WorldChange::Game(GameChange::Restored { game, .. })) => Some(*game),
                _ => None,
            })
            .collect();
        let n = restored.len();
        restored.sort_unstable();
        restored.dedup();
        assert_eq!(restored.len(), n, "seed {seed}: a game restored twice");
    }
}
