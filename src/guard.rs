//! Resource guards: caps on the wall time and memory of one run, for the
//! swarm and the fuzz target, which must fail a case that runs away rather
//! than hang or exhaust the machine.
//!
//! This is the one place outside the CLI's progress bar that reads a wall
//! clock. It never changes a result: a guarded run either finishes with the
//! same bytes as an unguarded one, or stops with an error that says which cap
//! it passed.
//!
//! Memory is measured by [`MeteredAlloc`], a global allocator that keeps a
//! per-thread count of live bytes. A run happens on one thread from start to
//! end, so the growth of that thread's count during the run is the run's
//! memory. The binary installs it (`src/main.rs`); where it is not installed
//! the count stays 0 and only the wall-time cap applies.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    /// Bytes allocated minus bytes freed by this thread.
    static LIVE_BYTES: Cell<i64> = const { Cell::new(0) };
    /// The highest `LIVE_BYTES` since the last [`RunGuard::start`].
    static PEAK_BYTES: Cell<i64> = const { Cell::new(0) };
}

fn add_live(delta: i64) {
    // `try_with`: the slots may be gone while the thread is being torn down.
    let _ = LIVE_BYTES.try_with(|live| {
        let now = live.get().wrapping_add(delta);
        live.set(now);
        if delta > 0 {
            let _ = PEAK_BYTES.try_with(|peak| peak.set(peak.get().max(now)));
        }
    });
}

/// The system allocator, counting live bytes per thread.
pub struct MeteredAlloc;

// SAFETY: every call is forwarded unchanged to the system allocator; the
// only addition is a thread-local counter that never allocates.
unsafe impl GlobalAlloc for MeteredAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            add_live(layout.size() as i64);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            add_live(layout.size() as i64);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator gave out.
        unsafe { System.dealloc(ptr, layout) };
        add_live(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller passes a block this allocator gave out.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            add_live(new_size as i64 - layout.size() as i64);
        }
        new
    }
}

/// This thread's live bytes as [`MeteredAlloc`] counts them (0 where it is
/// not the global allocator).
pub fn thread_live_bytes() -> i64 {
    LIVE_BYTES.try_with(Cell::get).unwrap_or(0)
}

/// Whether [`MeteredAlloc`] is the global allocator of this program.
pub fn metering() -> bool {
    let before = thread_live_bytes();
    let probe = std::hint::black_box(vec![0u8; 4096]);
    let metered = thread_live_bytes() - before >= 4096;
    drop(probe);
    metered
}

/// Caps on one run. Copy, so it rides in `RunOptions`.
#[derive(Clone, Copy, Debug)]
pub struct RunGuard {
    /// Stop when the wall clock passes this instant.
    pub deadline: Option<Instant>,
    /// Stop when the thread's live bytes grow past this many since `base`.
    pub max_bytes: Option<i64>,
    /// The thread's live bytes when the guard was made.
    pub base: i64,
    /// The caps as given, for the message.
    wall: Option<Duration>,
}

/// Which cap a guarded run passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exceeded {
    /// Ran longer than the wall-time cap.
    WallTime(Duration),
    /// Grew past the memory cap (bytes).
    Memory(i64),
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exceeded::WallTime(d) => write!(f, "ran past the wall-time cap of {:.1} s", d.as_secs_f64()),
            Exceeded::Memory(b) => write!(f, "grew past the memory cap of {} MiB", b / (1024 * 1024)),
        }
    }
}

impl RunGuard {
    /// A guard starting now on this thread: at most `wall` of wall time and
    /// `max_bytes` of growth in live memory.
    pub fn start(wall: Option<Duration>, max_bytes: Option<i64>) -> Self {
        let base = thread_live_bytes();
        let _ = PEAK_BYTES.try_with(|peak| peak.set(base));
        RunGuard {
            deadline: wall.map(|w| Instant::now() + w),
            max_bytes,
            base,
            wall,
        }
    }

    /// The most this thread's live bytes grew above the start, so far: the
    /// peak memory of what ran under the guard (0 without metering).
    pub fn peak_growth(&self) -> i64 {
        PEAK_BYTES.try_with(Cell::get).unwrap_or(self.base) - self.base
    }

    /// Which cap has been passed, if any.
    pub fn exceeded(&self) -> Option<Exceeded> {
        if let Some(cap) = self.max_bytes {
            if self.peak_growth() > cap {
                return Some(Exceeded::Memory(cap));
            }
        }
        match (self.deadline, self.wall) {
            (Some(deadline), Some(wall)) if Instant::now() > deadline => Some(Exceeded::WallTime(wall)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_is_reported_and_an_open_one_is_not() {
        let open = RunGuard::start(Some(Duration::from_secs(3600)), None);
        assert_eq!(open.exceeded(), None);
        let passed = RunGuard::start(Some(Duration::ZERO), None);
        // A deadline of zero is passed by the first check after it.
        let mut spins = 0u64;
        while passed.exceeded().is_none() {
            spins += 1;
            assert!(spins < u64::MAX);
        }
        assert_eq!(passed.exceeded(), Some(Exceeded::WallTime(Duration::ZERO)));
    }

    #[test]
    fn memory_cap_reads_this_threads_growth() {
        let guard = RunGuard::start(None, Some(1024));
        // The unit-test binary does not install the metering allocator, so
        // growth reads 0 and the cap never trips here; tests/swarm.rs
        // installs it and checks the cap for real.
        let block = std::hint::black_box(vec![1u8; 1 << 20]);
        assert_eq!(guard.exceeded().is_some(), metering());
        drop(block);
    }
}
