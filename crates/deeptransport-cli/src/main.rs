//! `deeptransport`: the command line of the deeptransport library (see `docs/cli.md`).
//!
//! Exit codes: 0 success, 2 bad input or usage, 1 any other failure.

/// `println!` that returns an error instead of panicking when stdout is closed (`| head`).
/// Defined before the modules so that they can use it; needs a function returning `Result`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod activations;
mod commands;
mod experiments;
mod figures;
mod interrupt;
mod io;
mod limits;
mod progress;
mod report;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use deeptransport::kernel::{SimdPath, simd_path};
use std::process::ExitCode;

/// An error in what the user gave us (a file, a flag, a value): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl BadInput {
    /// Wraps a message as an [`anyhow::Error`] that maps to exit code 2.
    // Returns the wrapped error, not `Self`: every call site wants an `anyhow::Error` to `?`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(msg: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(BadInput(msg.into()))
    }
}

#[derive(Parser)]
#[command(
    name = "deeptransport",
    version,
    about = "Transportation analysis of deep neural networks: optimal DAEs, flows, pushforwards, \
             entropy and Wasserstein measurements",
    long_about = None,
    after_help = "Examples:\n  deeptransport demo\n  deeptransport dae --data points.csv --t 0.5 --out moved.npy --json\n\n\
                  Exit codes: 0 success, 2 bad input or usage, 1 other failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every command shares.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Worker threads (default: all cores; at most the larger of 64 and 4 × the cores).
    /// Results are bit-identical for any value.
    #[arg(
        long,
        global = true,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = limits::count::<1, usize>
    )]
    threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    Dae(commands::dae::Args),
    Deep(commands::deep::Args),
    Demo(commands::demo::Args),
    Experiment(commands::experiment::Args),
    Flow(commands::flow::Args),
    Entropy(commands::entropy::Args),
    W2(commands::w2::Args),
    Figure(commands::figure::Args),
    Tracks(commands::tracks::Args),
    Sdot(commands::sdot::Args),
    Recon(commands::recon::Args),
}

fn main() -> ExitCode {
    // First, so that an interruption at any point removes the temporary outputs.
    interrupt::install();
    // `--version` also names the SIMD path (`-V` the version alone).
    let parsed = Cli::command()
        .long_version(long_version())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            // A value refused by its parser (`limits::count`: "must be ≥ 1, got -1") is one
            // line, like every other refusal, without clap's "For more information" tip.
            let text = e.render().to_string();
            let line = text.lines().next().unwrap_or_default();
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "{line}");
            return ExitCode::from(2);
        }
        Err(e) => {
            // clap prints help/version on stdout (exit 0) and usage errors on stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our stdout went away (`| head`): the work is done, stop quietly.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// 2 for anything the user can fix (bad files, flags, parameters), 1 otherwise.
fn exit_code(e: &anyhow::Error) -> u8 {
    let bad = e.chain().any(|c| {
        c.downcast_ref::<BadInput>().is_some()
            || c.downcast_ref::<deeptransport::Error>().is_some()
            || matches!(
                c.downcast_ref::<deeptransport_nn::Error>(),
                Some(
                    deeptransport_nn::Error::InvalidParameter { .. }
                        | deeptransport_nn::Error::Shape { .. }
                        | deeptransport_nn::Error::NonFinite { .. }
                        | deeptransport_nn::Error::Weights(_)
                )
            )
    });
    if bad { 2 } else { 1 }
}

/// The version, the SIMD path the kernels would run (and why) and the paths this CPU supports.
fn long_version() -> &'static str {
    let path = match SimdPath::from_env() {
        Ok(Some(p)) => format!(
            "{p} (forced by {})",
            deeptransport::kernel::simd_path::ENV_VAR
        ),
        Ok(None) => format!("{} (the widest this CPU runs)", SimdPath::widest()),
        Err(e) => format!("none: {e}"),
    };
    let supported: Vec<&str> = SimdPath::supported().iter().map(|p| p.name()).collect();
    let text = format!(
        "{}\nSIMD path: {path}\nSIMD paths this CPU runs: {}\ntarget: {}-{}",
        env!("CARGO_PKG_VERSION"),
        supported.join(", "),
        std::env::consts::ARCH,
        std::env::consts::OS,
    );
    // Built once per process, for clap, which wants a `'static` string.
    Box::leak(text.into_boxed_str())
}

/// Forces the SIMD path named by `DEEPTRANSPORT_SIMD`, if set: an unknown name, or a path this
/// CPU does not run, is bad input (exit 2), never replaced by another path.
fn set_simd_path_from_env() -> anyhow::Result<()> {
    if let Some(p) = SimdPath::from_env()? {
        deeptransport::kernel::set_simd_path(p)?;
    }
    Ok(())
}

/// The SIMD path the kernels run, for the `--json` summaries (key `simd`).
pub fn simd_name() -> &'static str {
    simd_path().name()
}

fn run(cli: Cli) -> anyhow::Result<()> {
    set_simd_path_from_env()?;
    let c = &cli.command;
    set_threads(match c {
        Command::Dae(a) => &a.common,
        Command::Deep(a) => &a.common,
        Command::Demo(a) => &a.common,
        Command::Experiment(a) => &a.common,
        Command::Flow(a) => &a.common,
        Command::Entropy(a) => &a.common,
        Command::W2(a) => &a.common,
        Command::Figure(a) => &a.common,
        Command::Tracks(a) => &a.common,
        Command::Sdot(a) => &a.common,
        Command::Recon(a) => &a.common,
    })?;
    match cli.command {
        Command::Dae(a) => commands::dae::run(a),
        Command::Deep(a) => commands::deep::run(a),
        Command::Demo(a) => commands::demo::run(a),
        Command::Experiment(a) => commands::experiment::run(a),
        Command::Flow(a) => commands::flow::run(a),
        Command::Entropy(a) => commands::entropy::run(a),
        Command::W2(a) => commands::w2::run(a),
        Command::Figure(a) => commands::figure::run(a),
        Command::Tracks(a) => commands::tracks::run(a),
        Command::Sdot(a) => commands::sdot::run(a),
        Command::Recon(a) => commands::recon::run(a),
    }
}

fn set_threads(c: &Common) -> anyhow::Result<()> {
    if let Some(n) = c.threads {
        let max = limits::max_threads();
        if n > max {
            return Err(BadInput::new(format!(
                "--threads {n}: at most {max} threads are allowed on this machine (the larger \
                 of 64 and 4 × its cores); more only slow the start, and results are the same \
                 for any count"
            )));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| anyhow::anyhow!("cannot start {n} threads: {e}"))?;
    }
    Ok(())
}
