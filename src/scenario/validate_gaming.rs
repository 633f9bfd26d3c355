//! Validation of `[gaming]`: the game workload, the gaming-aware path (only
//! for the strategies the chapter gives it: canary and blue-green) and the
//! gaming criteria and triggers, which need games to judge.

use super::raw::RawScenario;
use super::types::*;
use super::validate::{limits, show, Checker};
use crate::engine::SimDuration;
use crate::model::dist::DurationDist;
use crate::model::games::{GameCriteria, GamingSpec};

/// Validates `[gaming]`, hands its criteria to the strategy's checks, and
/// rejects gaming triggers without games.
pub(super) fn validate_gaming(
    c: &mut Checker,
    raw: &RawScenario,
    sim: &SimulationSpec,
    strategy: &mut StrategySpec,
    rollback: &mut RollbackSpec,
) -> Option<GamingSpec> {
    let Some(g) = raw.gaming.as_ref() else {
        for (i, t) in rollback.triggers.iter().enumerate() {
            if let TriggerKind::Game { metric, .. } = t.kind {
                c.fail(
                    &format!("rollback.triggers[{i}].kind"),
                    format!("\"{}\" watches games, and there are none", metric.as_str()),
                    "a [gaming] table, or a trigger kind that watches requests",
                );
            }
        }
        return None;
    };
    let games_per_minute = c.number("gaming.games_per_minute", g.games_per_minute, 10.0, 0.0, 100_000.0);
    let players_min = c.count("gaming.players_min", g.players_min, 2, 1, 100) as u32;
    let players_max = c.count(
        "gaming.players_max",
        g.players_max,
        i64::from(players_min).max(6),
        1,
        100,
    ) as u32;
    if players_max < players_min && !c.failed("gaming.players_min") {
        c.fail(
            "gaming.players_max",
            format!("{players_max} is below players_min ({players_min})"),
            "players_max >= players_min",
        );
    }
    let rounds_min = c.count("gaming.rounds_min", g.rounds_min, 1, 1, 1000) as u32;
    let rounds_max = c.count("gaming.rounds_max", g.rounds_max, i64::from(rounds_min).max(3), 1, 1000) as u32;
    if rounds_max < rounds_min && !c.failed("gaming.rounds_min") {
        c.fail(
            "gaming.rounds_max",
            format!("{rounds_max} is below rounds_min ({rounds_min})"),
            "rounds_max >= rounds_min",
        );
    }
    let waiting = c.dist("gaming.waiting", g.waiting.as_ref(), SimDuration::from_secs(20));
    let betting = c.dist("gaming.betting", g.betting.as_ref(), SimDuration::from_secs(45));
    let rolling = c.dist("gaming.rolling", g.rolling.as_ref(), SimDuration::from_secs(5));
    let payout = c.dist("gaming.payout", g.payout.as_ref(), SimDuration::from_secs(3));
    // A phase of zero length would let a game loop at one instant.
    for (name, d) in [
        ("waiting", &waiting),
        ("betting", &betting),
        ("rolling", &rolling),
        ("payout", &payout),
    ] {
        if matches!(d, DurationDist::Fixed(x) if *x == SimDuration::ZERO) {
            c.fail(
                &format!("gaming.{name}"),
                "must be longer than zero",
                "a positive duration such as \"5s\", or a distribution",
            );
        }
    }
    let total = games_per_minute / 60.0 * sim.max_duration.as_secs_f64();
    if total > limits::MAX_GAMES {
        c.fail(
            "gaming.games_per_minute",
            format!(
                "{} games a minute over {} starts {total:.2e} games",
                show(games_per_minute),
                sim.max_duration
            ),
            format!(
                "at most {:.0e} games per run: fewer games a minute or a shorter run",
                limits::MAX_GAMES
            ),
        );
    }
    // Each game costs a few events and draws per operation: bound the
    // operations (at the most players and rounds) as well as the games.
    let ops = total * f64::from(rounds_max.max(rounds_min)) * f64::from(players_max.max(players_min) + 2);
    if total <= limits::MAX_GAMES && ops > limits::MAX_GAME_OPERATIONS {
        c.fail(
            "gaming.rounds_max",
            format!(
                "{total:.2e} games of up to {} rounds of {} bets, a roll and a payout make {ops:.2e} game operations",
                rounds_max.max(rounds_min),
                players_max.max(players_min)
            ),
            format!(
                "at most {:.0e} game operations per run: fewer games, rounds or players, or a shorter run",
                limits::MAX_GAME_OPERATIONS
            ),
        );
    }
    let aware = g.aware.unwrap_or(false);
    if aware
        && !matches!(
            strategy,
            StrategySpec::Canary(_) | StrategySpec::BlueGreen(_) | StrategySpec::None
        )
    {
        c.fail(
            "gaming.aware",
            format!(
                "the gaming-aware path does not support strategy.kind = \"{}\"",
                strategy.kind()
            ),
            "strategy.kind = \"canary\" or \"blue_green\" (as the chapter), or aware = false for plain games",
        );
    }
    let criteria = g.criteria.as_ref().map(|cr| GameCriteria {
        min_game_completion_pct: Some(c.pct(
            "gaming.criteria.min_game_completion_pct",
            cr.min_game_completion_pct,
            95.0,
        )),
        min_bet_success_pct: Some(c.pct("gaming.criteria.min_bet_success_pct", cr.min_bet_success_pct, 99.0)),
        min_session_continuity_pct: Some(c.pct(
            "gaming.criteria.min_session_continuity_pct",
            cr.min_session_continuity_pct,
            98.0,
        )),
        max_game_latency: Some(c.positive_duration(
            "gaming.criteria.max_game_latency",
            cr.max_game_latency.as_ref(),
            SimDuration::from_millis(200),
        )),
        min_games: c.count("gaming.criteria.min_games", cr.min_games, 5, 0, 1_000_000_000) as u64,
        window: c.positive_duration(
            "gaming.criteria.window",
            cr.window.as_ref(),
            SimDuration::from_secs(300),
        ),
    });
    if criteria.is_some() {
        match strategy {
            StrategySpec::Canary(spec) => spec.criteria.games = criteria.clone(),
            StrategySpec::BlueGreen(spec) => spec.games = criteria.clone(),
            other => c.fail(
                "gaming.criteria",
                format!(
                    "strategy.kind = \"{}\" runs no checks to add gaming criteria to",
                    other.kind()
                ),
                "strategy.kind = \"canary\" or \"blue_green\", or gaming rollback triggers instead",
            ),
        }
    }
    Some(GamingSpec {
        aware,
        games_per_minute,
        players: (players_min, players_max.max(players_min)),
        rounds: (rounds_min, rounds_max.max(rounds_min)),
        waiting,
        betting,
        rolling,
        payout,
        migration_cutoff: c.duration(
            "gaming.migration_cutoff",
            g.migration_cutoff.as_ref(),
            SimDuration::from_secs(30),
        ),
        drain_timeout: c.positive_duration(
            "gaming.drain_timeout",
            g.drain_timeout.as_ref(),
            SimDuration::from_secs(600),
        ),
        criteria,
    })
}
