//! The exit codes of `tc-feed`, documented for the scheduler that runs it.
//!
//! - **0**: success.
//! - **1**: the run failed. The state holds exactly the jobs ThreatConnect confirmed. A
//!   corrupt state is this too.
//! - **2**: bad configuration or usage, including a state that belongs to another URL or
//!   owner. Nothing was sent.
//! - **3**: finished with something to look at: ThreatConnect rejected some indicators, the
//!   mass-removal guard held removals back, or one list was not imported (incomplete or
//!   refused) while the other was.
//! - **4**: another run holds the lock on this state. Nothing was sent.

/// How `tc-feed` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: success.
    Success = 0,
    /// 1: the run failed.
    Failed = 1,
    /// 2: bad configuration or usage.
    Usage = 2,
    /// 3: finished with something to look at.
    Attention = 3,
    /// 4: another run holds the lock.
    Locked = 4,
}

impl ExitCode {
    /// The number the process exits with.
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> std::process::ExitCode {
        std::process::ExitCode::from(code as u8)
    }
}
