//! What this test process logs, kept in memory for a test to read (secrets must not appear in
//! it; a benchmark counts what went wrong).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The process's log from the first call on, at the level `filter` names. One subscriber
/// serves the whole process, so every caller in it must ask the same filter: a test searching
/// the debug log for secrets must never be handed a log of warnings only.
pub fn captured_logs(filter: &'static str) -> &'static Captured {
    static LOGS: OnceLock<(&'static str, Captured)> = OnceLock::new();
    let (first, captured) = LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        (filter, captured)
    });
    assert_eq!(*first, filter, "this process already logs at another level");
    captured
}
