//! Job documents as a device receives them: through the emulator's IoT Jobs
//! device data plane (StartNextPendingJobExecution), placeholders
//! substituted, then judged by the device rules (ota_core::devices) and,
//! for a presigned URL, downloaded as the device would.
//!
//! `#[ignore]`d like pipeline.rs: scripts/test.sh runs them with --ignored
//! against the deployed local stack.

use e2e::{firmware, Local};
use ota_core::devices::{check, DeviceFamily};

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn an_afr_ota_upload_reaches_the_device_with_its_filepath_and_file_type() {
    let l = Local::connect().await;
    let thing = l.new_thing("afr-ota").await;
    let target = format!("thing/{thing}");
    // No ota:file-path: the device still gets a filepath (the key's base
    // name), which the Jobs OTA parser requires (job_parser.c,
    // populateCommonFields); ota:file-type reaches it as fileType.
    let update = l
        .update(
            "device-view",
            &firmware(3_000, 11),
            &[("ota:targets", &target), ("ota:file-type", "1")],
        )
        .await;
    let got = l.start_next_as_device(&thing).await;
    assert_eq!(got.job_id, update.job_id);
    let file = &got.document["afr_ota"]["files"][0];
    let base_name = update.key.rsplit('/').next().unwrap_or_default();
    assert_eq!(file["filepath"], base_name, "{}", got.document);
    assert_eq!(file["fileType"], 1, "{}", got.document);
    assert!(file.get("filetype").is_none());
    assert!(
        !got.document.to_string().contains("null"),
        "{}",
        got.document
    );
    for family in [
        DeviceFamily::FreertosOtaAgent,
        DeviceFamily::AwsIotJobsParser,
    ] {
        assert_eq!(
            check(family, &got.job_id, &got.document),
            vec![],
            "{family}"
        );
    }
    l.succeed_as_device(&thing, &got.job_id).await;
    let execution = l
        .iot
        .describe_job_execution()
        .job_id(&got.job_id)
        .thing_name(&thing)
        .send()
        .await
        .expect("DescribeJobExecution");
    assert_eq!(
        execution
            .execution()
            .and_then(|e| e.status())
            .map(|s| s.as_str()),
        Some("SUCCEEDED")
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn an_aws_fota_upload_reaches_the_nrf_device_as_nordics_document_with_a_url_to_its_version() {
    let l = Local::connect().await;
    let thing = l.new_thing("nrf").await;
    let target = format!("thing/{thing}");
    let body = firmware(4_000, 12);
    // No profile: aws_fota is not signed (the local stack's
    // DefaultSigningProfile does not apply to it).
    let update = l
        .update(
            "nrf-app",
            &body,
            &[
                ("ota:targets", &target),
                ("ota:format", "aws_fota"),
                ("ota:firmware-version", "v1.4.0"),
            ],
        )
        .await;
    let stored = &update.document;
    assert_eq!(stored["operation"], "app_fw_update");
    assert!(stored.get("afr_ota").is_none(), "{stored}");
    assert_eq!(l.signing_jobs_for(&update.key).await, 0, "nothing signed");

    let got = l.start_next_as_device(&thing).await;
    assert_eq!(got.job_id, update.job_id);
    let doc = &got.document;
    assert_eq!(doc["operation"], "app_fw_update");
    assert_eq!(doc["fwversion"], "v1.4.0");
    assert_eq!(doc["size"], body.len());
    let url = doc["location"]["url"].as_str().expect("location.url");
    assert!(
        !url.contains("${aws:iot"),
        "substituted for the device: {url}"
    );
    // aws_fota_json.c (2.x) reads location.url: the shape rules pass; only
    // Nordic's buffer sizes may speak, and they depend on the token length.
    let shape_findings: Vec<_> = check(DeviceFamily::NrfAwsFota, &got.job_id, doc)
        .into_iter()
        .filter(|f| !f.rule.ends_with("-length") && f.rule != "message-size")
        .collect();
    assert_eq!(shape_findings, vec![], "{doc}");
    // The URL serves exactly the uploaded version.
    let (status, bytes) = l.download(url).await;
    assert_eq!(status, 200, "{url}");
    assert_eq!(bytes, body);
    l.succeed_as_device(&thing, &got.job_id).await;
}
