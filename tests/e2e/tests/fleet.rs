//! Fleets of reference devices (crates/ota-device, the agent `ota device`
//! runs) take pipeline-made jobs on the deployed local stack and finish
//! them: every device at once, each with its own Jobs device API calls
//! over HTTPS (MQTT transports are not built yet).
//!
//! `#[ignore]`d like pipeline.rs: scripts/test.sh runs them with --ignored.

use e2e::{firmware, Local};
use ota_core::devices::{DeviceFamily, NrfLimits};

/// An nRF device built for presigned URLs (README, Devices): the path
/// buffer holds a URL with a session token, and the message with it.
const RAISED: NrfLimits = NrfLimits {
    payload_size: 4096,
    hostname_max_len: 255,
    file_path_max_len: 2048,
};
use ota_device::Outcome;

const FLEET: usize = 20;

/// Every device of `things` takes its next job at once; the outcomes in
/// the things' order.
async fn run_fleet(
    l: &Local,
    things: &[String],
    family: DeviceFamily,
    nrf: NrfLimits,
    name: &str,
) -> Vec<Outcome> {
    let dir = e2e::local_dir().join("fleet").join(name);
    let agents: Vec<_> = things
        .iter()
        .map(|t| l.agent(t, family, nrf, &dir.join(t)))
        .collect();
    futures_util::future::join_all(agents.iter().map(|a| a.run_once()))
        .await
        .into_iter()
        .map(|r| r.expect("the agent ran"))
        .collect()
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn twenty_jobs_parser_devices_download_over_http_verify_and_succeed_on_the_pinned_version() {
    let l = Local::connect().await;
    let (group, things) = l.new_fleet("http", FLEET).await;
    let body = firmware(30_000, 21);
    let target = format!("thinggroup/{group}");
    let update = l
        .update(
            "fleet-http",
            &body,
            &[("ota:targets", &target), ("ota:protocols", "HTTP")],
        )
        .await;
    l.newer_version_elsewhere(&update.key, 22, &[("ota:protocols", "HTTP")])
        .await;

    let outcomes = run_fleet(
        &l,
        &things,
        DeviceFamily::AwsIotJobsParser,
        NrfLimits::default(),
        "http",
    )
    .await;
    for (thing, outcome) in things.iter().zip(&outcomes) {
        match outcome {
            Outcome::Succeeded { job_id, files } => {
                let [ota_device::FileDone { path, checked, .. }] = files.as_slice() else {
                    panic!("{thing}: one file: {files:?}");
                };
                assert_eq!(job_id, &update.job_id);
                assert_eq!(*checked, "signature");
                assert_eq!(
                    std::fs::read(path).unwrap(),
                    body,
                    "{thing} wrote the pinned version"
                );
            }
            other => panic!("{thing}: {other:?}"),
        }
        assert_eq!(l.execution_status(&update.job_id, thing).await, "SUCCEEDED");
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_device_whose_http_download_drops_resumes_with_a_range_request_and_succeeds() {
    let l = Local::connect().await;
    let thing = l.new_thing("http-resume").await;
    let body = firmware(100_000, 26);
    let target = format!("thing/{thing}");
    let update = l
        .update(
            "http-resume",
            &body,
            &[("ota:targets", &target), ("ota:protocols", "HTTP")],
        )
        .await;
    let dir = e2e::local_dir().join("fleet").join("http-resume");
    let mut agent = l.agent(
        &thing,
        DeviceFamily::AwsIotJobsParser,
        NrfLimits::default(),
        &dir,
    );
    // The presigned GET is cut after 30 000 bytes of body.
    agent.http.drop_after_bytes = Some(30_000);
    match agent.run_once().await.expect("the agent ran") {
        Outcome::Succeeded { job_id, files } => {
            let [ota_device::FileDone {
                path,
                checked,
                resumed_at,
                ..
            }] = files.as_slice()
            else {
                panic!("one file: {files:?}");
            };
            assert_eq!(job_id, update.job_id);
            assert_eq!(*checked, "signature");
            assert_eq!(resumed_at.len(), 1, "one Range request: {resumed_at:?}");
            assert!(
                (30_000..100_000).contains(&resumed_at[0]),
                "resumed from where it dropped, not from 0: {resumed_at:?}"
            );
            assert_eq!(std::fs::read(path).unwrap(), body);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        l.execution_status(&update.job_id, &thing).await,
        "SUCCEEDED"
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn twenty_nrf_devices_take_an_aws_fota_job_and_succeed_on_the_pinned_version() {
    let l = Local::connect().await;
    let (group, things) = l.new_fleet("nrf", FLEET + 1).await;
    let body = firmware(12_000, 23);
    let target = format!("thinggroup/{group}");
    let update = l
        .update(
            "fleet-nrf",
            &body,
            &[("ota:targets", &target), ("ota:format", "aws_fota")],
        )
        .await;
    l.newer_version_elsewhere(&update.key, 24, &[("ota:format", "aws_fota")])
        .await;

    // One device with the library's default buffers refuses the presigned
    // URL (aws_fota_json.c (2.x) L138-143, URL_TOO_LONG) and reports FAILED.
    let (default_kconfig, fleet) = things.split_at(1);
    let refused = run_fleet(
        &l,
        default_kconfig,
        DeviceFamily::NrfAwsFota,
        NrfLimits::default(),
        "nrf-default",
    )
    .await;
    match &refused[0] {
        Outcome::Failed { reason, .. } => assert!(reason.contains("url-path-length"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        l.execution_status(&update.job_id, &default_kconfig[0])
            .await,
        "FAILED"
    );
    let things = fleet.to_vec();
    let outcomes = run_fleet(&l, &things, DeviceFamily::NrfAwsFota, RAISED, "nrf").await;
    for (thing, outcome) in things.iter().zip(&outcomes) {
        match outcome {
            Outcome::Succeeded { files, .. } => {
                let [ota_device::FileDone { path, checked, .. }] = files.as_slice() else {
                    panic!("{thing}: one file: {files:?}");
                };
                // No signature in Nordic's document: the size is checked.
                assert_eq!(*checked, "size");
                assert_eq!(std::fs::read(path).unwrap(), body, "{thing}");
            }
            other => panic!("{thing}: {other:?}"),
        }
        assert_eq!(l.execution_status(&update.job_id, thing).await, "SUCCEEDED");
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_signature_that_does_not_verify_or_a_document_the_library_rejects_is_reported_failed() {
    let l = Local::connect().await;
    let wrong = e2e::WRONG_SIGNATURE;
    for (name, algorithm, expected) in [
        ("bad-sig", "SHA256withECDSA", "signature mismatch"),
        // The Jobs OTA parser reads only sig-sha256-ecdsa (job_parser.c
        // L304-317): the device rejects the document before downloading.
        ("rsa-doc", "SHA256withRSA", "signature-sha256-ecdsa"),
    ] {
        let (group, things) = l.new_fleet(name, 3).await;
        let target = format!("thinggroup/{group}");
        let update = l
            .update(
                name,
                &firmware(9_000, 25),
                &[
                    ("ota:targets", &target),
                    ("ota:protocols", "HTTP"),
                    ("ota:signature", wrong),
                    ("ota:signature-algorithm", algorithm),
                    ("ota:certfile", "/certs/ota.pem"),
                ],
            )
            .await;
        let outcomes = run_fleet(
            &l,
            &things,
            DeviceFamily::AwsIotJobsParser,
            NrfLimits::default(),
            name,
        )
        .await;
        for (thing, outcome) in things.iter().zip(&outcomes) {
            match outcome {
                Outcome::Failed { job_id, reason } => {
                    assert_eq!(job_id, &update.job_id);
                    assert!(reason.contains(expected), "{thing}: {reason}");
                }
                other => panic!("{thing}: {other:?}"),
            }
            assert_eq!(l.execution_status(&update.job_id, thing).await, "FAILED");
        }
        // Nothing unverified was left where the device would boot it.
        let dir = e2e::local_dir().join("fleet").join(name);
        for thing in &things {
            let files = std::fs::read_dir(dir.join(thing))
                .map(|d| d.count())
                .unwrap_or(0);
            assert_eq!(files, 0, "{thing}");
        }
    }
}
