//! `portal import FILE [--firm ID]`: a case-management export into one firm,
//! with a progress bar on a terminal. The work is [`crate::import`]'s; this
//! picks the firm, opens the file and turns whole-file errors into one line.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, bail};
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shared::audit::Actor;
use shared::db::schema::firms;
use shared::db::{Db, DbConnection};

use crate::import::{Format, Summary};

/// Imports `path` into `firm` (or the only firm), as Matterline itself in the audit log.
pub fn import_file(db: &Db, path: &Path, firm: Option<&str>) -> anyhow::Result<Summary> {
    let format = Format::from_path(path).map_err(|e| file_error(path, e))?;
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut conn = db.get()?;
    let firm_id = choose_firm(&mut conn, firm)?;
    let target =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} rows · eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let input = std::io::BufReader::new(file);
    let summary = crate::import::import(&mut conn, &firm_id, format, input, Actor::System, None, &mut progress);
    bar.finish_and_clear();
    summary.map_err(|e| file_error(path, e))
}

/// A whole-file problem as one line naming the file; anything else keeps its cause.
fn file_error(path: &Path, error: shared::Error) -> anyhow::Error {
    match error {
        shared::Error::Invalid { reason, .. } => anyhow::anyhow!("{}: {reason}", path.display()),
        other => anyhow::Error::new(other).context(format!("importing {}", path.display())),
    }
}

/// The firm named by `--firm`, else the only firm of the database.
pub fn choose_firm(conn: &mut DbConnection, wanted: Option<&str>) -> anyhow::Result<String> {
    let all: Vec<(String, String)> = firms::table.order(firms::name).select((firms::id, firms::name)).load(conn)?;
    let list = || all.iter().map(|(id, name)| format!("{id} ({name})")).collect::<Vec<_>>().join(", ");
    match (wanted, all.as_slice()) {
        (Some(id), _) if all.iter().any(|(f, _)| f == id) => Ok(id.to_owned()),
        (Some(id), []) => bail!("no firm with id {id}: the database holds no firm"),
        (Some(id), _) => bail!("no firm with id {id}; the firms are {}", list()),
        (None, [(id, _)]) => Ok(id.clone()),
        (None, []) => bail!("the database holds no firm yet"),
        (None, _) => bail!("the database holds {} firms; choose one with --firm ID: {}", all.len(), list()),
    }
}
