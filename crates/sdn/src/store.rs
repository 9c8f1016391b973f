//! SQLite persistence: `<data-dir>/sdn.sqlite`, a table of endpoints (one JSON document each)
//! and an append-only history table, so a restart loses nothing.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use crate::endpoint::{Endpoint, HistoryEntry};
use crate::error::SdnError;

/// The file name in the data directory.
pub const FILE_NAME: &str = "sdn.sqlite";

/// The endpoint store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating) `<dir>/sdn.sqlite`.
    pub fn open(dir: &Path) -> Result<Store, SdnError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| SdnError::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join(FILE_NAME);
        let err = |source| SdnError::Store {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS sdn_endpoints (
                 id TEXT PRIMARY KEY,
                 doc TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS sdn_history (
                 id TEXT NOT NULL,
                 time REAL NOT NULL,
                 kind TEXT NOT NULL,
                 detail TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS sdn_history_id ON sdn_history(id, time);",
        )
        .map_err(err)?;
        Ok(Store { conn, path })
    }

    fn err(&self, source: rusqlite::Error) -> SdnError {
        SdnError::Store {
            path: self.path.clone(),
            source,
        }
    }

    /// Every endpoint. A row that no longer decodes is skipped with a warning.
    pub fn load(&self) -> Result<Vec<Endpoint>, SdnError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, doc FROM sdn_endpoints ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, doc) = row.map_err(|e| self.err(e))?;
            match serde_json::from_str::<Endpoint>(&doc) {
                Ok(e) => out.push(e),
                Err(e) => tracing::warn!(id, %e, "skipping undecodable endpoint row"),
            }
        }
        Ok(out)
    }

    /// Writes changed endpoints, their new history entries, and removals, in one
    /// transaction. `history` lists (id, entry) appended since the last save.
    pub fn save(
        &mut self,
        changed: &[&Endpoint],
        history: &[(String, HistoryEntry)],
        removed: &[String],
    ) -> Result<(), SdnError> {
        let path = self.path.clone();
        let err = |source| SdnError::Store {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut up = tx
                .prepare_cached("INSERT OR REPLACE INTO sdn_endpoints (id, doc) VALUES (?1, ?2)")
                .map_err(err)?;
            for e in changed {
                let doc = serde_json::to_string(e).unwrap_or_default();
                up.execute(params![e.id, doc]).map_err(err)?;
            }
            let mut h = tx
                .prepare_cached(
                    "INSERT INTO sdn_history (id, time, kind, detail) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for (id, e) in history {
                h.execute(params![id, e.time, e.kind, e.detail])
                    .map_err(err)?;
            }
            let mut del = tx
                .prepare_cached("DELETE FROM sdn_endpoints WHERE id = ?1")
                .map_err(err)?;
            for id in removed {
                del.execute(params![id]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// The full history of one endpoint, oldest first.
    pub fn history(&self, id: &str) -> Result<Vec<HistoryEntry>, SdnError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT time, kind, detail FROM sdn_history WHERE id = ?1 ORDER BY time, rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok(HistoryEntry {
                    time: r.get(0)?,
                    kind: r.get(1)?,
                    detail: r.get(2)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}
