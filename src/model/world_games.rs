//! The world's games: arrivals, phases, operations on instances, and what
//! happens to a game when its instance goes away, with and without the
//! gaming-aware path.
//!
//! Without it (a plain rollout), a game keeps its instance until the
//! instance finishes stopping or crashes, and then vanishes: its sessions
//! drop and its open bets are lost. With it, the prepare step backs up every
//! game and escrows bets from the rollout's start; a stopping instance moves
//! the games that are safe to move (the chapter's handling), keeps the rest
//! until their round is over (drain, up to the drain timeout), and a game
//! whose instance is lost anyway is restored from its backup with its bets
//! reconciled from the escrow.

use super::{lanes, GameChange, World, WorldChange, WorldEvent};
use crate::engine::{SimDuration, SimTime};
use crate::model::dist::DurationDist;
use crate::model::games::{handling, Game, GameFloor, GamePhase, GamingSpec, Handling};
use crate::model::instance::{InstanceId, InstanceStatus, Version};
use rand::RngExt;
use rand_distr::{Distribution, Exp, StandardNormal};

impl World {
    /// Schedules the first game arrival (with `[gaming]`).
    pub(super) fn start_games(&mut self) {
        if self.gaming.is_some() {
            self.schedule_next_game(SimTime::ZERO);
        }
    }

    fn schedule_next_game(&mut self, now: SimTime) {
        let Some(spec) = &self.gaming else { return };
        let rate_per_s = spec.games_per_minute / 60.0;
        if rate_per_s <= 0.0 {
            return;
        }
        let gap = Exp::new(rate_per_s).map_or(f64::INFINITY, |e| e.sample(&mut self.streams.games));
        let at = now + SimDuration::from_secs_f64(gap.min(1e12)).max(SimDuration(1));
        if at < self.max_duration {
            self.schedule(at, lanes::WORLD, WorldEvent::GameArrival);
        }
    }

    /// The games of the run (`None` without `[gaming]`).
    pub fn games(&self) -> Option<&GameFloor> {
        self.floor.as_ref()
    }

    /// The prepare step of a gaming-aware rollout: back up every live game
    /// and escrow bets from now on.
    pub fn prepare_games(&mut self, now: SimTime) {
        let aware = self.gaming.as_ref().is_some_and(|g| g.aware);
        let Some(floor) = self.floor.as_mut() else { return };
        floor.rollout_started.get_or_insert(now);
        if !aware || floor.prepared {
            return;
        }
        floor.prepared = true;
        floor.lost_before_prepare = floor.totals.bets.lost;
        let mut games = 0;
        for g in floor.games.iter_mut().filter(|g| g.live) {
            g.backed_up = true;
            games += 1;
        }
        floor.totals.games_backed_up += games;
        let open_bets = floor.totals.bets.open;
        self.changes
            .push(WorldChange::Game(GameChange::Prepared { games, open_bets }));
    }

    /// Notes the games a rollback must bring back to stable.
    pub fn note_recovery_started(&mut self) {
        let instances = &self.instances;
        let Some(floor) = self.floor.as_mut() else { return };
        if floor.to_recover.is_some() {
            return;
        }
        let on_new: Vec<u32> = floor
            .games
            .iter()
            .filter(|g| g.live && instances[g.instance.0 as usize].version == Version::New)
            .map(|g| g.id)
            .collect();
        floor.to_recover = Some(on_new);
    }

    pub(super) fn on_game_arrival(&mut self, now: SimTime) {
        self.schedule_next_game(now);
        let spec = self.gaming.as_ref().expect("games only with [gaming]");
        let rng = &mut self.streams.games;
        let players = rng.random_range(spec.players.0..=spec.players.1);
        let rounds = rng.random_range(spec.rounds.0..=spec.rounds.1);
        let waiting = spec.waiting.sample(rng);
        let u_route: f64 = rng.random();
        let u_pick: f64 = rng.random();
        // New sessions go to the new version at its traffic share (the
        // chapter's `session.new` rule; a plain router does the same).
        let wanted = if u_route * 100.0 < self.weight_pct() {
            Version::New
        } else {
            Version::Stable
        };
        let target = self
            .pick_instance(wanted, u_pick)
            .or_else(|| self.pick_instance(other(wanted), u_pick));
        let floor = self.floor.as_mut().expect("floor with [gaming]");
        let id = floor.games.len() as u32;
        let backed_up = floor.prepared;
        floor.totals.games_started += 1;
        floor.totals.sessions += u64::from(players);
        floor.totals.games_backed_up += u64::from(backed_up);
        floor.games.push(Game {
            id,
            instance: InstanceId(0, 0),
            phase: GamePhase::Waiting,
            phase_ends: now + waiting,
            epoch: 0,
            players,
            rounds_left: rounds,
            open_bets: 0,
            backed_up,
            harmed: false,
            live: true,
            lost: false,
            disrupted: false,
            restored: false,
        });
        let Some(instance) = target else {
            // Nowhere to play: the players are turned away.
            let game = &mut floor.games[id as usize];
            game.live = false;
            let version = wanted;
            self.end_failed(now, id, version, true);
            return;
        };
        floor.attach(id, instance);
        floor.live += 1;
        self.schedule(
            now + waiting,
            lanes::WORLD,
            WorldEvent::GamePhaseEnd { game: id, epoch: 0 },
        );
    }

    /// A routable instance of `version` chosen by `u`, if there is one.
    fn pick_instance(&self, version: Version, u: f64) -> Option<InstanceId> {
        let list = &self.routable[version.index()];
        if list.is_empty() {
            return None;
        }
        let k = ((u * list.len() as f64) as usize).min(list.len() - 1);
        Some(list[k])
    }

    pub(super) fn on_game_phase_end(&mut self, now: SimTime, id: u32, epoch: u32) {
        let floor = self.floor.as_ref().expect("floor with [gaming]");
        let game = &floor.games[id as usize];
        if !game.live || game.epoch != epoch {
            return;
        }
        let instance = game.instance;
        match game.phase {
            GamePhase::Waiting => self.start_round(now, id),
            // The roll starts (Betting ends) and the payout starts (Rolling
            // ends) with an operation each; a failed one ends the game.
            phase @ (GamePhase::Betting | GamePhase::Rolling) => {
                if self.game_op(now, instance) {
                    let next = if phase == GamePhase::Betting {
                        GamePhase::Rolling
                    } else {
                        GamePhase::Payout
                    };
                    let d = match next {
                        GamePhase::Rolling => self.draw(|g| &g.rolling),
                        _ => self.draw(|g| &g.payout),
                    };
                    self.next_phase(now, id, next, d);
                } else {
                    self.fail_game(now, id);
                }
            }
            GamePhase::Payout => {
                let version = self.instances[instance.0 as usize].version;
                let floor = self.floor.as_mut().expect("floor");
                let game = &mut floor.games[id as usize];
                let settled = u64::from(game.open_bets);
                game.open_bets = 0;
                game.rounds_left -= 1;
                let done = game.rounds_left == 0;
                floor.totals.bets.settled += settled;
                floor.totals.bets.open -= settled;
                self.metrics.games_mut(version).bets_settled += settled;
                if done {
                    self.complete_game(id, version);
                } else if self.drains() && self.instances[instance.0 as usize].status == InstanceStatus::Stopping {
                    // Between rounds nothing is at stake: the held game
                    // moves now, then plays on where it lands.
                    // With nowhere to go it plays its next round where it is.
                    self.floor.as_mut().expect("floor").games[id as usize].phase = GamePhase::Waiting;
                    self.migrate(now, id);
                    self.start_round(now, id);
                } else {
                    self.start_round(now, id);
                }
            }
        }
        self.finish_drain_if_empty(now, instance);
    }

    /// Draws a phase length from the game stream.
    fn draw(&mut self, pick: fn(&GamingSpec) -> &DurationDist) -> SimDuration {
        let spec = self.gaming.as_ref().expect("games only with [gaming]");
        pick(spec).sample(&mut self.streams.games)
    }

    fn gaming_spec(&self) -> &GamingSpec {
        self.gaming.as_ref().expect("games only with [gaming]")
    }

    /// Opens betting: every player places one bet (an operation each).
    fn start_round(&mut self, now: SimTime, id: u32) {
        let betting = self.draw(|g| &g.betting);
        let (instance, players) = {
            let g = &self.floor.as_ref().expect("floor").games[id as usize];
            (g.instance, g.players)
        };
        let version = self.instances[instance.0 as usize].version;
        let mut placed = 0u32;
        let mut rejected = 0u64;
        for _ in 0..players {
            if self.game_op(now, instance) {
                placed += 1;
            } else {
                rejected += 1;
            }
        }
        let floor = self.floor.as_mut().expect("floor");
        floor.totals.bets.placed += u64::from(placed);
        floor.totals.bets.open += u64::from(placed);
        floor.totals.bets.rejected += rejected;
        floor.games[id as usize].open_bets = placed;
        self.metrics.games_mut(version).bets_failed += rejected;
        self.next_phase(now, id, GamePhase::Betting, betting);
    }

    fn next_phase(&mut self, now: SimTime, id: u32, phase: GamePhase, length: SimDuration) {
        let floor = self.floor.as_mut().expect("floor");
        let g = &mut floor.games[id as usize];
        g.phase = phase;
        g.phase_ends = now + length;
        g.epoch += 1;
        let epoch = g.epoch;
        self.schedule(now + length, lanes::WORLD, WorldEvent::GamePhaseEnd { game: id, epoch });
        // A game on a stopping instance that has become safe to move goes.
        let instance = self.floor.as_ref().expect("floor").games[id as usize].instance;
        if self.instances[instance.0 as usize].status == InstanceStatus::Stopping && self.drains() {
            let g = &self.floor.as_ref().expect("floor").games[id as usize];
            let cutoff = self.gaming_spec().migration_cutoff;
            if handling(g.phase, g.phase_ends, now, cutoff) == Handling::AllowMigration {
                self.migrate(now, id);
            }
        }
    }

    /// One game operation on `instance`: fails and is slow as the
    /// instance's requests would be now. Always draws two numbers.
    fn game_op(&mut self, now: SimTime, instance: InstanceId) -> bool {
        let z: f64 = StandardNormal.sample(&mut self.streams.games);
        let u: f64 = self.streams.games.random();
        let inst = &self.instances[instance.0 as usize];
        let version = inst.version;
        let uptime = inst.running_since.map_or(SimDuration::ZERO, |t| now - t);
        let spec = &self.versions[version.index()];
        let latency_s = spec.latency.at_z(z) * self.faults.latency_factor(version, uptime);
        let error = u < self
            .faults
            .error_prob(spec.game_error_prob, version, uptime, 0.0, false);
        let c = self.metrics.games_mut(version);
        c.ops += 1;
        // Saturating: absurd latency distributions must not overflow the sum.
        c.op_latency_us = c.op_latency_us.saturating_add(SimDuration::from_secs_f64(latency_s).0);
        !error
    }

    fn complete_game(&mut self, id: u32, version: Version) {
        let floor = self.floor.as_mut().expect("floor");
        floor.detach(id);
        let g = &mut floor.games[id as usize];
        g.live = false;
        floor.live -= 1;
        let players = u64::from(g.players);
        floor.totals.games_completed += 1;
        let c = self.metrics.games_mut(version);
        c.completed += 1;
        c.sessions_kept += players;
    }

    /// An operation failed: the game ends, its open bets are refunded and
    /// its players leave.
    fn fail_game(&mut self, now: SimTime, id: u32) {
        let floor = self.floor.as_mut().expect("floor");
        let g = &mut floor.games[id as usize];
        let version = self.instances[g.instance.0 as usize].version;
        let refunded = u64::from(g.open_bets);
        g.open_bets = 0;
        g.live = false;
        floor.live -= 1;
        floor.totals.bets.refunded += refunded;
        floor.totals.bets.open -= refunded;
        self.metrics.games_mut(version).bets_failed += refunded;
        self.floor.as_mut().expect("floor").detach(id);
        self.end_failed(now, id, version, true);
    }

    /// Counts a game that ended without finishing: failed, sessions dropped,
    /// players harmed (after the rollout started).
    fn end_failed(&mut self, now: SimTime, id: u32, version: Version, drop_sessions: bool) {
        let floor = self.floor.as_mut().expect("floor");
        let g = &mut floor.games[id as usize];
        let players = u64::from(g.players);
        let newly_harmed = !g.harmed && floor.rollout_started.is_some_and(|t| now >= t);
        g.harmed |= newly_harmed;
        floor.totals.games_failed += 1;
        if newly_harmed {
            floor.totals.players_harmed += players;
        }
        let c = self.metrics.games_mut(version);
        c.failed += 1;
        if drop_sessions {
            floor.totals.sessions_dropped += players;
            c.sessions_dropped += players;
        }
    }

    /// Whether stopping instances drain (the gaming-aware path has started).
    fn drains(&self) -> bool {
        self.floor.as_ref().is_some_and(|f| f.prepared)
    }

    /// An instance was told to stop (scale-down). With the gaming-aware path
    /// its games are handled by phase; otherwise they play on until it is
    /// gone.
    pub(super) fn games_on_stopping(&mut self, now: SimTime, id: InstanceId) {
        if !self.drains() {
            return;
        }
        let ids = self.floor.as_ref().expect("floor").games_on(id);
        if ids.is_empty() {
            return;
        }
        let cutoff = self.gaming_spec().migration_cutoff;
        for g in ids {
            let game = &self.floor.as_ref().expect("floor").games[g as usize];
            let h = handling(game.phase, game.phase_ends, now, cutoff);
            if h == Handling::AllowMigration && self.migrate(now, g) {
                continue;
            }
            let game = &self.floor.as_ref().expect("floor").games[g as usize];
            let inst = &self.instances[id.0 as usize];
            self.changes.push(WorldChange::Game(GameChange::Held {
                game: g,
                version: inst.version,
                ordinal: inst.ordinal,
                phase: game.phase,
                handling: h,
            }));
        }
    }

    /// Whether a stopping instance may finish stopping now (its stop time is
    /// over). A draining one waits for its games, at most `drain_timeout`
    /// longer; the last game to leave finishes the stop.
    pub(super) fn stop_may_finish(&mut self, now: SimTime, id: InstanceId) -> bool {
        let timeout = self.gaming.as_ref().map_or(SimDuration::ZERO, |g| g.drain_timeout);
        let Some(floor) = self.floor.as_mut() else { return true };
        if floor.prepared && floor.holds_games(id) {
            let i = id.0 as usize;
            if floor.awaiting_drain.len() <= i {
                floor.awaiting_drain.resize(i + 1, false);
            }
            if !floor.awaiting_drain[i] {
                floor.awaiting_drain[i] = true;
                self.schedule(now + timeout, lanes::WORLD, WorldEvent::DrainTimeout(id));
            }
            return false;
        }
        true
    }

    /// An instance is gone (stopped or crashed): whatever games are still
    /// on it are disrupted.
    pub(super) fn games_on_lost(&mut self, now: SimTime, id: InstanceId) {
        let Some(floor) = self.floor.as_ref() else { return };
        let ids = floor.games_on(id);
        if floor.prepared && self.instances[id.0 as usize].status == InstanceStatus::Stopped {
            let busy = ids
                .iter()
                .any(|&g| matches!(floor.games[g as usize].phase, GamePhase::Rolling | GamePhase::Payout));
            if busy && floor.violation.is_none() {
                let v = format!("instance {} stopped with a game in Rolling or Payout on it", id.0);
                self.floor.as_mut().expect("floor").violation = Some(v);
            }
        }
        for g in ids {
            self.disrupt(now, g);
        }
    }

    /// The drain timeout of a stopping instance.
    pub(super) fn on_drain_timeout(&mut self, now: SimTime, id: InstanceId) {
        if !self.holds(id) || self.instances[id.0 as usize].status != InstanceStatus::Stopping {
            return;
        }
        let Some(floor) = self.floor.as_mut() else { return };
        let ids = floor.games_on(id);
        if ids.is_empty() {
            return;
        }
        floor.totals.drain_timeouts += 1;
        let inst = &self.instances[id.0 as usize];
        self.changes.push(WorldChange::Game(GameChange::DrainTimedOut {
            version: inst.version,
            ordinal: inst.ordinal,
            games: ids.len() as u32,
        }));
        for g in ids {
            self.disrupt(now, g);
        }
        self.finish_drain_if_empty(now, id);
    }

    /// A draining instance whose stop was due and whose last game has left
    /// finishes stopping.
    fn finish_drain_if_empty(&mut self, now: SimTime, id: InstanceId) {
        let Some(floor) = self.floor.as_mut() else { return };
        let i = id.0 as usize;
        if floor.awaiting_drain.get(i) == Some(&true) && !floor.holds_games(id) {
            floor.awaiting_drain[i] = false;
            if self.instances[i].status == InstanceStatus::Stopping {
                let inst = &self.instances[i];
                self.changes.push(WorldChange::Game(GameChange::Drained {
                    version: inst.version,
                    ordinal: inst.ordinal,
                }));
                self.clock = now;
                self.set_status(id, InstanceStatus::Stopped);
            }
        }
    }

    /// Moves a game off its instance to a routable one, the same version
    /// first. Returns false (and leaves it) when there is nowhere to go.
    fn migrate(&mut self, now: SimTime, id: u32) -> bool {
        let (from, phase, deadline) = {
            let g = &self.floor.as_ref().expect("floor").games[id as usize];
            (g.instance, g.phase, g.phase_ends)
        };
        let cutoff = self.gaming_spec().migration_cutoff;
        if handling(phase, deadline, now, cutoff) != Handling::AllowMigration {
            let floor = self.floor.as_mut().expect("floor");
            floor
                .violation
                .get_or_insert_with(|| format!("game {id} moved while {}", phase.as_str()));
        }
        let u: f64 = self.streams.game_moves.random();
        let wanted = self.drain_target(self.instances[from.0 as usize].version);
        let Some(to) = self
            .pick_instance(wanted, u)
            .or_else(|| self.pick_instance(other(wanted), u))
        else {
            return false;
        };
        self.move_game(id, to);
        true
    }

    /// Moves game `id` to instance `to` and records the move.
    fn move_game(&mut self, id: u32, to: InstanceId) {
        let floor = self.floor.as_mut().expect("floor");
        let g = &floor.games[id as usize];
        let (from, phase) = (g.instance, g.phase);
        floor.detach(id);
        floor.attach(id, to);
        floor.totals.games_migrated += 1;
        let (a, b) = (&self.instances[from.0 as usize], &self.instances[to.0 as usize]);
        self.changes.push(WorldChange::Game(GameChange::Migrated {
            game: id,
            from: (a.version, a.ordinal),
            to: (b.version, b.ordinal),
            phase,
        }));
    }

    /// Where a game leaving a stopping instance of `own` version goes: to
    /// stable once a rollback has begun, to the version that has all the
    /// traffic when one has, else to its own version.
    fn drain_target(&self, own: Version) -> Version {
        let rolling_back = self.floor.as_ref().is_some_and(|f| f.to_recover.is_some());
        match self.weight_pct() {
            _ if rolling_back => Version::Stable,
            w if w >= 100.0 => Version::New,
            w if w <= 0.0 => Version::Stable,
            _ => own,
        }
    }

    /// The gaming-aware rule for waiting games when the canary's share grows
    /// from `from` to `to` percent: each waiting game on stable moves to the
    /// canary with probability (to - from) / 2 percent (sessions in waiting
    /// games go to the canary at half its percentage; active games never).
    pub(super) fn rebalance_waiting_games(&mut self, from: f64, to: f64) {
        if !self.drains() || to <= from {
            return;
        }
        let p = (to - from) / 200.0;
        let waiting: Vec<u32> = {
            let floor = self.floor.as_ref().expect("floor");
            floor
                .games
                .iter()
                .filter(|g| {
                    let inst = &self.instances[g.instance.0 as usize];
                    g.live
                        && g.phase == GamePhase::Waiting
                        && inst.version == Version::Stable
                        && inst.status == InstanceStatus::Running
                })
                .map(|g| g.id)
                .collect()
        };
        for id in waiting {
            let u: f64 = self.streams.game_moves.random();
            let u_pick: f64 = self.streams.game_moves.random();
            if u >= p {
                continue;
            }
            let Some(to) = self.pick_instance(Version::New, u_pick) else {
                continue;
            };
            self.move_game(id, to);
        }
    }

    /// A game whose instance is gone. With a backup it is restored on a
    /// routable instance (a fresh round; its open bets reconciled from the
    /// escrow, its sessions carried over); without one it is lost.
    fn disrupt(&mut self, now: SimTime, id: u32) {
        let (from, backed_up, open) = {
            let floor = self.floor.as_mut().expect("floor");
            let g = &mut floor.games[id as usize];
            // Counted once per game, however often its instance goes.
            if !g.disrupted {
                g.disrupted = true;
                floor.totals.games_disrupted += 1;
            }
            floor.detach(id);
            let g = &floor.games[id as usize];
            (g.instance, g.backed_up, u64::from(g.open_bets))
        };
        let from_version = self.instances[from.0 as usize].version;
        let u: f64 = self.streams.game_moves.random();
        let waiting = {
            let spec = self.gaming.as_ref().expect("games only with [gaming]");
            spec.waiting.sample(&mut self.streams.game_moves)
        };
        let to = if backed_up {
            // Restored where the rollout sends players now.
            let wanted = if self.weight_pct() >= 100.0 {
                Version::New
            } else {
                Version::Stable
            };
            self.pick_instance(wanted, u)
                .or_else(|| self.pick_instance(other(wanted), u))
        } else {
            None
        };
        let floor = self.floor.as_mut().expect("floor");
        let g = &mut floor.games[id as usize];
        g.open_bets = 0;
        floor.totals.bets.open -= open;
        self.metrics.games_mut(from_version).bets_failed += open;
        let floor = self.floor.as_mut().expect("floor");
        match to {
            Some(to) => {
                floor.totals.bets.reconciled += open;
                if !floor.games[id as usize].restored {
                    floor.games[id as usize].restored = true;
                    floor.totals.games_restored += 1;
                }
                floor.attach(id, to);
                let g = &mut floor.games[id as usize];
                g.phase = GamePhase::Waiting;
                g.phase_ends = now + waiting;
                g.epoch += 1;
                let epoch = g.epoch;
                let b = &self.instances[to.0 as usize];
                self.changes.push(WorldChange::Game(GameChange::Restored {
                    game: id,
                    to: (b.version, b.ordinal),
                    bets_reconciled: open,
                }));
                self.schedule(
                    now + waiting,
                    lanes::WORLD,
                    WorldEvent::GamePhaseEnd { game: id, epoch },
                );
            }
            None => {
                if backed_up {
                    floor.totals.bets.reconciled += open;
                } else {
                    floor.totals.bets.lost += open;
                }
                floor.totals.games_lost += 1;
                let g = &mut floor.games[id as usize];
                g.live = false;
                floor.live -= 1;
                g.lost = true;
                let players = g.players;
                let a = &self.instances[from.0 as usize];
                self.changes.push(WorldChange::Game(GameChange::Lost {
                    game: id,
                    version: a.version,
                    ordinal: a.ordinal,
                    players,
                    bets: open,
                    backed_up,
                }));
                self.end_failed(now, id, from_version, true);
            }
        }
    }

    /// A description of the first broken gaming rule, if any: bets not
    /// conserved, a live game on an instance that is gone, or an active game
    /// moved or stopped by the gaming-aware path.
    pub fn games_problem(&self) -> Option<String> {
        let floor = self.floor.as_ref()?;
        if let Some(v) = &floor.violation {
            return Some(v.clone());
        }
        let b = floor.totals.bets;
        if !b.balances() {
            return Some(format!(
                "bets not conserved: placed {} != settled {} + refunded {} + reconciled {} + lost {} + open {}",
                b.placed, b.settled, b.refunded, b.reconciled, b.lost, b.open
            ));
        }
        // Only the live games are visited (through the per-instance lists),
        // so checking every event stays cheap in a long run.
        let (mut open, mut listed) = (0u64, 0u64);
        for (i, list) in floor.on_instance.iter().enumerate() {
            let status = self.instances[i].status;
            for &id in list {
                let g = &floor.games[id as usize];
                if !g.live || g.instance.0 as usize != i || !self.holds(g.instance) {
                    return Some(format!("game {id} is listed on instance {i} but is not live there"));
                }
                if !matches!(status, InstanceStatus::Running | InstanceStatus::Stopping) {
                    return Some(format!("game {id} is live on instance {i} which is {status:?}"));
                }
                open += u64::from(g.open_bets);
                listed += 1;
            }
        }
        if listed != floor.live {
            return Some(format!(
                "{} games are live, {listed} are listed on instances",
                floor.live
            ));
        }
        if open != b.open {
            return Some(format!(
                "the ledger says {} bets are open, the games hold {open}",
                b.open
            ));
        }
        if floor.prepared && b.lost > floor.lost_before_prepare {
            return Some(format!(
                "{} bets lost after the gaming-aware prepare step",
                b.lost - floor.lost_before_prepare
            ));
        }
        None
    }
}

fn other(v: Version) -> Version {
    match v {
        Version::Stable => Version::New,
        Version::New => Version::Stable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Streams;

    fn world() -> World {
        let text = "[fleet]\ninstances = 2\n[traffic]\nrate_rps = 1\n[release]\nversion = \"v2\"\nquality = \"good\"\n\
                    [gaming]\naware = true\n[strategy]\nkind = \"canary\"\n";
        let s = crate::scenario::parse(std::path::Path::new("t.toml"), text, "t").expect("valid");
        let mut w = World::new(&s, Streams::new(1, 0));
        w.start();
        w.prepare_games(SimTime::ZERO);
        w
    }

    /// Puts a game in `phase` on instance 0.
    fn game(w: &mut World, phase: GamePhase) -> u32 {
        let floor = w.floor.as_mut().expect("floor");
        floor.put_test_game(InstanceId(0, 0), phase)
    }

    #[test]
    fn the_checker_sees_an_active_game_moved() {
        let mut w = world();
        let waiting = game(&mut w, GamePhase::Waiting);
        assert!(w.migrate(SimTime::ZERO, waiting));
        assert_eq!(w.games_problem(), None);
        let rolling = game(&mut w, GamePhase::Rolling);
        assert!(w.migrate(SimTime::ZERO, rolling));
        let problem = w.games_problem().expect("a violation");
        assert!(problem.contains("moved while rolling"), "{problem}");
    }

    #[test]
    fn the_checker_sees_an_unbalanced_ledger_and_a_game_on_a_stopped_instance() {
        let mut w = world();
        w.floor.as_mut().expect("floor").totals.bets.placed += 1;
        assert!(w.games_problem().expect("a violation").contains("bets not conserved"));
        let mut w = world();
        game(&mut w, GamePhase::Payout);
        w.set_status(InstanceId(0, 0), InstanceStatus::Stopped);
        assert!(w.games_problem().expect("a violation").contains("which is Stopped"));
    }

    #[test]
    fn a_stopping_instance_keeps_active_games_and_moves_the_rest() {
        let mut w = world();
        let waiting = game(&mut w, GamePhase::Waiting);
        let rolling = game(&mut w, GamePhase::Rolling);
        w.set_status(InstanceId(0, 0), InstanceStatus::Stopping);
        w.games_on_stopping(SimTime::ZERO, InstanceId(0, 0));
        let floor = w.floor.as_ref().expect("floor");
        assert_eq!(floor.games[waiting as usize].instance, InstanceId(1, 1));
        assert_eq!(floor.games[rolling as usize].instance, InstanceId(0, 0));
        // The stop waits for the rolling game.
        assert!(!w.stop_may_finish(SimTime::ZERO, InstanceId(0, 0)));
        assert_eq!(w.games_problem(), None);
    }
}
