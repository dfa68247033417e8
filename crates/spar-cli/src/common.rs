//! What every command shares and no command owns: the error type, the backend choice and
//! the embedded main config. Imports no command module.

use crate::args::Args;
use spar_train::backend::{select_backend, Selected};
use spar_train::config::BackendName;
use spar_train::TrainConfig;
use std::error::Error;

/// A boxed error for the commands.
pub type CliResult<T = ()> = Result<T, Box<dyn Error>>;

/// The main job's config (`spar train` without `--config`, and `spar bench`'s default).
pub const MAIN_CONFIG: &str = include_str!("../configs/main.toml");

/// The main job's second start: more labels for SFT, then majority vote with no labels.
pub const MAIN_LABEL_FREE_CONFIG: &str = include_str!("../configs/main_label_free.toml");

/// The value of `--backend`, if given.
fn backend_flag(a: &Args) -> CliResult<Option<BackendName>> {
    a.get("backend")
        .map(|b| {
            b.parse::<BackendName>()
                .map_err(|_| format!("`--backend {b}`: must be auto, cpu or gpu").into())
        })
        .transpose()
}

/// Picks the backend `name` resolves to and prints the choice.
fn select(name: BackendName) -> CliResult<Selected> {
    let sel = select_backend(name)?;
    eprintln!("backend: {}", sel.describe());
    Ok(sel)
}

/// Applies `--backend` (if given) to `cfg.backend`, picks the backend and prints it.
pub fn choose_backend(a: &Args, cfg: &mut TrainConfig) -> CliResult<Selected> {
    if let Some(b) = backend_flag(a)? {
        cfg.backend = b;
    }
    select(cfg.backend)
}

/// The backend named by `--backend` (default `auto`) for the commands whose configs have no
/// `backend` key (self-play); prints the choice.
pub fn choose_backend_flag(a: &Args) -> CliResult<Selected> {
    select(backend_flag(a)?.unwrap_or(BackendName::Auto))
}

/// The text of the config file `--config` names, or `default` without the flag; an error
/// names the file (as `` `FILE`: error ``).
pub fn config_text(a: &Args, default: &str) -> CliResult<String> {
    match a.get("config") {
        Some(p) => Ok(std::fs::read_to_string(p).map_err(|e| format!("`{p}`: {e}"))?),
        None => Ok(default.to_string()),
    }
}
