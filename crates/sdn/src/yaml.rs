//! [`FaucetYaml`]: a [`MirrorControl`] that edits `faucet.yaml` directly, for deployments
//! without faucetconfrpc. Faucet's stat-reload (`FAUCET_CONFIG_STAT_RELOAD=1`) applies it.
//!
//! Only the `mirror` list of one interface changes. The edit is made on the text itself
//! (comments, key order, quoting and `dp_id: 0x1` stay as the user wrote them) and then
//! checked: the edited text is parsed and must equal the original document with just that
//! list changed. If the file's layout defeats the text edit (flow-style mappings, anchors),
//! the document is re-serialised instead, as faucetconfrpc does. The result is validated
//! with Faucet's own `check_faucet_config` when it is installed, written to a temporary file
//! in the same directory and renamed over the original (atomic for Faucet's reader).
//!
//! YAML crate: `serde_norway`, the maintained fork of the deprecated `serde_yaml` (same
//! API and YAML 1.1-ish behaviour Faucet's PyYAML has, on `unsafe-libyaml`); `serde_yml`
//! has had soundness and maintenance problems, and `saphyr` has no serde `Value` to compare
//! documents with.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::{Mapping, Value};

use crate::error::MirrorError;
use crate::{MirrorControl, MirrorFuture};

const BACKEND: &str = "faucet.yaml";

/// Edits a faucet.yaml's mirror lists.
#[derive(Debug)]
pub struct FaucetYaml {
    path: PathBuf,
    check: Option<PathBuf>,
    lock: std::sync::Mutex<()>,
}

/// What to do with a mirror list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Append a port if absent.
    Add(u32),
    /// Remove a port.
    Remove(u32),
    /// Empty the list.
    Clear,
}

impl FaucetYaml {
    /// Edits `path`, validating with `check_faucet_config` from `PATH` if there is one.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> FaucetYaml {
        FaucetYaml {
            path: path.into(),
            check: find_in_path("check_faucet_config"),
            lock: std::sync::Mutex::new(()),
        }
    }

    /// Uses this `check_faucet_config` (or none).
    #[must_use]
    pub fn with_check(mut self, check: Option<PathBuf>) -> FaucetYaml {
        self.check = check;
        self
    }

    /// The file edited.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The validator used, if any.
    #[must_use]
    pub fn check_command(&self) -> Option<&Path> {
        self.check.as_deref()
    }

    fn cfg_err(&self, detail: impl Into<String>) -> MirrorError {
        MirrorError::Config {
            path: self.path.clone(),
            detail: detail.into(),
        }
    }

    /// Reads the mirror list of `mirror_port` on `dp` (for tests and status).
    pub fn mirror_list(&self, dp: &str, mirror_port: u32) -> Result<Vec<u32>, MirrorError> {
        let text = self.read()?;
        let doc = parse(&text).map_err(|d| self.cfg_err(d))?;
        let iface = find_interface(&doc, dp, mirror_port).map_err(|d| self.cfg_err(d))?;
        Ok(mirror_of(iface))
    }

    fn read(&self) -> Result<String, MirrorError> {
        std::fs::read_to_string(&self.path).map_err(|e| MirrorError::Unreachable {
            backend: BACKEND,
            detail: format!("reading {}: {e}", self.path.display()),
        })
    }

    /// Applies one edit synchronously (what the async trait methods run).
    pub fn apply(&self, dp: &str, mirror_port: u32, edit: Edit) -> Result<(), MirrorError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let text = self.read()?;
        let Some(new_text) = edit_text(&text, dp, mirror_port, edit).map_err(|d| match d {
            EditError::Missing => MirrorError::MissingPort {
                backend: BACKEND,
                dp_name: dp.to_string(),
                port_no: mirror_port,
            },
            EditError::Bad(d) => self.cfg_err(d),
        })?
        else {
            return Ok(()); // nothing to change
        };
        self.write_validated(&new_text, dp, mirror_port, edit)
    }

    /// Sets `acls_in` of `port` on `dp` (see [`edit_acls_text`]); with `dry_run` nothing is
    /// written. Returns the new text when it changes.
    pub fn apply_acls(
        &self,
        dp: &str,
        port: u32,
        acls: &[String],
        dry_run: bool,
    ) -> Result<Option<String>, MirrorError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let text = self.read()?;
        let new_text = edit_acls_text(&text, dp, port, acls).map_err(|d| match d {
            EditError::Missing => MirrorError::MissingPort {
                backend: BACKEND,
                dp_name: dp.to_string(),
                port_no: port,
            },
            EditError::Bad(d) => self.cfg_err(d),
        })?;
        if let Some(t) = &new_text
            && !dry_run
        {
            self.write_file(&self.path, t, "SetPortAcl", dp, port)?;
        }
        Ok(new_text)
    }

    /// The text of the main file.
    pub fn text(&self) -> Result<String, MirrorError> {
        self.read()
    }

    /// Writes `name` (relative to the main file's directory; empty = the main file),
    /// validated (a file other than the main one is validated by checking the main file,
    /// which must include it) and renamed into place.
    pub fn write_named(&self, name: &str, yaml: &str) -> Result<(), MirrorError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if name.is_empty() {
            return self.write_file(&self.path, yaml, "SetConfigFile", "", 0);
        }
        if name.contains('/') || name.starts_with('.') {
            return Err(self.cfg_err(format!("refusing to write {name:?} outside its directory")));
        }
        parse(yaml).map_err(|d| self.cfg_err(format!("{name}: {d}")))?;
        let target = self.dir().join(name);
        let ck = self.check.clone();
        // Included files cannot be checked alone; the main file is checked after the write.
        let plain = FaucetYaml {
            path: target.clone(),
            check: None,
            lock: std::sync::Mutex::new(()),
        };
        plain.write_file(&target, yaml, "SetConfigFile", "", 0)?;
        if let Some(check) = ck {
            let out = Command::new(&check).arg(&self.path).output();
            if let Ok(out) = out
                && !out.status.success()
            {
                return Err(MirrorError::Refused {
                    backend: BACKEND,
                    op: "SetConfigFile",
                    dp_name: String::new(),
                    port_no: 0,
                    detail: format!(
                        "check_faucet_config after writing {name}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                });
            }
        }
        Ok(())
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn write_validated(
        &self,
        text: &str,
        dp: &str,
        port: u32,
        edit: Edit,
    ) -> Result<(), MirrorError> {
        self.write_file(&self.path, text, op_name(edit), dp, port)
    }

    fn write_file(
        &self,
        path: &Path,
        text: &str,
        op: &'static str,
        dp: &str,
        port: u32,
    ) -> Result<(), MirrorError> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let io_err = |e: std::io::Error| self.cfg_err(format!("writing in {}: {e}", dir.display()));
        let mut tmp = tempfile::Builder::new()
            .prefix(".trident-faucet-")
            .suffix(".yaml")
            .tempfile_in(dir)
            .map_err(io_err)?;
        tmp.write_all(text.as_bytes()).map_err(io_err)?;
        tmp.as_file().sync_all().map_err(io_err)?;
        if let Ok(meta) = std::fs::metadata(path) {
            let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
        }
        if let Some(check) = &self.check {
            let out = Command::new(check).arg(tmp.path()).output().map_err(|e| {
                MirrorError::Unreachable {
                    backend: BACKEND,
                    detail: format!("running {}: {e}", check.display()),
                }
            })?;
            if !out.status.success() {
                let mut detail = String::from_utf8_lossy(&out.stderr).trim().to_string();
                if detail.is_empty() {
                    detail = String::from_utf8_lossy(&out.stdout).trim().to_string();
                }
                return Err(MirrorError::Refused {
                    backend: BACKEND,
                    op,
                    dp_name: dp.to_string(),
                    port_no: port,
                    detail: format!("check_faucet_config: {detail}"),
                });
            }
        }
        tmp.persist(path)
            .map_err(|e| self.cfg_err(format!("renaming into place: {}", e.error)))?;
        Ok(())
    }
}

fn op_name(edit: Edit) -> &'static str {
    match edit {
        Edit::Add(_) => "AddPortMirror",
        Edit::Remove(_) => "RemovePortMirror",
        Edit::Clear => "ClearPortMirror",
    }
}

impl MirrorControl for FaucetYaml {
    fn backend(&self) -> &'static str {
        BACKEND
    }
    fn add_port_mirror<'a>(&'a self, dp: &'a str, port: u32, mirror: u32) -> MirrorFuture<'a> {
        Box::pin(async move { self.apply(dp, mirror, Edit::Add(port)) })
    }
    fn remove_port_mirror<'a>(&'a self, dp: &'a str, port: u32, mirror: u32) -> MirrorFuture<'a> {
        Box::pin(async move { self.apply(dp, mirror, Edit::Remove(port)) })
    }
    fn clear_port_mirror<'a>(&'a self, dp: &'a str, mirror: u32) -> MirrorFuture<'a> {
        Box::pin(async move { self.apply(dp, mirror, Edit::Clear) })
    }
    fn get_config(&self) -> crate::ConfigFuture<'_> {
        Box::pin(async move { self.read() })
    }
    fn set_port_acls<'a>(&'a self, dp: &'a str, port: u32, acls: &'a [String]) -> MirrorFuture<'a> {
        Box::pin(async move { self.apply_acls(dp, port, acls, false).map(|_| ()) })
    }
    fn set_config_file<'a>(&'a self, name: &'a str, yaml: &'a str) -> MirrorFuture<'a> {
        Box::pin(async move { self.write_named(name, yaml) })
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Why an edit is impossible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The DP or the mirror port is not in the file.
    Missing,
    /// The file does not parse, or has an unexpected shape.
    Bad(String),
}

/// Parses YAML, naming the position of a syntax error.
pub fn parse(text: &str) -> Result<Value, String> {
    serde_norway::from_str(text).map_err(|e| match e.location() {
        Some(l) => format!("YAML error at line {} column {}: {e}", l.line(), l.column()),
        None => format!("YAML error: {e}"),
    })
}

fn port_of_key(k: &Value) -> Option<u64> {
    match k {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The interface block `mirror_port` of DP `dp` (by key, or by `number:`).
fn find_interface<'a>(doc: &'a Value, dp: &str, port: u32) -> Result<&'a Mapping, String> {
    let dps = doc
        .get("dps")
        .and_then(Value::as_mapping)
        .ok_or("no `dps` mapping")?;
    let dpv = dps
        .get(Value::String(dp.to_string()))
        .and_then(Value::as_mapping)
        .ok_or_else(|| format!("no DP {dp:?} under dps"))?;
    let ifaces = dpv
        .get("interfaces")
        .and_then(Value::as_mapping)
        .ok_or_else(|| format!("DP {dp:?} has no interfaces mapping"))?;
    let key = interface_key(ifaces, port).ok_or_else(|| format!("DP {dp:?} has no port {port}"))?;
    ifaces
        .get(&key)
        .and_then(Value::as_mapping)
        .ok_or_else(|| format!("DP {dp:?} port {port} is not a mapping"))
}

/// The mapping of `port` on `dp` in a document already checked by [`find_interface`],
/// for editing.
fn interface_mut<'a>(
    doc: &'a mut Value,
    dp: &str,
    port: u32,
) -> Result<&'a mut Mapping, EditError> {
    let ifaces = doc
        .get_mut("dps")
        .and_then(|d| d.get_mut(dp))
        .and_then(|d| d.get_mut("interfaces"))
        .and_then(Value::as_mapping_mut)
        .ok_or_else(|| EditError::Bad("interfaces vanished".into()))?;
    let key = interface_key(ifaces, port).ok_or(EditError::Missing)?;
    ifaces
        .get_mut(&key)
        .and_then(Value::as_mapping_mut)
        .ok_or(EditError::Missing)
}

fn interface_key(ifaces: &Mapping, port: u32) -> Option<Value> {
    let want = u64::from(port);
    ifaces
        .iter()
        .find(|(k, _)| port_of_key(k) == Some(want))
        .or_else(|| {
            ifaces.iter().find(|(_, v)| {
                v.get("number")
                    .and_then(|n| n.as_u64().or_else(|| n.as_str()?.parse().ok()))
                    == Some(want)
            })
        })
        .map(|(k, _)| k.clone())
}

fn mirror_of(iface: &Mapping) -> Vec<u32> {
    match iface.get("mirror") {
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(|v| port_of_key(v).and_then(|p| u32::try_from(p).ok()))
            .collect(),
        Some(v) => port_of_key(v)
            .and_then(|p| u32::try_from(p).ok())
            .into_iter()
            .collect(),
        None => Vec::new(),
    }
}

fn new_list(old: &[u32], edit: Edit) -> Vec<u32> {
    match edit {
        Edit::Add(p) if !old.contains(&p) => old.iter().copied().chain([p]).collect(),
        Edit::Add(_) => old.to_vec(),
        Edit::Remove(p) => old.iter().copied().filter(|x| *x != p).collect(),
        Edit::Clear => Vec::new(),
    }
}

/// Edits the text: `Ok(None)` when nothing changes, else the new text (surgical when
/// possible, re-serialised otherwise). Non-numeric mirror entries (port names) are kept
/// only by the re-serialising path.
pub fn edit_text(text: &str, dp: &str, port: u32, edit: Edit) -> Result<Option<String>, EditError> {
    let doc = parse(text).map_err(EditError::Bad)?;
    let iface = match find_interface(&doc, dp, port) {
        Ok(i) => i,
        Err(e) if e.starts_with("no DP") || e.contains("has no port") => {
            return Err(EditError::Missing);
        }
        Err(e) => return Err(EditError::Bad(e)),
    };
    let old = mirror_of(iface);
    let new = new_list(&old, edit);
    if new == old && iface.contains_key("mirror") {
        return Ok(None);
    }
    if new.is_empty() && !iface.contains_key("mirror") {
        return Ok(None);
    }
    // The expected document.
    let mut expected = doc.clone();
    {
        let im = interface_mut(&mut expected, dp, port)?;
        im.insert(
            Value::String("mirror".into()),
            Value::Sequence(new.iter().map(|p| Value::Number((*p).into())).collect()),
        );
    }
    if let Some(t) = surgical(text, dp, port, &new)
        && parse(&t).ok().as_ref() == Some(&expected)
    {
        return Ok(Some(t));
    }
    serde_norway::to_string(&expected)
        .map(Some)
        .map_err(|e| EditError::Bad(format!("re-serialising: {e}")))
}

/// The `acls_in` list of interface `port` on `dp`.
pub fn port_acls(doc: &Value, dp: &str, port: u32) -> Result<Vec<String>, String> {
    let iface = find_interface(doc, dp, port)?;
    Ok(match iface.get("acls_in") {
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    })
}

/// Sets the `acls_in` list of interface `port` on `dp`: `Ok(None)` when nothing changes,
/// else the new text (surgical when possible, re-serialised otherwise).
pub fn edit_acls_text(
    text: &str,
    dp: &str,
    port: u32,
    acls: &[String],
) -> Result<Option<String>, EditError> {
    let doc = parse(text).map_err(EditError::Bad)?;
    let old = match port_acls(&doc, dp, port) {
        Ok(a) => a,
        Err(e) if e.starts_with("no DP") || e.contains("has no port") => {
            return Err(EditError::Missing);
        }
        Err(e) => return Err(EditError::Bad(e)),
    };
    let present = find_interface(&doc, dp, port).is_ok_and(|i| i.contains_key("acls_in"));
    if old == acls && (present || acls.is_empty()) {
        return Ok(None);
    }
    let mut expected = doc.clone();
    {
        let im = interface_mut(&mut expected, dp, port)?;
        if acls.is_empty() {
            im.remove("acls_in");
        } else {
            im.insert(
                Value::String("acls_in".into()),
                Value::Sequence(acls.iter().map(|a| Value::String(a.clone())).collect()),
            );
        }
    }
    let surgical_text = if acls.is_empty() {
        None
    } else {
        surgical_list(text, dp, port, "acls_in", &format!("[{}]", acls.join(", ")))
    };
    if let Some(t) = surgical_text
        && parse(&t).ok().as_ref() == Some(&expected)
    {
        return Ok(Some(t));
    }
    serde_norway::to_string(&expected)
        .map(Some)
        .map_err(|e| EditError::Bad(format!("re-serialising: {e}")))
}

/// Indentation and key of a block-mapping line (`  key: rest`), skipping blanks/comments.
fn key_line(line: &str) -> Option<(usize, &str, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let body = &line[indent..];
    if body.is_empty() || body.starts_with('#') || body.starts_with('-') {
        return None;
    }
    let colon = find_key_colon(body)?;
    let key = body[..colon].trim();
    let key = key
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
        .unwrap_or(key);
    Some((indent, key, &body[colon + 1..]))
}

fn find_key_colon(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b':' && bytes.get(i + 1).is_none_or(|n| *n == b' ' || *n == b'\t') => {
                return Some(i);
            }
            None if b == b'#' || b == b'{' || b == b'[' => return None,
            None => {}
        }
    }
    None
}

/// The line range `(start, end)` of the block under the key line at `at` (end exclusive).
fn block_end(lines: &[&str], at: usize, indent: usize) -> usize {
    let mut end = at + 1;
    let mut last_content = at + 1;
    while end < lines.len() {
        let l = lines[end];
        let t = l.trim_start_matches(' ');
        if t.is_empty() || t.starts_with('#') {
            end += 1;
            continue;
        }
        if l.len() - t.len() <= indent {
            break;
        }
        end += 1;
        last_content = end;
    }
    last_content
}

/// Finds the child key line of the block at `parent` (indent `pi`) matching `pred`.
fn child(
    lines: &[&str],
    parent: usize,
    pi: Option<usize>,
    pred: impl Fn(&str) -> bool,
) -> Option<(usize, usize)> {
    let (start, end) = match pi {
        Some(pi) => (parent + 1, block_end(lines, parent, pi)),
        None => (0, lines.len()),
    };
    let mut child_indent: Option<usize> = None;
    for (i, l) in lines.iter().enumerate().take(end).skip(start) {
        let Some((ind, key, _)) = key_line(l) else {
            continue;
        };
        if pi.is_some_and(|p| ind <= p) {
            break;
        }
        let ci = *child_indent.get_or_insert(ind);
        if ind == ci && pred(key) {
            return Some((i, ind));
        }
    }
    None
}

fn surgical(text: &str, dp: &str, port: u32, new: &[u32]) -> Option<String> {
    let list = format!(
        "[{}]",
        new.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    surgical_list(text, dp, port, "mirror", &list)
}

/// Sets `key: <list>` (a flow list, already formatted) in one interface block, keeping
/// everything else of the text.
fn surgical_list(text: &str, dp: &str, port: u32, key: &str, list: &str) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let (dps, di) = child(&lines, 0, None, |k| k == "dps")?;
    let (dpl, dpi) = child(&lines, dps, Some(di), |k| k == dp)?;
    let (ifl, ifi) = child(&lines, dpl, Some(dpi), |k| k == "interfaces")?;
    let port_s = port.to_string();
    let (pl, pi) = child(&lines, ifl, Some(ifi), |k| k == port_s).or_else(|| {
        // An interface named by `name` whose `number:` is the port.
        let end = block_end(&lines, ifl, ifi);
        (ifl + 1..end).find_map(|i| {
            let (ind, _, _) = key_line(lines[i])?;
            let (nl, _) = child(&lines, i, Some(ind), |k| k == "number")?;
            let (_, _, v) = key_line(lines[nl])?;
            (v.split('#').next()?.trim() == port_s).then_some((i, ind))
        })
    })?;
    let mut out: Vec<String> = lines.iter().map(|s| (*s).to_string()).collect();
    match child(&lines, pl, Some(pi), |k| k == key) {
        Some((ml, mi)) => {
            let (_, _, rest) = key_line(lines[ml])?;
            let comment = rest
                .find(" #")
                .map(|c| rest[rest[..c].trim_end().len()..].to_string())
                .unwrap_or_default();
            let value = rest.split(" #").next().unwrap_or("").trim();
            // Block sequence below (`mirror:` then `- 1` lines): drop those lines.
            let end = if value.is_empty() {
                block_end(&lines, ml, mi).max(ml + 1)
            } else {
                ml + 1
            };
            if value.is_empty() {
                // Sequence items may sit at the same indent as `mirror:`.
                let mut e = end;
                while e < lines.len() && lines[e].trim_start().starts_with("- ") {
                    let ind = lines[e].len() - lines[e].trim_start().len();
                    if ind < mi {
                        break;
                    }
                    e += 1;
                }
                let e = e.max(end);
                out.splice(ml..e, [format!("{}{key}: {list}{comment}", " ".repeat(mi))]);
            } else {
                out[ml] = format!("{}{key}: {list}{comment}", " ".repeat(mi));
            }
        }
        None => {
            let ci = child(&lines, pl, Some(pi), |_| true).map_or(pi + 2, |(_, i)| i);
            out.insert(pl + 1, format!("{}{key}: {list}", " ".repeat(ci)));
        }
    }
    Some(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED: &str = "vlans:\n  office:\n    vid: 100\ndps:\n  sw1:\n    dp_id: 0x1\n    interfaces:\n      1:\n        native_vlan: office\n      3:\n        output_only: true\n        # keep me\n        mirror: [1]  # trailing\n";

    #[test]
    fn surgical_keeps_comments() {
        let t = edit_text(SHARED, "sw1", 3, Edit::Add(2)).unwrap().unwrap();
        assert!(t.contains("mirror: [1, 2]  # trailing"), "{t}");
        assert!(t.contains("# keep me") && t.contains("dp_id: 0x1"));
        let t = edit_text(&t, "sw1", 3, Edit::Clear).unwrap().unwrap();
        assert!(t.contains("mirror: []"), "{t}");
        assert_eq!(edit_text(SHARED, "sw1", 3, Edit::Add(1)).unwrap(), None);
    }

    #[test]
    fn block_list_and_missing_key() {
        let y = "dps:\n  sw1:\n    interfaces:\n      3:\n        output_only: true\n        mirror:\n        - 1\n        - 2\n      4:\n        native_vlan: 1\n";
        let t = edit_text(y, "sw1", 3, Edit::Remove(1)).unwrap().unwrap();
        assert_eq!(
            mirror_of(find_interface(&parse(&t).unwrap(), "sw1", 3).unwrap()),
            vec![2]
        );
        assert!(t.contains("      4:\n"), "{t}");
        let t = edit_text(y, "sw1", 4, Edit::Add(7)).unwrap().unwrap();
        assert_eq!(
            mirror_of(find_interface(&parse(&t).unwrap(), "sw1", 4).unwrap()),
            vec![7]
        );
        assert_eq!(
            edit_text(y, "sw9", 3, Edit::Add(1)),
            Err(EditError::Missing)
        );
        assert_eq!(
            edit_text(y, "sw1", 9, Edit::Add(1)),
            Err(EditError::Missing)
        );
        assert!(matches!(
            edit_text("dps: [\n", "sw1", 3, Edit::Add(1)),
            Err(EditError::Bad(m)) if m.contains("line")
        ));
    }

    #[test]
    fn flow_style_falls_back_to_reserialising() {
        let y = "dps: {sw1: {interfaces: {3: {mirror: [1]}}}}\n";
        let t = edit_text(y, "sw1", 3, Edit::Add(2)).unwrap().unwrap();
        assert_eq!(
            mirror_of(find_interface(&parse(&t).unwrap(), "sw1", 3).unwrap()),
            vec![1, 2]
        );
    }

    #[test]
    fn interface_by_number() {
        let y = "dps:\n  sw1:\n    interfaces:\n      mirrorport:\n        number: 3\n        output_only: true\n";
        let t = edit_text(y, "sw1", 3, Edit::Add(1)).unwrap().unwrap();
        assert_eq!(
            mirror_of(find_interface(&parse(&t).unwrap(), "sw1", 3).unwrap()),
            vec![1]
        );
    }
}
