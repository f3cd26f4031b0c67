//! Interruption: on SIGINT, SIGTERM or SIGHUP (Ctrl-C on Windows) the temporary outputs still
//! being written are removed and the command exits with code 130, so that an interrupted run
//! leaves nothing beside its destinations (docs/cli.md, "Outputs are atomic").
//!
//! Every temporary file or folder is registered in [`LIVE`] from its creation until it is renamed
//! into place or removed. The handler runs on its own thread (the `ctrlc` crate), takes the same
//! lock, removes what is registered and exits while still holding it. Creation and the final
//! rename run under the lock too, so a signal never falls between making a temporary and
//! registering it, nor between renaming it and forgetting it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Exit code of an interrupted run (128 + SIGINT, the shells' convention), for every signal.
pub const EXIT_CODE: i32 = 130;

/// The temporary files and folders that exist now and are not yet in place.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock cannot leave the list inconsistent (push/remove only).
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs the handler; called once at start-up. Failing to install it only loses the clean-up.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let live = live();
        for p in live.iter() {
            // Already gone (dropped meanwhile) is fine: there is nothing left to remove.
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
        }
        std::process::exit(EXIT_CODE);
    });
}

/// A registered temporary: forgotten when dropped (after its owner removed it) or by
/// [`Live::finish`].
#[derive(Debug)]
pub struct Live(PathBuf);

impl Live {
    /// Runs `create`, which makes a temporary file or folder, and registers `path_of` its result,
    /// with the handler held off meanwhile.
    pub fn create<T, E>(
        create: impl FnOnce() -> Result<T, E>,
        path_of: impl FnOnce(&T) -> &Path,
    ) -> Result<(T, Live), E> {
        let mut live = live();
        let made = create()?;
        let path = path_of(&made).to_path_buf();
        live.push(path.clone());
        Ok((made, Live(path)))
    }

    /// Runs `f` (the rename that puts the temporary in place) with the handler held off, then
    /// forgets the temporary.
    pub fn finish<R>(self, f: impl FnOnce() -> R) -> R {
        let mut live = live();
        let r = f();
        live.retain(|p| *p != self.0);
        r
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        live().retain(|p| *p != self.0);
    }
}
