//! Output: CSV files, the narrated trace and the printed summary. The
//! simulation core never formats text; everything a person reads is made
//! here from recorded data.

pub mod atomic;
pub mod charts;
pub mod csv_out;
pub mod html;
pub mod narrate;

pub use atomic::write_atomic;
