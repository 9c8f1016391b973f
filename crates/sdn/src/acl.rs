//! Automated ACLs from a rules file in Poseidon's format (reference 3.7), applied through the
//! same config path as mirrors: a port's `acls_in` in faucet.yaml, or faucetconfrpc's
//! `SetPortAcl`.
//!
//! ```yaml
//! include:                       # Faucet ACL files; copied next to faucet.yaml as
//!   - /opt/poseidon/acls.yaml    # poseidon_<name> and added to faucet.yaml's include
//! rules:
//!   rule-name-1:                 # matches when every clause matches
//!     - rule:
//!         device_key: os         # role | os | vendor | mac | segment | port | vlan | state | name
//!         value: Mac
//!         acls: [office-vlan-protect, foo]
//!     - rule:
//!         device_key: role
//!         value: Printer
//!         min_confidence: 50     # percent, role only
//!         acls: [no-external]
//!   everyone:
//!     - rule:
//!         acls: [allow-dns]      # a clause with only acls always matches
//! ```
//!
//! A matched rule adds the ACLs of all its clauses to the `acls_in` of the port the endpoint
//! is on; ACLs named anywhere in the rules file that no endpoint on that port matches any more
//! are removed; other ACLs on the port are left alone. Poseidon 0.18's version of this was
//! broken (reference 3.7: the OS clause read a key never filled, the role clause the old
//! result format, and only ports that already had an `acls_in` were touched); this one reads
//! trident's classification (top role and confidence, OS) and touches any port.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value;

use crate::endpoint::Endpoint;

/// What a clause looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKey {
    /// Top role of the latest classification (`developer-workstation` matches
    /// `Developer workstation`).
    Role,
    /// OS guess (equal, or a prefix of it: `Linux` matches `Linux 3.11 and newer`).
    Os,
    /// OUI vendor (substring, case-insensitive).
    Vendor,
    /// MAC address.
    Mac,
    /// Switch (`dp_name`).
    Segment,
    /// Port number.
    Port,
    /// VLAN: `100` or `VLAN100`.
    Vlan,
    /// State (`known`, `unknown`, `operating`, `queued`).
    State,
    /// A name from the passive inventory (DHCP, mDNS) or reverse DNS.
    Name,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClause {
    device_key: Option<DeviceKey>,
    value: Option<Value>,
    min_confidence: Option<f64>,
    #[serde(default)]
    acls: Vec<String>,
}

/// One clause (`- rule: {...}`) of a rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawClause")]
pub struct Clause {
    /// What to match; `None` = always matches.
    pub device_key: Option<DeviceKey>,
    /// The value to match.
    pub value: String,
    /// Minimum top-role confidence in percent (role clauses).
    pub min_confidence: Option<f64>,
    /// ACLs this clause contributes when the rule matches.
    pub acls: Vec<String>,
}

impl TryFrom<RawClause> for Clause {
    type Error = String;
    fn try_from(r: RawClause) -> Result<Clause, String> {
        let value = match r.value {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(_) => return Err("`value` must be a string or a number".into()),
        };
        match (&r.device_key, &value) {
            (Some(k), None) => return Err(format!("device_key {k:?} needs a `value`")),
            (None, Some(_)) => return Err("`value` without a `device_key`".into()),
            _ => {}
        }
        if let Some(c) = r.min_confidence {
            if !(0.0..=100.0).contains(&c) {
                return Err(format!("min_confidence {c} is not a percentage (0-100)"));
            }
            if r.device_key != Some(DeviceKey::Role) {
                return Err("min_confidence applies to device_key: role only".into());
            }
        }
        if r.acls.iter().any(|a| a.trim().is_empty()) {
            return Err("an empty ACL name in `acls`".into());
        }
        Ok(Clause {
            device_key: r.device_key,
            value: value.unwrap_or_default(),
            min_confidence: r.min_confidence,
            acls: r.acls,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    rule: Clause,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    rules: BTreeMap<String, Vec<Item>>,
}

/// A named rule: all clauses must match.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its name in the file.
    pub name: String,
    /// Its clauses.
    pub clauses: Vec<Clause>,
}

/// A parsed rules file.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// The file (for errors).
    pub path: PathBuf,
    /// Faucet ACL files to include (as written, relative paths resolved against the rules
    /// file's directory).
    pub include: Vec<PathBuf>,
    /// Rules in name order.
    pub rules: Vec<Rule>,
}

impl Rules {
    /// Reads and parses a rules file.
    ///
    /// # Errors
    /// A message naming the file, the field path and the line/column.
    pub fn from_file(path: &Path) -> Result<Rules, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading rules file {}: {e}", path.display()))?;
        Self::parse(&text, path)
    }

    /// Parses rules text; `path` names the file in errors and resolves relative includes.
    ///
    /// # Errors
    /// A message naming the file, the field path and the line/column.
    pub fn parse(text: &str, path: &Path) -> Result<Rules, String> {
        let raw: RawRules = serde_norway::from_str(text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                .unwrap_or_default();
            format!("rules file {}: {e}{at}", path.display())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut rules = Vec::new();
        for (name, items) in raw.rules {
            if items.is_empty() {
                return Err(format!(
                    "rules file {}: rules.{name}: a rule needs at least one `- rule:` clause{}",
                    path.display(),
                    line_of(text, &format!("{name}:"))
                ));
            }
            rules.push(Rule {
                name,
                clauses: items.into_iter().map(|i| i.rule).collect(),
            });
        }
        Ok(Rules {
            path: path.to_path_buf(),
            include: raw
                .include
                .iter()
                .map(|i| {
                    let p = PathBuf::from(i);
                    if p.is_absolute() { p } else { base.join(p) }
                })
                .collect(),
            rules,
        })
    }

    /// Every ACL name the rules can apply.
    #[must_use]
    pub fn all_acls(&self) -> BTreeSet<String> {
        self.rules
            .iter()
            .flat_map(|r| r.clauses.iter().flat_map(|c| c.acls.iter().cloned()))
            .collect()
    }

    /// Fails naming the rule and ACL when a rule applies an ACL that is in neither
    /// `defined` (the `acls:` of faucet.yaml and of the included files).
    ///
    /// # Errors
    /// The first undefined ACL, with its rule.
    pub fn check_defined(&self, defined: &BTreeSet<String>) -> Result<(), String> {
        for r in &self.rules {
            for c in &r.clauses {
                for a in &c.acls {
                    if !defined.contains(a) {
                        return Err(format!(
                            "rules file {}: rules.{}: ACL {a:?} is not defined in faucet.yaml nor in an included file",
                            self.path.display(),
                            r.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The ACLs the rules give `e`, in rule order, without duplicates.
    #[must_use]
    pub fn acls_for(&self, e: &Endpoint) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.rules {
            if r.clauses.iter().all(|c| clause_matches(c, e)) {
                for a in r.clauses.iter().flat_map(|c| &c.acls) {
                    if !out.contains(a) {
                        out.push(a.clone());
                    }
                }
            }
        }
        out
    }

    /// The name each included file gets next to faucet.yaml: `poseidon_<file name>`.
    #[must_use]
    pub fn include_names(&self) -> Vec<(PathBuf, String)> {
        self.include
            .iter()
            .map(|p| {
                let base = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "acls.yaml".into());
                (p.clone(), format!("poseidon_{base}"))
            })
            .collect()
    }
}

fn line_of(text: &str, needle: &str) -> String {
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map(|i| format!(" (line {})", i + 1))
        .unwrap_or_default()
}

fn norm_role(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace([' ', '_'], "-")
}

fn clause_matches(c: &Clause, e: &Endpoint) -> bool {
    let Some(key) = c.device_key else {
        return true;
    };
    let v = c.value.trim();
    let lower = v.to_ascii_lowercase();
    match key {
        DeviceKey::Role => match e.role_label() {
            Some((role, conf)) => {
                norm_role(&role) == norm_role(v)
                    && c.min_confidence.is_none_or(|m| conf * 100.0 >= m)
            }
            None => false,
        },
        DeviceKey::Os => e.os.as_deref().is_some_and(|os| {
            let os = os.to_ascii_lowercase();
            os == lower || os.starts_with(&format!("{lower} "))
        }),
        DeviceKey::Vendor => e
            .vendor
            .as_deref()
            .is_some_and(|x| x.to_ascii_lowercase().contains(&lower)),
        DeviceKey::Mac => e.mac.eq_ignore_ascii_case(v),
        DeviceKey::Segment => e.segment == v,
        DeviceKey::Port => v.parse::<u32>().is_ok_and(|p| p == e.port),
        DeviceKey::Vlan => {
            let n = lower.strip_prefix("vlan").unwrap_or(&lower);
            n.parse::<u16>().is_ok_and(|p| p == e.vlan)
        }
        DeviceKey::State => e.state.as_str() == lower,
        DeviceKey::Name => e
            .names
            .iter()
            .chain(e.rdns_v4.iter())
            .chain(e.rdns_v6.iter())
            .any(|n| n.eq_ignore_ascii_case(v)),
    }
}

/// One port's `acls_in` change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortChange {
    /// DP name.
    pub dp: String,
    /// Port.
    pub port: u32,
    /// `acls_in` now.
    pub old: Vec<String>,
    /// `acls_in` wanted.
    pub new: Vec<String>,
    /// Endpoints on the port whose rules ask for ACLs, with them.
    pub why: Matches,
}

impl std::fmt::Display for PortChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} port {}: acls_in [{}] -> [{}]",
            self.dp,
            self.port,
            self.old.join(", "),
            self.new.join(", ")
        )?;
        for (who, acls) in &self.why {
            write!(f, "; {who} matches [{}]", acls.join(", "))?;
        }
        Ok(())
    }
}

/// The endpoints (by MAC) on one port whose rules ask for ACLs, with those ACLs.
pub type Matches = Vec<(String, Vec<String>)>;

/// What the rules want per (switch, port) for these endpoints (ignored and inactive
/// endpoints count too: an ACL follows the device while it is on the port).
#[must_use]
pub fn desired(rules: &Rules, endpoints: &[Endpoint]) -> BTreeMap<(String, u32), Matches> {
    let mut out: BTreeMap<(String, u32), Matches> = BTreeMap::new();
    for e in endpoints {
        let acls = rules.acls_for(e);
        let entry = out.entry((e.segment.clone(), e.port)).or_default();
        if !acls.is_empty() {
            entry.push((e.mac.clone(), acls));
        }
    }
    out
}

/// The `acls_in` changes that bring faucet.yaml (`config_text`) in line with the rules for
/// these endpoints. Ports missing from the config are reported in the error list.
#[must_use]
pub fn plan(
    rules: &Rules,
    endpoints: &[Endpoint],
    config_text: &str,
) -> (Vec<PortChange>, Vec<String>) {
    let doc = match crate::yaml::parse(config_text) {
        Ok(d) => d,
        Err(e) => return (Vec::new(), vec![format!("faucet config: {e}")]),
    };
    let managed = rules.all_acls();
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    for ((dp, port), why) in desired(rules, endpoints) {
        let old = match crate::yaml::port_acls(&doc, &dp, port) {
            Ok(a) => a,
            Err(e) => {
                if !why.is_empty() {
                    errors.push(format!("{dp} port {port}: {e}"));
                }
                continue;
            }
        };
        let want: Vec<String> = {
            let mut v: Vec<String> = Vec::new();
            for a in why.iter().flat_map(|(_, a)| a) {
                if !v.contains(a) {
                    v.push(a.clone());
                }
            }
            v
        };
        let mut new: Vec<String> = old
            .iter()
            .filter(|a| !managed.contains(*a) || want.contains(a))
            .cloned()
            .collect();
        for a in &want {
            if !new.contains(a) {
                new.push(a.clone());
            }
        }
        if new != old {
            changes.push(PortChange {
                dp,
                port,
                old,
                new,
                why,
            });
        }
    }
    (changes, errors)
}

/// ACL names defined in a config document's `acls:`.
#[must_use]
pub fn defined_acls(doc: &Value) -> BTreeSet<String> {
    doc.get("acls")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// faucet.yaml's text with `names` in its top-level `include` list (`None`: already there).
/// Appends an `include:` block when there is none (keeping the text); otherwise the document
/// is re-serialised.
///
/// # Errors
/// The config does not parse or `include` is not a list.
pub fn with_includes(config_text: &str, names: &[String]) -> Result<Option<String>, String> {
    let doc = crate::yaml::parse(config_text)?;
    let existing: Vec<String> = match doc.get("include") {
        None => Vec::new(),
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(_) => return Err("faucet config: `include` is not a list".into()),
    };
    let missing: Vec<&String> = names.iter().filter(|n| !existing.contains(n)).collect();
    if missing.is_empty() {
        return Ok(None);
    }
    if doc.get("include").is_none() {
        let mut t = config_text.to_string();
        if !t.ends_with('\n') {
            t.push('\n');
        }
        t.push_str("include:\n");
        for n in &missing {
            t.push_str(&format!("  - {n}\n"));
        }
        if crate::yaml::parse(&t).is_ok() {
            return Ok(Some(t));
        }
    }
    let mut doc = doc;
    let list: Vec<Value> = existing
        .iter()
        .chain(missing.iter().copied())
        .map(|n| Value::String(n.clone()))
        .collect();
    if let Some(m) = doc.as_mapping_mut() {
        m.insert(Value::String("include".into()), Value::Sequence(list));
    }
    serde_norway::to_string(&doc)
        .map(Some)
        .map_err(|e| format!("re-serialising: {e}"))
}

/// What [`apply_yaml`] did (or, dry-run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclReport {
    /// The `acls_in` changes.
    pub changes: Vec<PortChange>,
    /// Included ACL files copied next to faucet.yaml (`poseidon_<name>`).
    pub includes: Vec<String>,
    /// faucet.yaml before.
    pub before: String,
    /// faucet.yaml after (what it would be, dry-run).
    pub after: String,
}

/// Applies the rules for `endpoints` to a faucet.yaml directly: included ACL files are
/// copied next to it and added to its `include`, then each port's `acls_in` is set, each
/// write validated (with `check_faucet_config` when the [`crate::yaml::FaucetYaml`] has one)
/// and atomic. With `dry_run` nothing is written; the report shows what would change.
///
/// # Errors
/// A rules ACL that is defined nowhere, an unreadable include, a config that does not parse,
/// a port missing from the config, or a refused write (naming the file).
pub fn apply_yaml(
    rules: &Rules,
    endpoints: &[Endpoint],
    yaml: &crate::yaml::FaucetYaml,
    dry_run: bool,
) -> Result<AclReport, String> {
    let before = yaml.text().map_err(|e| e.to_string())?;
    let doc = crate::yaml::parse(&before).map_err(|e| format!("{}: {e}", yaml.path().display()))?;
    let mut defined = defined_acls(&doc);
    let mut includes = Vec::new();
    let mut texts = Vec::new();
    for (src, name) in rules.include_names() {
        let text = std::fs::read_to_string(&src).map_err(|e| {
            format!(
                "reading {} (included by {}): {e}",
                src.display(),
                rules.path.display()
            )
        })?;
        let d = crate::yaml::parse(&text).map_err(|e| format!("{}: {e}", src.display()))?;
        defined.extend(defined_acls(&d));
        includes.push(name.clone());
        texts.push((name, text));
    }
    rules.check_defined(&defined)?;
    let mut after = before.clone();
    if let Some(t) = with_includes(&after, &includes)? {
        after = t;
    }
    let (changes, errors) = plan(rules, endpoints, &after);
    if let Some(e) = errors.first() {
        return Err(format!("{}: {e}", yaml.path().display()));
    }
    for c in &changes {
        if let Some(t) = crate::yaml::edit_acls_text(&after, &c.dp, c.port, &c.new)
            .map_err(|e| format!("{}: {c}: {e:?}", yaml.path().display()))?
        {
            after = t;
        }
    }
    if !dry_run {
        for (name, text) in &texts {
            yaml.write_named(name, text).map_err(|e| e.to_string())?;
        }
        if after != before {
            yaml.write_named("", &after).map_err(|e| e.to_string())?;
        }
    }
    Ok(AclReport {
        changes,
        includes,
        before,
        after,
    })
}

/// A line diff (`-`/`+` lines with a line number), for printing a dry run.
#[must_use]
pub fn line_diff(before: &str, after: &str) -> String {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    if a.len().saturating_mul(b.len()) > 4_000_000 {
        return format!(
            "(file too large to diff: {} -> {} lines)\n",
            a.len(),
            b.len()
        );
    }
    // LCS table.
    let mut l = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            l[i][j] = if a[i] == b[j] {
                l[i + 1][j + 1] + 1
            } else {
                l[i + 1][j].max(l[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || l[i][j + 1] >= l[i + 1][j]) {
            out.push_str(&format!("+{:>5} {}\n", j + 1, b[j]));
            j += 1;
        } else {
            out.push_str(&format!("-{:>5} {}\n", i + 1, a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_forms() {
        let r = Rules::parse(
            "rules:\n  a:\n    - rule:\n        acls: [x]\n  b:\n    - rule:\n        device_key: role\n        value: developer-workstation\n        min_confidence: 50\n        acls: [y]\n",
            Path::new("r.yaml"),
        )
        .unwrap();
        assert_eq!(r.rules.len(), 2);
        assert_eq!(r.all_acls().len(), 2);
    }

    #[test]
    fn includes_appended() {
        let t = with_includes("dps: {}\n", &["poseidon_a.yaml".into()])
            .unwrap()
            .unwrap();
        assert!(t.ends_with("include:\n  - poseidon_a.yaml\n"), "{t}");
        assert_eq!(
            with_includes(&t, &["poseidon_a.yaml".into()]).unwrap(),
            None
        );
    }
}
