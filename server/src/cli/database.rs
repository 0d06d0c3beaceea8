//! `portico backup`, `restore` and `migrate`: the database as a whole.

use super::CliError;
use portico_store::{is_postgres, shown, Store};
use std::path::{Path, PathBuf};

/// A consistent copy of a SQLite database, while servers keep using it.
pub async fn backup(db: &str, file: &Path) -> Result<(), CliError> {
    Store::connect(db).await?.backup_to(file).await?;
    println!("Backed up {} to {}.", shown(db), file.display());
    Ok(())
}

/// Puts a backup in place of a SQLite database no server works on.
pub async fn restore(db: &str, file: &Path) -> Result<(), CliError> {
    if is_postgres(db) {
        return Err(CliError::Serve(
            "restore replaces a SQLite file; a PostgreSQL database is restored with \
             PostgreSQL's own tools (pg_restore, or your provider's snapshots)"
                .into(),
        ));
    }
    Store::restore(file, Path::new(db)).await?;
    println!("Restored {db} from {}.", file.display());
    Ok(())
}

/// Copies the installation at `from` into the empty database `to`.
pub async fn migrate(from: &str, to: &str) -> Result<(), CliError> {
    if shown(from) == shown(to) {
        return Err(CliError::Serve(
            "--from and --to name the same database".into(),
        ));
    }
    let source = Store::connect(from).await?;
    // A SQLite file made for the copy goes again if the copy fails.
    let new_file = (!is_postgres(to) && !Path::new(to).exists()).then(|| PathBuf::from(to));
    let target = Store::connect(to).await?;
    let copied = match source.copy_to(&target).await {
        Ok(copied) => copied,
        Err(e) => {
            target.close().await;
            if let Some(file) = new_file {
                for suffix in ["", "-wal", "-shm"] {
                    let mut path = file.clone().into_os_string();
                    path.push(suffix);
                    let _ = std::fs::remove_file(path);
                }
            }
            return Err(e.into());
        }
    };
    for (table, rows) in &copied {
        println!("{table:<20} {rows:>9} rows");
    }
    println!(
        "Copied {} into {}; the counts match. Serve it with --db {}.",
        shown(from),
        shown(to),
        shown(to)
    );
    Ok(())
}
