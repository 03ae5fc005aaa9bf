//! Project assets in an S3-compatible store: a real local S3 server (moto's, from PyPI) started
//! once per test run. Never skipped: moto is found (PROJECTFLO_MOTO_SERVER, or `moto_server` on
//! PATH) or installed in a virtual environment under /tmp on first use (the one `.ci/run` makes);
//! when it cannot be, the tests fail, saying how to install it.
use crate::delivery::{create, data_dir, film_bytes, patch, project_of};
use crate::helpers::{Template, TestApp};
use crate::portal::couple;
use sha2::{Digest, Sha256};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The moto server's address, started once per test run (it dies with the test process).
fn moto() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let bin = moto_bin();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (tx, rx) = std::sync::mpsc::channel();
        // moto dies with the thread that spawned it, which lives as long as it does.
        std::thread::spawn(move || {
            let mut cmd = Command::new(&bin);
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            unsafe {
                cmd.pre_exec(|| {
                    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                        .map_err(std::io::Error::from)
                });
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "cannot start the local S3 server `{bin}` ({e}): install it with \
                     `pip install 'moto[server]==5.2.5'` or set PROJECTFLO_MOTO_SERVER to its \
                     moto_server (.ci/run does)"
                )
            });
            tx.send(()).unwrap();
            let _ = child.wait();
        });
        rx.recv()
            .expect("the local S3 server (moto_server) did not start");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the local S3 server (moto_server) did not listen on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        format!("http://127.0.0.1:{port}")
    })
}

/// The pinned moto, in the virtual environment `.ci/run` makes too.
const MOTO: &str = "5.2.5";

/// Where moto_server is: the setting, PATH, or our virtual environment (made on first use).
fn moto_bin() -> String {
    if let Ok(bin) = std::env::var("PROJECTFLO_MOTO_SERVER") {
        return bin;
    }
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("moto_server").is_file()));
    if on_path {
        return "moto_server".into();
    }
    let venv = std::env::temp_dir().join(format!("projectflo-moto-{MOTO}"));
    let bin = venv.join("bin").join("moto_server");
    if !bin.is_file() {
        eprintln!(
            "installing moto[server]=={MOTO} into {} (once)",
            venv.display()
        );
        let ok = |c: &mut Command| c.status().is_ok_and(|s| s.success());
        let made = ok(Command::new("python3").arg("-m").arg("venv").arg(&venv))
            && ok(Command::new(venv.join("bin").join("pip")).args([
                "install",
                "-q",
                &format!("moto[server]=={MOTO}"),
            ]));
        assert!(
            made,
            "could not install moto into {} (needs python3-venv and PyPI)",
            venv.display()
        );
    }
    bin.to_string_lossy().into_owned()
}

/// A new empty bucket.
async fn bucket() -> String {
    let name = format!("pf-{}", uuid::Uuid::new_v4().simple());
    let resp = reqwest::Client::new()
        .put(format!("{}/{name}", moto()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "creating the bucket");
    name
}

/// An object of the bucket, read straight from the S3 server; None when there is none.
async fn object(bucket: &str, key: &str) -> Option<Vec<u8>> {
    let resp = reqwest::Client::new()
        .get(format!("{}/{bucket}/{key}", moto()))
        .send()
        .await
        .unwrap();
    (resp.status() == 200).then_some(())?;
    Some(resp.bytes().await.unwrap().to_vec())
}

fn with_s3(s: &mut projectflo::config::Settings, dir: std::path::PathBuf, bucket: &str) {
    s.data_dir = dir;
    s.s3_bucket = Some(bucket.into());
    s.s3_endpoint = Some(moto().into());
    s.s3_region = Some("us-east-1".into());
    s.s3_access_key_id = Some("testing".into());
    s.s3_secret_access_key = Some(projectflo::config::Secret("testing".into()));
    s.s3_allow_http = true;
}

/// A tus upload in several chunks reaches the bucket (a multipart upload of several parts):
/// the object has the film's size and SHA-256, nothing is left under the data dir, the couple's
/// link serves it with ranges from the bucket, and a revoked link stops at once.
#[tokio::test]
async fn a_tus_upload_lands_in_the_s3_bucket_and_is_served_in_ranges() {
    let dir = data_dir();
    let bucket = bucket().await;
    let (d, b) = (dir.clone(), bucket.clone());
    let app = TestApp::with_settings(Template::Demo, move |s| with_s3(s, d, &b)).await;
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("s3").await;
    let a = couple(&app, "Sam", "sam@example.org").await;
    let project = project_of(&app, a.client_id).await;

    // 20 MB in three PATCHes: pushed as parts of 8 MiB, 8 MiB and the rest.
    let film = film_bytes(20_000_000, 7);
    let url = create(&app, &token, project, "Sam film.mp4", "Export", film.len()).await;
    let cuts = [0, 7_000_000, 14_000_000, film.len()];
    let mut asset = None;
    for w in cuts.windows(2) {
        let resp = patch(&app, &token, &url, w[0], film[w[0]..w[1]].to_vec()).await;
        assert_eq!(resp.status(), 204);
        assert_eq!(resp.headers()["upload-offset"], w[1].to_string().as_str());
        asset = resp
            .headers()
            .get("asset-id")
            .map(|v| v.to_str().unwrap().parse::<i32>().unwrap());
    }
    let asset = asset.expect("the last chunk makes the asset");
    let (key, sha): (String, String) =
        sqlx::query_as("SELECT storage_path, sha256 FROM project_assets WHERE id = $1")
            .bind(asset)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let want_sha = hex::encode(Sha256::digest(&film));
    assert_eq!(sha, want_sha);

    // The push runs after the answer: wait for the object.
    let deadline = Instant::now() + Duration::from_secs(60);
    let stored = loop {
        if let Some(bytes) = object(&bucket, &key).await {
            break bytes;
        }
        assert!(Instant::now() < deadline, "{key} never reached the bucket");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(stored.len(), film.len());
    assert_eq!(hex::encode(Sha256::digest(&stored)), want_sha);
    // The partial file goes once the object is complete; nothing is kept under the data dir.
    let deadline = Instant::now() + Duration::from_secs(10);
    let partial = dir.join("assets/partial");
    while std::fs::read_dir(&partial).is_ok_and(|mut d| d.next().is_some()) {
        assert!(Instant::now() < deadline, "the partial file stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !dir.join(&key).exists(),
        "an S3 asset is not kept on disk too"
    );

    // The studio downloads it from the bucket.
    let resp = owner
        .get(&format!("/projects/{project}/assets/{asset}/file"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], "20000000");
    assert_eq!(
        hex::encode(Sha256::digest(resp.bytes().await.unwrap())),
        want_sha
    );

    // The couple's link serves ranges from the bucket: 206 with the exact bytes, 416 past the end.
    let resp = owner
        .post_json(
            &format!("/api/v1/assets/{asset}/links"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let made: serde_json::Value = resp.json().await.unwrap();
    let link = made["id"].as_i64().unwrap();
    let link_url = made["url"].as_str().unwrap().to_string();
    let ranged = |range: &'static str| app.client.get(&link_url).header("Range", range).send();
    let resp = ranged("bytes=9000000-9999999").await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"],
        "bytes 9000000-9999999/20000000"
    );
    assert_eq!(resp.headers()["content-length"], "1000000");
    assert_eq!(
        resp.bytes().await.unwrap().as_ref(),
        &film[9_000_000..10_000_000]
    );
    let resp = ranged("bytes=-10").await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &film[19_999_990..]);
    let resp = ranged("bytes=20000000-").await.unwrap();
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], "bytes */20000000");

    // A push cut short by a stop: the object is not in the bucket yet and the finished file is
    // still on disk. The link serves it from the disk meanwhile; the push redone at start-up
    // puts it in the bucket and removes it from the disk.
    let upload = uuid::Uuid::parse_str(url.rsplit('/').next().unwrap()).unwrap();
    let resp = reqwest::Client::new()
        .delete(format!("{}/{bucket}/{key}", moto()))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert!(object(&bucket, &key).await.is_none());
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join(upload.to_string()), &film).unwrap();
    let resp = ranged("bytes=0-99").await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &film[..100]);
    let mut settings = projectflo::config::Settings::defaults();
    with_s3(&mut settings, dir.clone(), &bucket);
    let storage = projectflo::storage::Storage::new(&settings).unwrap();
    projectflo::storage::push_pending(app.db.clone(), storage).await;
    let stored = object(&bucket, &key).await.expect("pushed at start-up");
    assert_eq!(hex::encode(Sha256::digest(&stored)), want_sha);
    assert!(!partial.join(upload.to_string()).exists());
    let resp = ranged("bytes=0-99").await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &film[..100]);

    // Revoked: it stops on the next request.
    let resp = owner
        .post_json(
            &format!("/api/v1/delivery-links/{link}/revoke"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = ranged("bytes=0-9").await.unwrap();
    assert_eq!(resp.status(), 404);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A bucket without its credentials, or an http:// endpoint not allowed, stops start-up with a
/// line naming the setting.
#[test]
fn partial_s3_settings_stop_start_up() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_projectflo"))
            .args(args)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["migrate", "--s3-bucket", "films"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--s3-access-key-id"), "{err}");
    let (code, err) = run(&["migrate", "--s3-access-key-id", "k"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--s3-bucket"), "{err}");
    let dir = data_dir();
    let (code, err) = run(&[
        "migrate",
        "--data-dir",
        dir.to_str().unwrap(),
        "--s3-bucket",
        "films",
        "--s3-access-key-id",
        "k",
        "--s3-secret-access-key",
        "s",
        "--s3-endpoint",
        "http://127.0.0.1:9000",
    ]);
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("--s3-allow-http"), "{err}");
    assert!(
        !dir.join("postgres").exists(),
        "refused before the database is touched"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// An upload over 1 GB through the tus endpoints in 8 MB chunks, then pushed to the bucket: the
/// server (in this process) keeps its memory flat through both. Run by hand:
/// `cargo test --test app -- --ignored s3::a_1_1_gb` (prints the peak RSS).
#[tokio::test]
#[ignore]
async fn a_1_1_gb_upload_to_s3_keeps_the_memory_flat() {
    let dir = data_dir();
    let bucket = bucket().await;
    let (d, b) = (dir.clone(), bucket.clone());
    let app = TestApp::with_settings(Template::Demo, move |s| with_s3(s, d, &b)).await;
    let owner = app.demo_login("Owner").await;
    let token = owner.api_token("big").await;
    let a = couple(&app, "Gia", "gia@example.org").await;
    let project = project_of(&app, a.client_id).await;
    let total: usize = 1_100 * 1_000_000;
    let chunk: usize = 8 * 1_000_000;
    let url = create(&app, &token, project, "feature.mp4", "Export", total).await;
    let block = film_bytes(chunk, 9);
    let before = peak_rss_kb();
    let mut at = 0;
    while at < total {
        let n = chunk.min(total - at);
        let resp = patch(&app, &token, &url, at, block[..n].to_vec()).await;
        assert_eq!(resp.status(), 204);
        at += n;
    }
    let uploaded = peak_rss_kb();
    let key: String = sqlx::query_scalar(
        "SELECT storage_path FROM project_assets WHERE project_id = $1 AND file_name = 'feature.mp4'",
    )
    .bind(project)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let started = Instant::now();
    let size = loop {
        let resp = reqwest::Client::new()
            .head(format!("{}/{bucket}/{key}", moto()))
            .send()
            .await
            .unwrap();
        if resp.status() == 200 {
            break resp.headers()["content-length"]
                .to_str()
                .unwrap()
                .to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(600), "never pushed");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let pushed = peak_rss_kb();
    assert_eq!(size, total.to_string());
    println!(
        "1.1 GB upload to S3: peak RSS {before} kB before, {uploaded} kB after the tus upload, \
         {pushed} kB after the push ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    assert!(
        pushed < before + 200_000,
        "memory grew from {before} kB to {pushed} kB"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
