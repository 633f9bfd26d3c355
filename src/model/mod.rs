//! The world the strategies act on: instances and their state machine, health
//! checks, the load balancer, traffic and the metrics store. It knows nothing
//! about strategies: it takes commands and answers queries.

pub mod balancer;
pub mod dist;
pub mod faults;
pub mod games;
pub mod health;
pub mod instance;
pub mod metrics;
pub mod quadrature;
pub mod queue_stats;
pub mod queueing;
pub mod sessions;
pub mod traffic;
pub mod world;

pub use instance::{HealthStatus, Instance, InstanceId, InstanceStatus, Version};
pub use metrics::{MetricsStore, WindowStats};
pub use world::World;
