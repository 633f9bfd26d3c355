//! Games of a real-time dice game (the chapter's BitCraps) as entities on
//! instances: phases, players with sessions, bets and the ledger that keeps
//! them honest. This module holds the data and the pure decisions; the world
//! (`world_games.rs`) moves games through time and across instances.
//!
//! A game waits for players, then plays rounds of Betting (until the betting
//! deadline), Rolling and Payout. Bets are placed in Betting and settled at
//! the end of Payout. Every game step is an operation on the instance the game
//! lives on, so it fails and is slow as that instance's requests are.

use super::dist::DurationDist;
use super::instance::InstanceId;
use crate::engine::{SimDuration, SimTime};

/// A game's phase, as in the chapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GamePhase {
    /// Players gathering; nothing at stake.
    Waiting,
    /// Bets being placed until the betting deadline.
    Betting,
    /// The dice are rolling.
    Rolling,
    /// Winnings being paid out.
    Payout,
}

impl GamePhase {
    /// Lower-case name for traces and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            GamePhase::Waiting => "waiting",
            GamePhase::Betting => "betting",
            GamePhase::Rolling => "rolling",
            GamePhase::Payout => "payout",
        }
    }
}

/// What the gaming-aware path does with a live game whose instance must go,
/// the chapter's `GameHandlingStrategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handling {
    /// Move the game now: nothing is in flight that a move could break.
    AllowMigration,
    /// Keep it where it is until the roll and its payout are over.
    WaitForRoll,
    /// Keep it where it is until the round is complete.
    WaitForCompletion,
}

impl Handling {
    /// Name for traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Handling::AllowMigration => "allow_migration",
            Handling::WaitForRoll => "wait_for_roll",
            Handling::WaitForCompletion => "wait_for_completion",
        }
    }
}

/// The chapter's rule: Waiting moves; Betting waits for the roll while the
/// betting deadline is more than `cutoff` away, else moves; Rolling and
/// Payout wait for completion.
pub fn handling(phase: GamePhase, betting_deadline: SimTime, now: SimTime, cutoff: SimDuration) -> Handling {
    match phase {
        GamePhase::Waiting => Handling::AllowMigration,
        GamePhase::Betting if betting_deadline.saturating_since(now) > cutoff => Handling::WaitForRoll,
        GamePhase::Betting => Handling::AllowMigration,
        GamePhase::Rolling | GamePhase::Payout => Handling::WaitForCompletion,
    }
}

/// The gaming success criteria (the chapter's `monitor_gaming_metrics`),
/// judged on the new version's games over the check window.
#[derive(Clone, Debug, PartialEq)]
pub struct GameCriteria {
    /// Fail below this share of games completed, percent (chapter: 95).
    pub min_game_completion_pct: Option<f64>,
    /// Fail below this share of bets settled, percent (chapter: 99).
    pub min_bet_success_pct: Option<f64>,
    /// Fail below this share of sessions kept, percent (chapter: 98).
    pub min_session_continuity_pct: Option<f64>,
    /// Fail above this average latency of game operations (chapter: 200 ms).
    pub max_game_latency: Option<SimDuration>,
    /// Judge only windows in which at least this many games ended.
    pub min_games: u64,
    /// The window the gaming criteria are judged over (the chapter monitors
    /// for 300 s).
    pub window: SimDuration,
}

/// `[gaming]`: the game workload and the gaming-aware rollout.
#[derive(Clone, Debug, PartialEq)]
pub struct GamingSpec {
    /// Use the gaming-aware path: back up and escrow at the start, route
    /// by the chapter's rules, drain instead of stopping live games, restore
    /// and reconcile instead of losing them.
    pub aware: bool,
    /// New games per minute (a Poisson process).
    pub games_per_minute: f64,
    /// Players per game, uniform between these (inclusive).
    pub players: (u32, u32),
    /// Rounds per game, uniform between these (inclusive).
    pub rounds: (u32, u32),
    /// How long a game waits for players.
    pub waiting: DurationDist,
    /// How long betting stays open; its end is the betting deadline.
    pub betting: DurationDist,
    /// How long the roll takes.
    pub rolling: DurationDist,
    /// How long the payout takes.
    pub payout: DurationDist,
    /// Betting games whose deadline is further than this wait for the roll
    /// (chapter: 30 s).
    pub migration_cutoff: SimDuration,
    /// A stopping instance holding live games stops anyway after this.
    pub drain_timeout: SimDuration,
    /// The gaming success criteria for canary checks and blue-green
    /// validation; `None` when the scenario sets none.
    pub criteria: Option<GameCriteria>,
}

/// Cumulative game counters of one version, scraped with the request
/// counters so gaming criteria and triggers see windows as PromQL would.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GameCounters {
    /// Games that played every round.
    pub completed: u64,
    /// Games that ended without finishing (an operation failed, or their
    /// instance went away with no backup to restore from).
    pub failed: u64,
    /// Bets settled at a payout.
    pub bets_settled: u64,
    /// Bets that did not settle: rejected, refunded after a failed game, or
    /// lost.
    pub bets_failed: u64,
    /// Player sessions that ended with their game, or were carried over.
    pub sessions_kept: u64,
    /// Player sessions cut off.
    pub sessions_dropped: u64,
    /// Game operations (bets, rolls, payouts).
    pub ops: u64,
    /// Their summed latency, microseconds.
    pub op_latency_us: u64,
}

impl GameCounters {
    /// `self - earlier`, counter by counter.
    pub fn since(&self, e: &GameCounters) -> GameCounters {
        GameCounters {
            completed: self.completed - e.completed,
            failed: self.failed - e.failed,
            bets_settled: self.bets_settled - e.bets_settled,
            bets_failed: self.bets_failed - e.bets_failed,
            sessions_kept: self.sessions_kept - e.sessions_kept,
            sessions_dropped: self.sessions_dropped - e.sessions_dropped,
            ops: self.ops - e.ops,
            op_latency_us: self.op_latency_us - e.op_latency_us,
        }
    }

    /// Counter by counter sum.
    pub fn plus(&self, o: &GameCounters) -> GameCounters {
        GameCounters {
            completed: self.completed + o.completed,
            failed: self.failed + o.failed,
            bets_settled: self.bets_settled + o.bets_settled,
            bets_failed: self.bets_failed + o.bets_failed,
            sessions_kept: self.sessions_kept + o.sessions_kept,
            sessions_dropped: self.sessions_dropped + o.sessions_dropped,
            ops: self.ops + o.ops,
            op_latency_us: self.op_latency_us + o.op_latency_us,
        }
    }

    /// Games that ended, either way.
    pub fn games_ended(&self) -> u64 {
        self.completed + self.failed
    }

    /// Percent of ended games that completed; `None` when none ended.
    pub fn completion_pct(&self) -> Option<f64> {
        pct(self.completed, self.games_ended())
    }

    /// Percent of resolved bets that settled; `None` when none resolved.
    pub fn bet_success_pct(&self) -> Option<f64> {
        pct(self.bets_settled, self.bets_settled + self.bets_failed)
    }

    /// Percent of ended sessions that were not cut off.
    pub fn session_continuity_pct(&self) -> Option<f64> {
        pct(self.sessions_kept, self.sessions_kept + self.sessions_dropped)
    }

    /// Mean latency of game operations, milliseconds.
    pub fn avg_latency_ms(&self) -> Option<f64> {
        (self.ops > 0).then(|| self.op_latency_us as f64 / self.ops as f64 / 1000.0)
    }
}

fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// The bet ledger of a whole run. Every bet placed ends in exactly one of
/// the other buckets or is still open, which the invariant checker verifies
/// after every event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BetLedger {
    /// Bets accepted.
    pub placed: u64,
    /// Bets rejected when placed (the operation failed); not in `placed`.
    pub rejected: u64,
    /// Bets paid out.
    pub settled: u64,
    /// Bets returned because their game failed.
    pub refunded: u64,
    /// Bets returned from the escrow when their game had to be given up and
    /// was restored from its backup.
    pub reconciled: u64,
    /// Bets that vanished with their instance (no backup, no escrow).
    pub lost: u64,
    /// Bets in games still being played.
    pub open: u64,
}

impl BetLedger {
    /// Whether placed = settled + refunded + reconciled + lost + open.
    pub fn balances(&self) -> bool {
        self.placed == self.settled + self.refunded + self.reconciled + self.lost + self.open
    }
}

/// What the games of one run came to: the summary's gaming columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GamingTotals {
    /// Games created.
    pub games_started: u64,
    /// Games that played every round.
    pub games_completed: u64,
    /// Games that failed (an operation failed or their instance was lost).
    pub games_failed: u64,
    /// Games whose instance went away under them mid-game, whether or not
    /// they were restored (each game once).
    pub games_disrupted: u64,
    /// Games moved by the gaming-aware drain while it was safe to move them.
    pub games_migrated: u64,
    /// Games restored from their backup after a disruption (each game once).
    pub games_restored: u64,
    /// Games that went with their instance (disrupted and not restored).
    pub games_lost: u64,
    /// Games backed up (at the prepare step, or when created after it).
    pub games_backed_up: u64,
    /// Stopping instances that hit the drain timeout with games on them.
    pub drain_timeouts: u64,
    /// The bets.
    pub bets: BetLedger,
    /// Player sessions opened (one per player per game).
    pub sessions: u64,
    /// Player sessions cut off.
    pub sessions_dropped: u64,
    /// Players whose session was cut off or whose game failed, from the
    /// rollout's start on: the blast radius in players.
    pub players_harmed: u64,
}

impl GamingTotals {
    /// Percent of ended sessions that were not cut off.
    pub fn session_continuity_pct(&self) -> Option<f64> {
        let ended_or_open = self.sessions;
        pct(ended_or_open - self.sessions_dropped, ended_or_open)
    }
}

/// One game.
#[derive(Clone, Debug)]
pub struct Game {
    /// Its number, in creation order.
    pub id: u32,
    /// Where it is played.
    pub instance: InstanceId,
    /// Its phase.
    pub phase: GamePhase,
    /// When the current phase ends (for Betting: the betting deadline).
    pub phase_ends: SimTime,
    /// Bumped whenever the phase-end event is replaced, so stale ones are
    /// ignored.
    pub epoch: u32,
    /// Players (one session each).
    pub players: u32,
    /// Rounds still to play, the current one included.
    pub rounds_left: u32,
    /// Bets placed this round and not yet resolved.
    pub open_bets: u32,
    /// Whether a backup exists (the gaming-aware path made one).
    pub backed_up: bool,
    /// Whether any of its players has been counted as harmed.
    pub harmed: bool,
    /// Still being played.
    pub live: bool,
    /// Went with its instance (no backup, or nowhere to restore it).
    pub lost: bool,
    /// Has had an instance go away under it (counted once).
    pub disrupted: bool,
    /// Has been restored from its backup (counted once).
    pub restored: bool,
}

/// Every game of a run, and where each lives.
#[derive(Clone, Debug, Default)]
pub struct GameFloor {
    /// Every game ever created, by id.
    pub games: Vec<Game>,
    /// Live games per instance slot.
    pub on_instance: Vec<Vec<u32>>,
    /// How many games are live (kept apart from the lists, which the
    /// invariant checker compares it with).
    pub live: u64,
    /// Whole-run totals.
    pub totals: GamingTotals,
    /// The prepare step has run: backups are kept and bets escrowed.
    pub prepared: bool,
    /// When the rollout started (for players harmed).
    pub rollout_started: Option<SimTime>,
    /// Per instance slot: its stop is due but waits for games to finish.
    pub awaiting_drain: Vec<bool>,
    /// A rule the gaming-aware path broke, for the invariant checker.
    pub violation: Option<String>,
    /// Bets lost before the prepare step (a crash before the rollout).
    pub lost_before_prepare: u64,
    /// The games that were on the new version when a rollback began.
    pub to_recover: Option<Vec<u32>>,
}

impl GameFloor {
    /// Tests: a backed-up two-player game in its last round, in `phase`
    /// (ending at t = 100 s), live on `instance`; returns its id.
    #[cfg(test)]
    pub(crate) fn put_test_game(&mut self, instance: InstanceId, phase: GamePhase) -> u32 {
        let id = self.games.len() as u32;
        self.games.push(Game {
            id,
            instance,
            phase,
            phase_ends: SimTime::from_secs(100),
            epoch: 0,
            players: 2,
            rounds_left: 1,
            open_bets: 0,
            backed_up: true,
            harmed: false,
            live: true,
            lost: false,
            disrupted: false,
            restored: false,
        });
        self.attach(id, instance);
        self.live += 1;
        id
    }

    /// Puts game `id` on `instance`.
    pub fn attach(&mut self, id: u32, instance: InstanceId) {
        let i = instance.0 as usize;
        if self.on_instance.len() <= i {
            self.on_instance.resize(i + 1, Vec::new());
        }
        self.on_instance[i].push(id);
        self.games[id as usize].instance = instance;
    }

    /// Takes game `id` off its instance.
    pub fn detach(&mut self, id: u32) {
        let i = self.games[id as usize].instance.0 as usize;
        if let Some(list) = self.on_instance.get_mut(i) {
            list.retain(|&g| g != id);
        }
    }

    /// Live games on `instance`, in creation order.
    pub fn games_on(&self, instance: InstanceId) -> Vec<u32> {
        let mut list = self.on_instance.get(instance.0 as usize).cloned().unwrap_or_default();
        list.sort_unstable();
        list
    }

    /// Whether `instance` holds live games.
    pub fn holds_games(&self, instance: InstanceId) -> bool {
        self.on_instance.get(instance.0 as usize).is_some_and(|l| !l.is_empty())
    }

    /// Forgets an instance that is freed (it holds no games): its slot's
    /// drain flag is cleared, so the instance that reuses the slot starts
    /// with none. The lists are per slot, so they stay as long as the fleet.
    pub fn forget_instance(&mut self, instance: InstanceId) {
        if let Some(flag) = self.awaiting_drain.get_mut(instance.0 as usize) {
            *flag = false;
        }
    }

    /// Of the games on the new version when a rollback began: how many
    /// there were, and how many the rollback brought through (completed or
    /// failed on their own, or playing on stable now; not lost and not left
    /// on the new version). `None` without a rollback.
    pub fn recovery(&self, on_stable: impl Fn(InstanceId) -> bool) -> Option<(u64, u64)> {
        let ids = self.to_recover.as_ref()?;
        let through = ids
            .iter()
            .map(|&id| &self.games[id as usize])
            .filter(|g| if g.live { on_stable(g.instance) } else { !g.lost })
            .count();
        Some((ids.len() as u64, through as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handling_follows_the_chapter() {
        let now = SimTime::from_secs(100);
        let cutoff = SimDuration::from_secs(30);
        let far = SimTime::from_secs(131);
        let near = SimTime::from_secs(130);
        assert_eq!(handling(GamePhase::Waiting, far, now, cutoff), Handling::AllowMigration);
        assert_eq!(handling(GamePhase::Betting, far, now, cutoff), Handling::WaitForRoll);
        // Exactly 30 s is not "more than 30 s".
        assert_eq!(
            handling(GamePhase::Betting, near, now, cutoff),
            Handling::AllowMigration
        );
        assert_eq!(
            handling(GamePhase::Rolling, near, now, cutoff),
            Handling::WaitForCompletion
        );
        assert_eq!(
            handling(GamePhase::Payout, far, now, cutoff),
            Handling::WaitForCompletion
        );
    }

    #[test]
    fn rates_need_data() {
        let c = GameCounters::default();
        assert_eq!(c.completion_pct(), None);
        assert_eq!(c.avg_latency_ms(), None);
        let c = GameCounters {
            completed: 19,
            failed: 1,
            bets_settled: 99,
            bets_failed: 1,
            sessions_kept: 49,
            sessions_dropped: 1,
            ops: 4,
            op_latency_us: 1_000_000,
        };
        assert_eq!(c.completion_pct(), Some(95.0));
        assert_eq!(c.bet_success_pct(), Some(99.0));
        assert_eq!(c.session_continuity_pct(), Some(98.0));
        assert_eq!(c.avg_latency_ms(), Some(250.0));
        assert_eq!(c.plus(&c).since(&c), c);
    }

    #[test]
    fn ledger_balances_only_when_every_bet_is_accounted_for() {
        let mut l = BetLedger {
            placed: 10,
            settled: 4,
            refunded: 2,
            reconciled: 1,
            lost: 1,
            open: 2,
            ..BetLedger::default()
        };
        assert!(l.balances());
        l.open = 1;
        assert!(!l.balances());
    }
}
