//! The simulation engine: integer simulated time, the event queue and the
//! seeded random streams. Nothing else in the crate reads a clock or an
//! unseeded random number generator.

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::{Streams, Subsystem};
pub use time::{SimDuration, SimTime};
