//! The HTTP API over `oneshot` (no socket): every route on a store filled from the samples
//! and corpus captures, and every error path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use trident_serve::{DataSource, ServeOptions};

/// The routes docs/API.md promises (besides the dashboard and Poseidon's /v1).
const API_MD_ROUTES: &[(&str, &str)] = &[
    ("DELETE", "/api/v1/captures/{id}"),
    ("GET", "/api/v1/captures"),
    ("GET", "/api/v1/captures/{id}"),
    ("GET", "/api/v1/fields"),
    ("GET", "/api/v1/flows"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/hosts"),
    ("GET", "/api/v1/hosts/{key}"),
    ("GET", "/api/v1/hosts/{key}/flows"),
    ("GET", "/api/v1/hosts/{key}/predictions"),
    ("GET", "/api/v1/isn"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/parallel"),
    ("GET", "/api/v1/sensors"),
    ("GET", "/api/v1/series"),
    ("GET", "/api/v1/summary"),
    ("GET", "/api/v1/top"),
    ("GET", "/api/v1/traffic"),
    ("GET", "/metrics"),
    ("POST", "/api/v1/captures"),
    ("POST", "/api/v1/captures/{id}/classify"),
    ("POST", "/api/v1/hosts/{key}/classify"),
];

#[tokio::test]
async fn openapi_document_lists_exactly_the_routes_served() {
    let dir = filled_dir("openapi");
    let app = app_with(options(&dir));
    let doc = get_ok(&app, "/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "delete", "patch"] {
            if item.get(m).is_some() {
                documented.push((m.to_uppercase(), path.clone()));
            }
        }
    }
    documented.sort();
    assert_eq!(documented, trident_serve::documented_routes());
    let mut promised: Vec<(String, String)> = API_MD_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    promised.sort();
    assert_eq!(documented, promised);
    // Every documented route is served: none falls through to "no route" or 405.
    for (m, p) in &documented {
        let path = p
            .replace("{id}", "0123456789abcdef")
            .replace("{key}", "00:00:00:00:00:00");
        let a = call(&app, m, &path, Vec::new()).await;
        assert_ne!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{m} {path}");
        if a.status == StatusCode::NOT_FOUND {
            let d = a.error(404, "not_found");
            assert!(!d.starts_with("no route"), "{m} {path} is not routed: {d}");
        }
    }
    // And a path that is not a route answers in the API's error shape.
    get(&app, "/api/v1/nope").await.error(404, "not_found");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn count_routes_answer() {
    let dir = filled_dir("counts");
    let app = app_with(options(&dir));
    assert_eq!(get_ok(&app, "/api/v1/health").await["status"], "ok");
    let fields = get_ok(&app, "/api/v1/fields").await;
    assert!(
        fields
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "dport")
    );
    let top = get_ok(&app, "/api/v1/top?field=dport&limit=5").await;
    let rows = top["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .any(|r| r["value"] == "443" && r["annotation"] == "https")
    );
    let counts: Vec<u64> = rows.iter().map(|r| r["count"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]));
    let pp = get_ok(&app, "/api/v1/top?field=dport&per_protocol=true&limit=3").await;
    assert!(pp["rows"][0]["protocol"].is_string());
    let skip = get_ok(&app, "/api/v1/top?field=dport&skip=443,80").await;
    assert!(
        skip["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["value"] != "443" && r["value"] != "80")
    );

    let sensors = get_ok(&app, "/api/v1/sensors").await;
    let s0 = &sensors[0];
    let day = s0["days"][0].as_str().unwrap().to_owned();
    let sensor = s0["sensor"].as_str().unwrap().to_owned();
    let month = &day[..7];
    let top_day = get_ok(&app, &format!("/api/v1/top?field=ipsrc&day={day}")).await;
    assert_eq!(top_day["period"]["from"], day.as_str());
    assert!(!top_day["rows"].as_array().unwrap().is_empty());
    get_ok(
        &app,
        &format!("/api/v1/top?field=ipsrc&month={month}&sensor={sensor}"),
    )
    .await;
    get_ok(
        &app,
        &format!("/api/v1/top?field=ipsrc&from={day}&to={day}"),
    )
    .await;
    let top_month = get_ok(&app, &format!("/api/v1/top?field=dport&month={month}")).await;
    let value = top_month["rows"][0]["value"].as_str().unwrap().to_owned();
    let series = get_ok(
        &app,
        &format!("/api/v1/series?field=dport&value={value}&month={month}"),
    )
    .await;
    let points = series["points"].as_array().unwrap();
    assert!(points.len() >= 28);
    assert!(points.iter().any(|p| p["count"].as_u64().unwrap() > 0));
    let year = &day[..4];
    let y = get_ok(
        &app,
        &format!("/api/v1/series?field=dport&value=443&year={year}"),
    )
    .await;
    assert!(y["points"].as_array().unwrap().len() >= 365);
    let par = get_ok(
        &app,
        &format!("/api/v1/parallel?field=dport&month={month}&limit=3"),
    )
    .await;
    let ndays = par["days"].as_array().unwrap().len();
    assert!(ndays >= 28);
    for r in par["rows"].as_array().unwrap() {
        assert_eq!(r["counts"].as_array().unwrap().len(), ndays);
    }
    let isn = get_ok(&app, &format!("/api/v1/isn?day={day}&limit=10")).await;
    assert!(isn["points"].as_array().unwrap().len() <= 10);
    get_ok(
        &app,
        &format!("/api/v1/isn?day={day}&from=00:00&minutes=1440"),
    )
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn record_routes_answer() {
    let dir = filled_dir("records");
    let app = app_with(options(&dir));
    let summary = get_ok(&app, "/api/v1/summary").await;
    assert!(summary["packets"].as_u64().unwrap() > 0);
    assert!(summary["hosts"].as_u64().unwrap() > 0);
    let day = summary["days"][0].as_str().unwrap().to_owned();
    get_ok(&app, &format!("/api/v1/summary?day={day}")).await;
    let traffic = get_ok(&app, &format!("/api/v1/traffic?day={day}")).await;
    assert_eq!(traffic["bucket_seconds"], 60);
    get_ok(&app, "/api/v1/traffic?bucket_seconds=3600").await;
    get_ok(
        &app,
        "/api/v1/traffic?from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00.5Z",
    )
    .await;

    let hosts = get_ok(&app, "/api/v1/hosts?limit=5&sort=packets").await;
    assert!(hosts["total"].as_u64().unwrap() > 0);
    let items = hosts["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() <= 5);
    let packets: Vec<u64> = items
        .iter()
        .map(|h| h["packets"].as_u64().unwrap())
        .collect();
    assert!(packets.windows(2).all(|w| w[0] >= w[1]), "{packets:?}");
    let key = items[0]["key"].as_str().unwrap().to_owned();
    let page2 = get_ok(&app, "/api/v1/hosts?limit=1&offset=1&order=asc&sort=mac").await;
    assert_eq!(page2["offset"], 1);
    get_ok(
        &app,
        "/api/v1/hosts?subnet=0.0.0.0/0&q=a&role=Unknown&vendor=x&os=linux",
    )
    .await;

    let detail = get_ok(&app, &format!("/api/v1/hosts/{key}")).await;
    assert_eq!(detail["summary"]["key"], key.as_str());
    assert!(detail["record"].is_object());
    let hf = get_ok(&app, &format!("/api/v1/hosts/{key}/flows?limit=3")).await;
    assert!(hf["total"].as_u64().unwrap() > 0);
    get_ok(&app, &format!("/api/v1/hosts/{key}/predictions")).await;

    let flows = get_ok(&app, "/api/v1/flows?limit=2").await;
    assert!(flows["total"].as_u64().unwrap() > 0);
    let f0 = &flows["items"][0];
    assert!(f0["id"].is_string() && f0["sensor"].is_string());
    get_ok(&app, "/api/v1/flows?protocol=tcp&port=443").await;
    get_ok(&app, "/api/v1/flows?protocol=17&from=2000-01-01T00:00:00Z").await;
    get_ok(&app, &format!("/api/v1/flows?host={key}")).await;

    let caps = get_ok(&app, "/api/v1/captures").await;
    let caps = caps.as_array().unwrap();
    assert_eq!(caps.len(), fill_paths().len());
    let id = caps[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        get_ok(&app, &format!("/api/v1/captures/{id}")).await["status"],
        "done"
    );
    // A file ingested from disk is classified again from its recorded path while the file
    // there is unchanged...
    let again = call(
        &app,
        "POST",
        &format!("/api/v1/captures/{id}/classify"),
        vec![],
    )
    .await;
    assert_eq!(
        again.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&again.body)
    );
    assert!(again.json().is_array());
    // ...and not once it has changed.
    let moved = dir.join("changed.pcap");
    std::fs::copy(corpus().join("ndpi/443-safari.pcap"), &moved).unwrap();
    {
        let mut store = trident_index::SqliteStore::open(&dir).unwrap();
        trident_serve::ingest_path(&mut store, &moved, None).unwrap();
    }
    let caps = get_ok(&app, "/api/v1/captures").await;
    let changed = caps
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "changed.pcap")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .expect("the copy was ingested");
    std::fs::copy(repo().join("samples/wikipedia.pcap"), &moved).unwrap();
    call(
        &app,
        "POST",
        &format!("/api/v1/captures/{changed}/classify"),
        vec![],
    )
    .await
    .error(409, "conflict");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn bad_parameters_are_400_and_name_the_parameter() {
    let dir = filled_dir("bad");
    let app = app_with(options(&dir));
    let cases = [
        ("/api/v1/top", "field"),
        ("/api/v1/top?field=nope", "field"),
        ("/api/v1/top?field=tcpseq", "field"),
        ("/api/v1/top?field=dport&limit=0", "limit"),
        ("/api/v1/top?field=dport&limit=1001", "limit"),
        ("/api/v1/top?field=dport&limit=x", "limit"),
        ("/api/v1/top?field=dport&day=2014-13-01", "day"),
        ("/api/v1/top?field=dport&month=2014", "month"),
        ("/api/v1/top?field=dport&from=yesterday", "from"),
        ("/api/v1/top?field=dport&per_protocol=maybe", "per_protocol"),
        ("/api/v1/series?field=dport", "value"),
        ("/api/v1/series?field=dport&value=1&year=14", "year"),
        ("/api/v1/isn", "day"),
        ("/api/v1/isn?day=2014-08-01&from=25:00", "from"),
        ("/api/v1/isn?day=2014-08-01&minutes=0", "minutes"),
        ("/api/v1/parallel?field=dport", "month"),
        ("/api/v1/summary?day=1", "day"),
        ("/api/v1/traffic?from=now", "from"),
        ("/api/v1/traffic?bucket_seconds=61", "bucket_seconds"),
        ("/api/v1/hosts?subnet=10.0.0.0/33", "subnet"),
        ("/api/v1/hosts?sort=size", "sort"),
        ("/api/v1/hosts?order=up", "order"),
        ("/api/v1/hosts?limit=5000", "limit"),
        ("/api/v1/hosts?offset=-1", "offset"),
        ("/api/v1/flows?port=70000", "port"),
        ("/api/v1/flows?protocol=tcpx", "protocol"),
        ("/api/v1/flows?to=2014", "to"),
        ("/api/v1/captures/zzz", "id"),
    ];
    for (path, param) in cases {
        let d = get(&app, path).await.error(400, "bad_request");
        assert!(d.contains(param), "{path}: {d}");
    }
    get(&app, "/api/v1/hosts/00:11:22:33:44:55")
        .await
        .error(404, "not_found");
    get(&app, "/api/v1/hosts/00:11:22:33:44:55/flows")
        .await
        .error(404, "not_found");
    get(&app, "/api/v1/hosts/00:11:22:33:44:55/predictions")
        .await
        .error(404, "not_found");
    call(
        &app,
        "POST",
        "/api/v1/hosts/00:11:22:33:44:55/classify",
        vec![],
    )
    .await
    .error(404, "not_found");
    get(&app, "/api/v1/captures/0123456789abcdef")
        .await
        .error(404, "not_found");
    get(&app, "/api/v1/captures/999999")
        .await
        .error(404, "not_found");
    call(&app, "DELETE", "/api/v1/captures/999999", vec![])
        .await
        .error(404, "not_found");
    let _ = std::fs::remove_dir_all(dir);
}

async fn wait_done(app: &axum::Router, id: &str) -> serde_json::Value {
    for _ in 0..600 {
        let c = get_ok(app, &format!("/api/v1/captures/{id}")).await;
        let p = c["progress"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
        match c["status"].as_str().unwrap() {
            "queued" | "ingesting" => tokio::time::sleep(Duration::from_millis(50)).await,
            _ => return c,
        }
    }
    panic!("capture {id} never finished");
}

#[tokio::test]
async fn upload_ingest_classify_delete() {
    let dir = temp_dir("upload");
    let app = app_with(options(&dir));
    let bytes = std::fs::read(repo().join("samples/wikipedia.pcap")).unwrap();
    let a = call(
        &app,
        "POST",
        "/api/v1/captures?name=../../etc/x.pcap&sensor=lab",
        bytes.clone(),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let c = a.json();
    assert_eq!(c["name"], "x.pcap");
    assert_eq!(c["size"], bytes.len());
    let id = c["id"].as_str().unwrap().to_owned();
    // Stored under the server's id, inside the data directory only.
    assert!(dir.join("uploads").join(format!("{id}.pcap")).is_file());
    let done = wait_done(&app, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["progress"], 1.0);
    assert_eq!(done["sensor"], "lab");
    assert!(done["packets"].as_u64().unwrap() > 0);
    let list = get_ok(&app, "/api/v1/captures").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(
        get_ok(&app, "/api/v1/hosts").await["total"]
            .as_u64()
            .unwrap()
            > 0
    );

    // The same bytes again: skipped, nothing added.
    let again = call(&app, "POST", "/api/v1/captures", bytes).await.json();
    let again = wait_done(&app, again["id"].as_str().unwrap()).await;
    assert_eq!(again["status"], "skipped");

    let preds = call(
        &app,
        "POST",
        &format!("/api/v1/captures/{id}/classify"),
        vec![],
    )
    .await;
    assert_eq!(
        preds.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&preds.body)
    );
    let preds = preds.json();
    let mut known = None;
    for p in preds.as_array().unwrap() {
        let host = p["host"].as_str().unwrap();
        if get(&app, &format!("/api/v1/hosts/{host}")).await.status == StatusCode::OK {
            known = Some(p.clone());
            break;
        }
    }
    assert!(!preds.as_array().unwrap().is_empty());
    if let Some(p) = known {
        assert!(p["top"].as_array().unwrap().len() <= 3);
        let host = p["host"].as_str().unwrap();
        let hist = get_ok(&app, &format!("/api/v1/hosts/{host}/predictions")).await;
        assert!(hist.as_array().unwrap().len() >= 2, "{hist}");
        let one = call(
            &app,
            "POST",
            &format!("/api/v1/hosts/{host}/classify"),
            vec![],
        )
        .await;
        assert_eq!(
            one.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&one.body)
        );
        assert_eq!(one.json()["host"], host);
    }

    let del = call(&app, "DELETE", &format!("/api/v1/captures/{id}"), vec![]).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    get(&app, &format!("/api/v1/captures/{id}"))
        .await
        .error(404, "not_found");
    assert!(!dir.join("uploads").join(format!("{id}.pcap")).exists());
    assert_eq!(get_ok(&app, "/api/v1/summary").await["packets"], 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn uploads_that_are_not_captures_or_too_large_are_refused() {
    let dir = temp_dir("refuse");
    let mut opts = options(&dir);
    opts.max_upload_bytes = 20_000;
    let app = app_with(opts);
    let d = call(
        &app,
        "POST",
        "/api/v1/captures?name=notes.txt",
        b"hello, this is text\n".to_vec(),
    )
    .await
    .error(415, "unsupported_media_type");
    assert!(d.contains("not a capture"), "{d}");
    call(&app, "POST", "/api/v1/captures", b"ab".to_vec())
        .await
        .error(415, "unsupported_media_type");
    let big = std::fs::read(repo().join("samples/wikipedia.pcap")).unwrap();
    assert!(big.len() > 20_000);
    // No Content-Length (as `call` sends it): cut while streaming.
    call(&app, "POST", "/api/v1/captures", big.clone())
        .await
        .error(413, "too_large");
    // A declared Content-Length over the limit: refused before reading.
    let declared = send(
        &app,
        Request::post("/api/v1/captures")
            .header("content-length", big.len().to_string())
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    declared.error(413, "too_large");
    call(
        &app,
        "POST",
        "/api/v1/captures?name=",
        vec![0xd4, 0xc3, 0xb2, 0xa1],
    )
    .await
    .error(400, "bad_request");
    // Nothing of any refused upload is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.join("uploads")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_token_guards_everything_but_health_and_metrics() {
    let dir = temp_dir("token");
    let mut opts = options(&dir);
    opts.token = Some("s3cret".to_owned());
    let app = app_with(opts);
    get(&app, "/api/v1/summary")
        .await
        .error(401, "unauthorized");
    get(&app, "/").await.error(401, "unauthorized");
    get(&app, "/api/v1/openapi.json")
        .await
        .error(401, "unauthorized");
    assert_eq!(get(&app, "/api/v1/health").await.status, StatusCode::OK);
    assert_eq!(get(&app, "/metrics").await.status, StatusCode::OK);
    let wrong = send(
        &app,
        Request::get("/api/v1/summary")
            .header("authorization", "Bearer nope")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    wrong.error(401, "unauthorized");
    let ok = send(
        &app,
        Request::get("/api/v1/summary")
            .header("authorization", "Bearer s3cret")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let first = get(&app, "/?token=s3cret").await;
    assert_eq!(first.status, StatusCode::OK);
    let cookie = first.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"));
    let pair = cookie.split(';').next().unwrap().to_owned();
    let later = send(
        &app,
        Request::get("/api/v1/summary")
            .header("cookie", pair)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(later.status, StatusCode::OK);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let dir = filled_dir("metrics");
    let app = app_with(options(&dir));
    get(&app, "/api/v1/hosts/aa:bb:cc:dd:ee:ff").await;
    get_ok(&app, "/api/v1/top?field=dport").await;
    let m = get(&app, "/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    let text = String::from_utf8(m.body).unwrap();
    for name in [
        "trident_http_requests_total",
        "trident_http_request_duration_seconds_bucket",
        "trident_hosts ",
        "trident_flows ",
        "trident_store_size_bytes ",
        "trident_ingest_files_total{outcome=\"failed\"} 0",
        "trident_uploads_total{outcome=\"too_large\"} 0",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    assert!(text.contains("route=\"/api/v1/hosts/{key}\""), "{text}");
    assert!(!text.contains("aa:bb:cc"), "raw paths leak into labels");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_redis_store_answers_counts_and_refuses_records() {
    // Database 6 of the local Redis, only read: an empty potiron layout.
    let opts = ServeOptions {
        source: DataSource::Redis("redis://127.0.0.1:6379/6".to_owned()),
        token: None,
        max_upload_bytes: 1024,
    };
    let app = app_with(opts);
    let top = get(&app, "/api/v1/top?field=dport&day=2014-08-26").await;
    assert_eq!(
        top.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&top.body)
    );
    for path in [
        "/api/v1/hosts",
        "/api/v1/flows",
        "/api/v1/summary",
        "/api/v1/captures",
    ] {
        let d = get(&app, path).await.error(501, "not_implemented");
        assert!(d.contains("counts only"), "{d}");
    }
    call(
        &app,
        "POST",
        "/api/v1/captures",
        vec![0xd4, 0xc3, 0xb2, 0xa1],
    )
    .await
    .error(501, "not_implemented");
}

#[tokio::test]
async fn poseidon_network_lists_the_stores_hosts_and_applies_the_ip_filter() {
    let dir = filled_dir("poseidon");
    let app = app_with(options(&dir));
    let routes = get(&app, "/v1").await;
    assert_eq!(routes.status, StatusCode::OK);
    let raw = get(&app, "/v1/network").await;
    assert_eq!(raw.status, StatusCode::OK);
    let all = raw.json();
    let nodes = all["dataset"].as_array().unwrap();
    assert!(nodes.len() > 5, "{} nodes", nodes.len());
    // Poseidon's keys, in Poseidon's order (reference 4.1), as they appear in the body.
    let expected = [
        "hash_id",
        "mac",
        "ipv4_address",
        "ipv6_address",
        "ipv4_subnet",
        "ipv6_subnet",
        "tenant",
        "segment",
        "port",
        "state",
        "ignore",
        "top_role",
        "top_confidence",
        "ipv4_os",
        "ipv6_os",
        "ipv4_rdns",
        "ipv6_rdns",
        "ether_vendor",
        "controller_type",
        "acls",
    ];
    let mut keys: Vec<&str> = nodes[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut sorted = expected.to_vec();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    let text = String::from_utf8_lossy(&raw.body);
    let first = &text[..text.find('}').unwrap()];
    let at: Vec<usize> = expected
        .iter()
        .map(|k| first.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "key order {first}");
    assert!(
        !all["configuration"]["fields"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let with_v4 = nodes
        .iter()
        .find(|n| !n["ipv4_address"].as_str().unwrap().is_empty())
        .expect("a host with an IPv4 address");
    let ip = with_v4["ipv4_address"].as_str().unwrap();
    let one = get_ok(&app, &format!("/v1/network/{ip}")).await;
    let picked = one["dataset"].as_array().unwrap();
    assert!(!picked.is_empty() && picked.len() < nodes.len());
    assert!(picked.iter().all(|n| n["ipv4_address"] == ip));
    let none = get_ok(&app, "/v1/network/192.0.2.254").await;
    assert!(none["dataset"].as_array().unwrap().is_empty());
}

/// `serve --ingest` skips a file whose bytes are stored: the same file again, and a copy
/// under another name; a file with a stored file's name and size but other bytes is new.
#[test]
fn ingest_path_skips_stored_bytes_only() {
    use trident_serve::PathOutcome;
    let dir = std::env::temp_dir().join(format!("trident-serve-skip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(repo().join("samples/wikipedia.pcap")).unwrap();
    let first = dir.join("a.pcap");
    std::fs::write(&first, &bytes).unwrap();
    let mut store = trident_index::SqliteStore::open(&dir.join("store")).unwrap();
    let ingest = |store: &mut trident_index::SqliteStore, p: &std::path::Path| {
        trident_serve::ingest_path(store, p, None).unwrap().0
    };
    assert!(matches!(
        ingest(&mut store, &first),
        PathOutcome::Ingested { .. }
    ));
    assert!(matches!(ingest(&mut store, &first), PathOutcome::Skipped));
    let copy = dir.join("b.pcap");
    std::fs::write(&copy, &bytes).unwrap();
    assert!(matches!(ingest(&mut store, &copy), PathOutcome::Skipped));
    // Same name and size as a stored file, one timestamp byte changed: new bytes.
    let mut other = bytes.clone();
    other[24] ^= 1;
    std::fs::write(&first, &other).unwrap();
    assert!(matches!(
        ingest(&mut store, &first),
        PathOutcome::Ingested { .. }
    ));
    assert_eq!(store.files().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
