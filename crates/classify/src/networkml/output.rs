//! networkML's two output shapes, byte for byte: the algorithm stage's result JSON (§5.1)
//! and the CLI's `predict.json` (§5.2). Both are Python `json.dumps` with its default
//! separators (`", "`, `": "`), `repr` floats and ASCII-escaped strings.

use crate::pyfmt::{write_json_f64, write_json_str};

/// The networkML version the output claims to come from.
pub const NETWORKML_VERSION: &str = "0.6.19";

/// One host's prediction, in networkML's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// `top_role`: the best class if its probability is above the threshold, else `Unknown`.
    pub top_role: String,
    /// `role_list`: the top classes and probabilities, best first (ties in class order).
    pub role_list: Vec<(String, f64)>,
    /// `source_mac`: `aa:bb:cc:dd:ee:ff`.
    pub source_mac: String,
    /// `source_ip`, or `None` (JSON `null`).
    pub source_ip: Option<String>,
    /// `timestamp`: the host's latest packet time, seconds since the epoch.
    pub timestamp: f64,
}

/// The predictions made from one capture file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileResult {
    /// The key networkML uses: the basename of its packet CSV, `<capture basename>.csv.gz`.
    pub filename: String,
    /// One entry per classified host.
    pub predictions: Vec<Prediction>,
}

/// The result JSON networkML logs (golden `result.json`): `{"<file>.csv.gz": [{...}]}`.
#[must_use]
pub fn result_json(files: &[FileResult]) -> String {
    let mut o = String::from("{");
    for (i, file) in files.iter().enumerate() {
        if i > 0 {
            o.push_str(", ");
        }
        write_json_str(&file.filename, &mut o);
        o.push_str(": [");
        for (j, p) in file.predictions.iter().enumerate() {
            if j > 0 {
                o.push_str(", ");
            }
            o.push_str("{\"top_role\": ");
            write_json_str(&p.top_role, &mut o);
            o.push_str(", \"role_list\": [");
            for (k, (role, prob)) in p.role_list.iter().enumerate() {
                if k > 0 {
                    o.push_str(", ");
                }
                o.push('[');
                write_json_str(role, &mut o);
                o.push_str(", ");
                write_json_f64(*prob, &mut o);
                o.push(']');
            }
            o.push_str("], \"source_mac\": ");
            write_json_str(&p.source_mac, &mut o);
            o.push_str(", \"source_ip\": ");
            write_opt_str(p.source_ip.as_deref(), &mut o);
            o.push_str(", \"timestamp\": ");
            write_json_f64(p.timestamp, &mut o);
            o.push('}');
        }
        o.push(']');
    }
    o.push('}');
    o
}

/// Who ran networkML, as Poseidon passes it in the environment (`id`, `file_path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictMeta {
    /// The environment's `id`: `id` is it or `""`, `uid` is it or `"None"`.
    pub id: Option<String>,
    /// The environment's `file_path`, else the path given on the command line.
    pub file_path: String,
}

/// `predict.json` as networkML's CLI writes it. `display_name` maps a class to its
/// human-readable label (networkML's `label_assignments.json`).
#[must_use]
pub fn predict_json(
    meta: &PredictMeta,
    files: &[FileResult],
    display_name: &dyn Fn(&str) -> String,
) -> String {
    let base = basename(&meta.file_path);
    let (pcap_key, pcap_labels) = parse_pcap_name(base);
    let id = meta.id.as_deref().unwrap_or("");
    let uid = meta.id.as_deref().unwrap_or("None");
    // mac -> entry; a MAC seen again keeps its first position and takes the last value,
    // as a Python dict does.
    let mut entries: Vec<(String, String)> = Vec::new();
    for p in files.iter().flat_map(|f| &f.predictions) {
        let mut e = String::from("{\"uid\": ");
        write_json_str(uid, &mut e);
        e.push_str(", \"file_path\": ");
        write_json_str(&meta.file_path, &mut e);
        e.push_str(", \"pcap\": ");
        write_json_str(base, &mut e);
        e.push_str(", \"pcap_key\": ");
        write_opt_str(pcap_key.as_deref(), &mut e);
        e.push_str(", \"pcap_labels\": ");
        write_opt_str(pcap_labels.as_deref(), &mut e);
        e.push_str(", \"timestamp\": ");
        write_json_f64(p.timestamp, &mut e);
        e.push_str(", \"source_ip\": ");
        write_opt_str(p.source_ip.as_deref(), &mut e);
        e.push_str(", \"decisions\": {\"investigate\": ");
        e.push_str(if p.top_role == "Unknown" {
            "true"
        } else {
            "false"
        });
        e.push_str("}, \"classification\": {\"labels\": [");
        for (k, (role, _)) in p.role_list.iter().enumerate() {
            if k > 0 {
                e.push_str(", ");
            }
            write_json_str(&display_name(role), &mut e);
        }
        e.push_str("], \"confidences\": [");
        for (k, (_, prob)) in p.role_list.iter().enumerate() {
            if k > 0 {
                e.push_str(", ");
            }
            write_json_f64(*prob, &mut e);
        }
        e.push_str("]}}");
        match entries.iter_mut().find(|(mac, _)| *mac == p.source_mac) {
            Some(slot) => slot.1 = e,
            None => entries.push((p.source_mac.clone(), e)),
        }
    }
    let mut head = String::new();
    head.push_str("\"tool\": \"networkml\", ");
    let mut o = String::from("[{");
    o.push_str(&head);
    o.push_str("\"version\": ");
    write_json_str(NETWORKML_VERSION, &mut o);
    o.push_str(", \"id\": ");
    write_json_str(id, &mut o);
    o.push_str(", \"type\": \"metadata\", \"file_path\": ");
    write_json_str(&meta.file_path, &mut o);
    o.push_str(", \"results\": {\"tool\": \"networkml\", \"version\": ");
    write_json_str(NETWORKML_VERSION, &mut o);
    o.push_str("}, \"data\": {\"mac_addresses\": {");
    for (i, (mac, entry)) in entries.iter().enumerate() {
        if i > 0 {
            o.push_str(", ");
        }
        write_json_str(mac, &mut o);
        o.push_str(": ");
        o.push_str(entry);
    }
    o.push_str("}}}, {");
    o.push_str(&head);
    o.push_str("\"id\": ");
    write_json_str(id, &mut o);
    o.push_str(", \"type\": \"metadata\", \"file_path\": ");
    write_json_str(&meta.file_path, &mut o);
    o.push_str(", \"data\": \"\", \"results\": {\"tool\": \"networkml\", \"version\": ");
    write_json_str(NETWORKML_VERSION, &mut o);
    o.push_str("}}]");
    o
}

fn write_opt_str(s: Option<&str>, out: &mut String) {
    match s {
        Some(s) => write_json_str(s, out),
        None => out.push_str("null"),
    }
}

/// Python's `os.path.basename`: the part after the last `/`.
#[must_use]
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// networkML's `parse_pcap_name`: `(pcap_key, pcap_labels)` from a capture's basename.
///
/// Poseidon names (`trace_<hex>_<date>[-client|-server-<labels>].pcap`) give the hex key and
/// the labels; any other name gives the part before the first `.`. The `.` before `pcap`
/// in networkML's regular expressions is unescaped, so it matches any character.
#[must_use]
pub fn parse_pcap_name(base: &str) -> (Option<String>, Option<String>) {
    let Some(rest) = base.strip_prefix("trace_") else {
        return (
            Some(base.split('.').next().unwrap_or(base).to_owned()),
            None,
        );
    };
    // ^trace_([\da-f]+)_([0-9\_\-]+)-(client|server)-(.+).pcap$
    // ^trace_([\da-f]+)_([0-9\_\-]+).pcap$
    let key_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        .count();
    if key_len == 0 {
        return (None, None);
    }
    let (key, after) = rest.split_at(key_len);
    let Some(after) = after.strip_prefix('_') else {
        return (None, None);
    };
    let is_date = |b: u8| b.is_ascii_digit() || b == b'_' || b == b'-';
    let ends_pcap = |s: &str| {
        let b = s.as_bytes();
        b.len() >= 5 && b.get(b.len() - 4..) == Some(b"pcap".as_slice())
    };
    // First pattern: the date part is greedy, so try every split point from the right.
    for role in ["client", "server"] {
        let marker = format!("-{role}-");
        let mut search = after.len();
        while let Some(pos) = after.get(..search).and_then(|s| s.rfind(&marker)) {
            let (date, tail) = after.split_at(pos);
            let labels_and_ext = tail.get(marker.len()..).unwrap_or("");
            if !date.is_empty()
                && date.bytes().all(is_date)
                && labels_and_ext.len() >= 6
                && ends_pcap(labels_and_ext)
            {
                let labels = labels_and_ext.get(..labels_and_ext.len() - 5).unwrap_or("");
                return (Some(key.to_owned()), Some(labels.to_owned()));
            }
            search = pos;
        }
    }
    // Second pattern: date then any character then `pcap` and the end.
    if ends_pcap(after) {
        let date = after.get(..after.len() - 5).unwrap_or("");
        if !date.is_empty() && date.bytes().all(is_date) {
            return (Some(key.to_owned()), None);
        }
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_names_parse_like_networkml() {
        // Expected values: reference §5.2 examples.
        assert_eq!(
            parse_pcap_name("trace_ab12_2001-01-01_02_03-client-ip6-1-2-3-4.pcap"),
            (Some("ab12".into()), Some("ip6-1-2-3-4".into()))
        );
        assert_eq!(
            parse_pcap_name("trace_d0b0c5_2016-02-19_18_41_11.pcap"),
            (Some("d0b0c5".into()), None)
        );
        assert_eq!(
            parse_pcap_name("443-firefox.pcap"),
            (Some("443-firefox".into()), None)
        );
        assert_eq!(parse_pcap_name("trace_xyz.pcap"), (None, None));
        // The unescaped dot: `_pcap` matches too.
        assert_eq!(
            parse_pcap_name("trace_ab_2020_pcap"),
            (Some("ab".into()), None)
        );
    }
}
