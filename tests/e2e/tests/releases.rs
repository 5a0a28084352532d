//! Multi-file releases through the real stack on the local emulator: the
//! files uploaded tagged `ota:release` start nothing of their own, the
//! release manifest under the release prefix becomes one job whose document
//! has every file with its own signature and file id, and one stream serves
//! every pinned version. A release with a missing file creates nothing.
//!
//! `#[ignore]`d like every end-to-end test: scripts/test.sh runs them with
//! `--ignored` against the deployed stack.

use e2e::{firmware, Local};
use serde_json::{json, Value};

/// Uploads a file of the release `release_key` (tagged so it starts
/// nothing) and waits for its run, which must say so; its version id.
async fn upload_release_file(l: &Local, key: &str, body: &[u8], release_key: &str) -> String {
    let version = l.upload(key, body, &[("ota:release", release_key)]).await;
    let done = l.wait_for(key, &version, 1).await;
    done[0].assert_succeeded();
    assert_eq!(done[0].output["partOf"], release_key, "{}", done[0].output);
    assert!(
        done[0].output["skipped"]
            .as_str()
            .is_some_and(|s| s.contains("starts no update of its own")),
        "{}",
        done[0].output
    );
    version
}

/// Uploads the release manifest; its version id.
async fn upload_release(l: &Local, key: &str, manifest: &Value) -> String {
    l.upload(key, manifest.to_string().as_bytes(), &[]).await
}

fn release_key(l: &Local, name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}e2e-{name}-{nanos}.json", l.release_prefix)
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_two_file_release_becomes_one_job_with_both_files_and_one_stream() {
    let l = Local::connect().await;
    let release = release_key(&l, "gateway");
    let device = l.new_thing("release-gw").await;
    let (app_key, radio_key) = (l.unique_key("release-app"), l.unique_key("release-radio"));
    let (app, radio) = (firmware(120_000, 41), firmware(20_000, 42));
    let app_version = upload_release_file(&l, &app_key, &app, &release).await;
    let radio_version = upload_release_file(&l, &radio_key, &radio, &release).await;
    // A newer upload of the app file after the release was written does not
    // matter: the manifest pins the radio file, and the app file's current
    // version is pinned when the release starts (here: the one uploaded).
    assert_eq!(
        l.signing_jobs_for(&app_key).await,
        0,
        "a release file alone signs nothing"
    );

    let manifest = json!({
        "targets": ["thinggroup/Lab", format!("thing/{device}")],
        "protocols": ["HTTP", "MQTT"],
        "files": [
            {"key": app_key, "filePath": "/ota/app.bin"},
            {"key": radio_key, "versionId": radio_version, "filePath": "/ota/radio.bin", "fileType": 2}
        ]
    });
    let release_version = upload_release(&l, &release, &manifest).await;
    let job_id = l.job_for(&release, &release_version).await;
    let doc = l.job_document(&job_id).await;
    let files = doc["afr_ota"]["files"].as_array().expect("files").clone();
    assert_eq!(files.len(), 2, "{doc}");
    for (i, (f, (path, body, file_type))) in files
        .iter()
        .zip([("/ota/app.bin", &app, 0), ("/ota/radio.bin", &radio, 2)])
        .enumerate()
    {
        assert_eq!(f["fileid"], i, "{f}");
        assert_eq!(f["filepath"], path, "{f}");
        assert_eq!(f["filesize"], body.len(), "{f}");
        assert_eq!(f["fileType"], file_type, "{f}");
        let sig = f["sig-sha256-ecdsa"].as_str().expect("signature");
        assert!(
            l.verify(body, sig),
            "file {i}: its own signature verifies over its bytes"
        );
    }
    assert_ne!(files[0]["sig-sha256-ecdsa"], files[1]["sig-sha256-ecdsa"]);
    assert!(files[1]["update_data_url"]
        .as_str()
        .is_some_and(|u| u.contains(&format!("%3FversionId%3D{radio_version}"))));

    let stream_id = doc["afr_ota"]["streamname"].as_str().expect("a stream");
    let info = l
        .iot
        .describe_stream()
        .stream_id(stream_id)
        .send()
        .await
        .expect("DescribeStream");
    let mut served: Vec<(i32, String, String)> = info
        .stream_info()
        .expect("stream info")
        .files()
        .iter()
        .map(|f| {
            let s = f.s3_location().expect("location");
            (
                f.file_id().unwrap_or(-1),
                s.key().unwrap_or_default().to_string(),
                s.version().unwrap_or_default().to_string(),
            )
        })
        .collect();
    served.sort();
    assert_eq!(
        served,
        [
            (0, app_key.clone(), app_version.clone()),
            (1, radio_key.clone(), radio_version.clone())
        ]
    );
    assert_eq!(l.signing_jobs_for(&app_key).await, 1);
    assert_eq!(l.signing_jobs_for(&radio_key).await, 1);
    let job = l.describe_job(&job_id).await;
    assert_eq!(
        job.targets(),
        [
            "arn:aws:iot:us-east-1:000000000000:thinggroup/Lab".to_string(),
            format!("arn:aws:iot:us-east-1:000000000000:thing/{device}")
        ]
    );

    // A device on the AWS IoT Jobs OTA parser, told to take every file (as
    // an application looping over otaParser_parseJobDocFile does),
    // downloads both pinned versions over their presigned URLs (HTTP comes
    // first), verifies each with its own signature and reports SUCCEEDED.
    let out = std::env::temp_dir().join(format!("ota-e2e-release-{device}"));
    let mut agent = l.agent(
        &device,
        ota_core::devices::DeviceFamily::AwsIotJobsParser,
        ota_core::devices::NrfLimits::default(),
        &out,
    );
    agent.config.files = ota_device::plan::Files::All;
    let outcome = agent.run_once().await.expect("the agent ran");
    let ota_device::Outcome::Succeeded { job_id: got, files } = &outcome else {
        panic!("the device did not complete the release: {outcome:?}");
    };
    assert_eq!(got, &job_id);
    let written: Vec<(String, &str, Vec<u8>)> = files
        .iter()
        .map(|f| {
            (
                f.path.file_name().unwrap().to_string_lossy().into_owned(),
                f.checked,
                std::fs::read(&f.path).expect("the downloaded file"),
            )
        })
        .collect();
    assert_eq!(
        written,
        [
            ("app.bin".to_string(), "signature", app.clone()),
            ("radio.bin".to_string(), "signature", radio.clone())
        ]
    );
    assert_eq!(l.execution_status(&job_id, &device).await, "SUCCEEDED");
    let _ = std::fs::remove_dir_all(&out);
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_release_whose_second_file_is_missing_creates_nothing() {
    let l = Local::connect().await;
    let release = release_key(&l, "missing");
    let present = l.unique_key("release-present");
    upload_release_file(&l, &present, &firmware(5_000, 43), &release).await;
    let missing = l.unique_key("release-missing");
    let manifest = json!({
        "targets": ["thinggroup/Lab"],
        "files": [{"key": present}, {"key": missing}]
    });
    let version = upload_release(&l, &release, &manifest).await;
    let done = l.wait_for(&release, &version, 1).await;
    assert_eq!(done[0].error, "InvalidRequest", "{}", done[0].cause);
    assert!(
        done[0].cause.contains("manifest.files[1].key"),
        "{}",
        done[0].cause
    );
    assert!(
        done[0].cause.contains("does not exist"),
        "{}",
        done[0].cause
    );
    assert_eq!(l.signing_jobs_for(&present).await, 0, "nothing was signed");
    let job_id = ota_core::ids::job_id(&l.bucket, &release, &version);
    assert!(
        l.iot.describe_job().job_id(&job_id).send().await.is_err(),
        "no job"
    );
}
