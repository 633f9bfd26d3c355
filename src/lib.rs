//! deploysim: a deterministic discrete-event simulator of production
//! deployment strategies.
//!
//! Data flows one way: a scenario file is parsed and validated
//! ([`scenario`]), built into a [`model::World`] and a
//! [`strategy::Controller`], run by the loop in [`sim`] on the integer clock
//! of [`engine`], recorded by [`record`], and written out by [`report`].
//! See ARCHITECTURE.md for the map.

pub mod analysis;
pub mod engine;
pub mod experiment;
pub mod guard;
pub mod invariants;
pub mod model;
pub mod names;
pub mod record;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod strategy;
pub mod text;
