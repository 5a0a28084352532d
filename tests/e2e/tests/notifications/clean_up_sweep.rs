//! The clean-up sweep (make-stream's sweep mode, called in-process as the
//! CleanUpSchedule invokes it) against the deployed stack: a job the
//! reference device completed loses its stream and signed object version,
//! a stream an unfinished job shares stays, the firmware stays, "OTA Update
//! Completed" carries the device counts, and a second run does nothing more.

use super::{drain, event_for, subscribe, unsubscribe};
use e2e::{firmware, Local};
use ota_core::devices::DeviceFamily;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Whether `key` still has `version` (not a delete marker in its place).
async fn has_version(l: &Local, key: &str, version: &str) -> bool {
    let v =
        l.s3.list_object_versions()
            .bucket(&l.bucket)
            .prefix(key)
            .send()
            .await
            .expect("ListObjectVersions");
    v.versions()
        .iter()
        .any(|o| o.key() == Some(key) && o.version_id() == Some(version))
}

/// The signed object's key, from the signing job.
async fn signed_key(l: &Local, signing_job: &str) -> String {
    let d = l
        .signer
        .describe_signing_job()
        .job_id(signing_job)
        .send()
        .await
        .expect("DescribeSigningJob");
    d.signed_object()
        .and_then(|o| o.s3())
        .and_then(|s| s.key())
        .expect("signed key")
        .to_string()
}

async fn stream_exists(l: &Local, id: &str) -> bool {
    l.iot.describe_stream().stream_id(id).send().await.is_ok()
}

/// One sweep run, as the schedule sends it; the jobs it cleaned up.
async fn sweep(l: &Local) -> Vec<String> {
    let outputs: Value = serde_json::from_str(
        &std::fs::read_to_string(e2e::local_dir().join("stack-outputs.json")).expect("outputs"),
    )
    .expect("outputs JSON");
    let deps = make_stream::Deps {
        s3: l.s3.clone(),
        iot: l.iot.clone(),
        ota_role_arn: outputs["OtaRoleArn"].as_str().expect("role").to_string(),
        tagging: aws_sdk_resourcegroupstagging::Client::new(&l.config),
        signer: l.signer.clone(),
        events: aws_sdk_eventbridge::Client::new(&l.config),
        package_shadow: Default::default(),
    };
    let input: make_stream::MakeStreamInput =
        serde_json::from_str(r#"{"sweep": {}}"#).expect("the schedule's input");
    let out = make_stream::handle(input, &deps)
        .await
        .expect("the sweep ran");
    let report = serde_json::to_value(&out).expect("report");
    report["cleaned"]
        .as_array()
        .expect("cleaned")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn the_sweep_cleans_up_after_a_completed_job_keeps_a_shared_stream_and_announces_it() {
    let l = Local::connect().await;
    let name = format!("ota-completed-{}", std::process::id());
    let url = subscribe(&l, &name, &["OTA Update Completed"]).await;
    let (group, things) = l.new_fleet("sweep", 1).await;
    let targets = format!("thinggroup/{group}");
    // MQTT: the FreeRTOS agent streams it.
    let tags = [("ota:targets", targets.as_str())];
    let alone = l.update("sweep-alone", &firmware(9_000, 51), &tags).await;
    let shared = l.update("sweep-shared", &firmware(9_000, 52), &tags).await;
    let alone_tags = l.job_tags(&alone.job_id).await;
    let shared_tags = l.job_tags(&shared.job_id).await;

    // Another job, not finished, that serves `shared`'s stream.
    let elsewhere = l.new_thing("sweep-keeper").await;
    let thing_arn = l
        .iot
        .describe_thing()
        .thing_name(&elsewhere)
        .send()
        .await
        .expect("DescribeThing")
        .thing_arn()
        .expect("thing arn")
        .to_string();
    let keeper = format!("{}-keeper", shared.job_id);
    // Streams the same file (no HTTP URL, so no presigned config).
    let document = serde_json::json!({"afr_ota": {"streamname": shared_tags["ota:stream"]}});
    l.hand_made_job(
        &keeper,
        &thing_arn,
        &document,
        &[
            (
                "ota:execution",
                "arn:aws:states:us-east-1:000000000000:execution:by-hand:1",
            ),
            ("ota:stream", &shared_tags["ota:stream"]),
        ],
    )
    .await;

    // The reference device takes both jobs and completes them.
    let dir = e2e::local_dir().join("sweep");
    let agents = l
        .ws_fleet(
            &things,
            DeviceFamily::FreertosOtaAgent,
            &dir,
            e2e::mqtt::test_stream_options(),
        )
        .await;
    let agent = &agents[0];
    for _ in 0..2 {
        let outcome = agent.run_once().await.expect("the agent ran");
        assert!(
            matches!(outcome, ota_device::Outcome::Succeeded { .. }),
            "{outcome:?}"
        );
    }
    for job in [&alone.job_id, &shared.job_id] {
        let deadline = Instant::now() + Duration::from_secs(30);
        while l.describe_job(job).await.status().map(|s| s.as_str()) != Some("COMPLETED") {
            assert!(Instant::now() < deadline, "{job} never COMPLETED");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    let cleaned = sweep(&l).await;
    assert!(
        cleaned.contains(&alone.job_id) && cleaned.contains(&shared.job_id),
        "{cleaned:?}"
    );
    assert!(!cleaned.contains(&keeper), "{cleaned:?}");

    // `alone`: stream and signed version gone; the firmware stays.
    assert!(!stream_exists(&l, &alone_tags["ota:stream"]).await);
    let key = signed_key(&l, &alone_tags["ota:signing-job"]).await;
    assert!(!has_version(&l, &key, &alone_tags["ota:signed-version"]).await);
    assert!(
        has_version(&l, &alone.key, &alone.version).await,
        "the firmware stays"
    );
    // `shared`: its stream stays for the keeper; its signed version goes.
    assert!(
        stream_exists(&l, &shared_tags["ota:stream"]).await,
        "the keeper still uses the stream"
    );
    let key = signed_key(&l, &shared_tags["ota:signing-job"]).await;
    assert!(!has_version(&l, &key, &shared_tags["ota:signed-version"]).await);
    for job in [&alone.job_id, &shared.job_id] {
        assert!(
            l.job_tags(job).await.contains_key("ota:cleaned-up"),
            "{job}"
        );
    }

    // Announced once, with the counts.
    let mut seen = Vec::new();
    let done = event_for(&l, &url, "OTA Update Completed", &alone.key, &mut seen).await;
    assert_eq!(done["detail"]["jobId"], alone.job_id.as_str());
    assert_eq!(done["detail"]["succeeded"], 1);
    assert_eq!(done["detail"]["failed"], 0);
    let again = sweep(&l).await;
    assert!(
        !again.contains(&alone.job_id) && !again.contains(&shared.job_id),
        "{again:?}"
    );
    seen.extend(drain(&l, &url).await);
    let announced = seen
        .iter()
        .filter(|e| e["detail"]["jobId"] == alone.job_id.as_str())
        .count();
    assert_eq!(announced, 1, "{seen:?}");

    l.delete_job_now(&keeper).await;
    unsubscribe(&l, &name, &url).await;
}
