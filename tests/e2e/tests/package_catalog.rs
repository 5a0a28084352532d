//! `ota:register-package` through the real stack on the local emulator
//! (its Software Package Catalog is emulated: local/emulator_packages.py):
//! the upload becomes a published package version whose attributes are
//! the job document's signature and stream and whose artifact is the exact
//! uploaded version, deployed by the job; a version name another upload
//! published is refused with nothing half-created; a version published
//! before a failed CreateJob is kept; with `ota:document-values=package`
//! the job names the version's attributes and a reference device, reading
//! them filled in, downloads, verifies and succeeds. And the stack option
//! PackageShadowUpdates (local/localaws.py deploys with it Enabled):
//! CloudFormation's custom resource, answered by make-stream, turned the
//! account's `$package` shadow updates on with the stack's own role.
//!
//! `#[ignore]`d like every end-to-end test: scripts/test.sh runs them with
//! `--ignored` against the deployed local stack.

use aws_sdk_iot::types::PackageVersionStatus;
use aws_sdk_sfn::types::ExecutionStatus;
use e2e::mqtt::test_stream_options;
use e2e::{firmware, Local, Update};
use ota_core::devices::{DeviceFamily, NrfLimits};
use ota_core::ids;
use ota_device::Outcome;

/// A package name no other test (or earlier run on a kept state) uses.
fn unique_package(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("e2e-{name}-{nanos}")
}

async fn package_version(
    l: &Local,
    package: &str,
    version: &str,
) -> aws_sdk_iot::operation::get_package_version::GetPackageVersionOutput {
    l.iot
        .get_package_version()
        .package_name(package)
        .version_name(version)
        .send()
        .await
        .expect("GetPackageVersion")
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn an_upload_becomes_the_published_package_version_its_job_deploys() {
    let l = Local::connect().await;
    let package = unique_package("app");
    let register = format!("{package}@1.4.0");
    let fw = firmware(20_000, 21);
    let Update {
        key,
        version,
        job_id,
        document,
    } = l
        .update(
            "package",
            &fw,
            &[
                ("ota:targets", "thinggroup/Lab"),
                ("ota:register-package", &register),
                ("ota:register-default", "true"),
            ],
        )
        .await;
    let arn = format!("arn:aws:iot:us-east-1:000000000000:package/{package}/version/1.4.0");
    let job = l.describe_job(&job_id).await;
    assert_eq!(
        job.destination_package_versions(),
        std::slice::from_ref(&arn)
    );

    let v = package_version(&l, &package, "1.4.0").await;
    assert_eq!(v.status(), Some(&PackageVersionStatus::Published));
    assert_eq!(v.package_version_arn(), Some(arn.as_str()));
    let attrs = v.attributes().expect("attributes");
    let file = &document["afr_ota"]["files"][0];
    let signature = file["sig-sha256-ecdsa"].as_str().expect("signature");
    assert_eq!(attrs["signature"], signature);
    assert!(
        l.verify(&fw, &attrs["signature"]),
        "the attribute is the real signature"
    );
    assert_eq!(attrs["signatureAlgorithm"], "SHA256withECDSA");
    assert_eq!(attrs["certfile"], file["certfile"].as_str().unwrap());
    assert_eq!(attrs["fileSize"], "20000");
    assert_eq!(attrs["streamName"], l.default_stream_id(&key, &version));
    assert_eq!(
        attrs["streamName"],
        document["afr_ota"]["streamname"].as_str().unwrap()
    );
    assert_eq!(attrs["fileId"], "0");
    assert_eq!(attrs["s3Key"], key);
    assert_eq!(attrs["s3VersionId"], version);
    let loc = v
        .artifact()
        .and_then(|a| a.s3_location())
        .expect("artifact");
    assert_eq!(
        (loc.bucket(), loc.key(), loc.version()),
        (
            Some(l.bucket.as_str()),
            Some(key.as_str()),
            Some(version.as_str())
        )
    );
    let p = l
        .iot
        .get_package()
        .package_name(&package)
        .send()
        .await
        .expect("GetPackage");
    assert_eq!(p.default_version_name(), Some("1.4.0"));
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_version_name_another_upload_published_is_refused_and_nothing_is_left() {
    let l = Local::connect().await;
    let package = unique_package("taken");
    let register = format!("{package}@2.0");
    let tags = [
        ("ota:targets", "thinggroup/Lab"),
        ("ota:register-package", register.as_str()),
    ];
    let first = l.update("taken-1", &firmware(5_000, 22), &tags).await;

    let key = l.unique_key("taken-2");
    let version = l.upload(&key, &firmware(5_000, 23), &tags).await;
    let done = l.wait_for(&key, &version, 1).await;
    let f = &done[0];
    assert_eq!(f.status, ExecutionStatus::Failed);
    assert_eq!(f.error, "Conflict", "{}", f.cause);
    assert!(
        f.cause.contains("already published") && f.cause.contains("register a new version name"),
        "{}",
        f.cause
    );
    // Nothing half-created: no job, the stream cleaned up, and the first
    // upload's published version untouched.
    assert!(l
        .iot
        .describe_job()
        .job_id(ids::job_id(&l.bucket, &key, &version))
        .send()
        .await
        .is_err());
    let stream = l.default_stream_id(&key, &version);
    assert!(
        l.iot
            .describe_stream()
            .stream_id(&stream)
            .send()
            .await
            .is_err(),
        "{stream}"
    );
    let v = package_version(&l, &package, "2.0").await;
    assert_eq!(v.status(), Some(&PackageVersionStatus::Published));
    assert_eq!(v.attributes().unwrap()["s3VersionId"], first.version);
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_version_published_before_a_failed_create_job_is_kept() {
    // A published version is never deleted by the pipeline: Clean Up
    // removes only a draft of its own.
    let l = Local::connect().await;
    let package = unique_package("kept");
    let register = format!("{package}@3.0");
    let key = l.unique_key("kept");
    let version = l
        .upload(
            &key,
            &firmware(4_000, 24),
            &[
                ("ota:targets", "thinggroup/DoesNotExist"),
                ("ota:register-package", &register),
            ],
        )
        .await;
    let done = l.wait_for(&key, &version, 1).await;
    let f = &done[0];
    assert_eq!(f.status, ExecutionStatus::Failed);
    assert_eq!(f.error, "ResourceNotFound", "{}", f.cause);
    let v = package_version(&l, &package, "3.0").await;
    assert_eq!(v.status(), Some(&PackageVersionStatus::Published));
    assert_eq!(v.attributes().unwrap()["s3VersionId"], version);
}

/// An update for a new thing over `protocols` that registers a new package
/// at `version` with `ota:document-values=package`: the package name, the
/// thing, the firmware and the job.
async fn package_values_update(
    l: &Local,
    name: &str,
    protocols: &str,
    body: Vec<u8>,
) -> (String, String, Vec<u8>, Update) {
    let package = unique_package(name);
    let register = format!("{package}@1.0");
    let thing = l.new_thing(name).await;
    let target = format!("thing/{thing}");
    let update = l
        .update(
            name,
            &body,
            &[
                ("ota:targets", &target),
                ("ota:protocols", protocols),
                ("ota:register-package", &register),
                ("ota:document-values", "package"),
            ],
        )
        .await;
    (package, thing, body, update)
}

/// The device's outcome is SUCCEEDED on `update`'s job with `body` written
/// and its signature checked, and IoT holds SUCCEEDED; whether it streamed.
async fn assert_completed(
    l: &Local,
    thing: &str,
    outcome: Outcome,
    update: &Update,
    body: &[u8],
) -> bool {
    let streamed = match outcome {
        Outcome::Succeeded { job_id, files } => {
            let [ota_device::FileDone {
                checked,
                path,
                streamed,
                ..
            }] = files.as_slice()
            else {
                panic!("one file: {files:?}");
            };
            assert_eq!(job_id, update.job_id);
            assert_eq!(*checked, "signature");
            assert_eq!(std::fs::read(path).expect("the downloaded file"), body);
            streamed.is_some()
        }
        other => panic!("the device did not complete the update: {other:?}"),
    };
    assert_eq!(l.execution_status(&update.job_id, thing).await, "SUCCEEDED");
    streamed
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_document_of_package_values_is_filled_in_for_the_device_which_completes_it() {
    let l = Local::connect().await;
    let (package, thing, body, update) =
        package_values_update(&l, "package-values", "HTTP", firmware(40_000, 25)).await;
    // GetJobDocument holds the parameters, and the same document is the
    // version's recipe.
    let param = |a: &str| format!("${{aws:iot:package:{package}:version:1.0:attributes:{a}}}");
    let file = &update.document["afr_ota"]["files"][0];
    assert_eq!(file["sig-sha256-ecdsa"], param("signature"));
    assert_eq!(file["certfile"], param("certfile"));
    assert_eq!(file["filesize"], 40_000, "numbers stay literal");
    let v = package_version(&l, &package, "1.0").await;
    let recipe: serde_json::Value =
        serde_json::from_str(v.recipe().expect("a recipe")).expect("JSON recipe");
    assert_eq!(recipe, update.document);

    // The reference Jobs OTA parser device reads them filled in: the
    // signature it verifies over the downloaded bytes is the attribute's.
    let dir = e2e::local_dir().join("package-values");
    let agent = l.agent(
        &thing,
        DeviceFamily::AwsIotJobsParser,
        NrfLimits::default(),
        &dir,
    );
    let outcome = agent.run_once().await.expect("the agent ran");
    assert!(!assert_completed(&l, &thing, outcome, &update, &body).await);
    assert!(l.verify(&body, &v.attributes().unwrap()["signature"]));
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_freertos_device_streams_the_stream_its_filled_in_document_names() {
    // MQTT: the stream name is a parameter too; the FreeRTOS agent reads it
    // filled in over the Jobs MQTT topics and streams that stream.
    let l = Local::connect().await;
    let (package, thing, body, update) =
        package_values_update(&l, "package-stream", "MQTT", firmware(3 * 4096 + 77, 27)).await;
    assert_eq!(
        update.document["afr_ota"]["streamname"],
        format!("${{aws:iot:package:{package}:version:1.0:attributes:streamName}}")
    );
    let dir = e2e::local_dir().join("package-stream");
    let agents = l
        .ws_fleet(
            std::slice::from_ref(&thing),
            DeviceFamily::FreertosOtaAgent,
            &dir,
            test_stream_options(),
        )
        .await;
    let outcome = agents[0].run_once().await.expect("the agent ran");
    assert!(
        assert_completed(&l, &thing, outcome, &update, &body).await,
        "it came over the stream"
    );
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn the_deploy_turned_package_shadow_updates_on_with_the_stacks_role() {
    let l = Local::connect().await;
    let outputs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(e2e::local_dir().join("stack-outputs.json")).unwrap(),
    )
    .unwrap();
    let role = outputs["PackageShadowRoleArn"]
        .as_str()
        .expect("stack output PackageShadowRoleArn (PackageShadowUpdates=Enabled)");
    assert!(role.contains(":role/"), "{role}");
    let config = l
        .iot
        .get_package_configuration()
        .send()
        .await
        .expect("GetPackageConfiguration");
    let by_jobs = config
        .version_update_by_jobs_config()
        .expect("versionUpdateByJobsConfig set by the custom resource");
    assert_eq!(by_jobs.enabled(), Some(true));
    assert_eq!(by_jobs.role_arn(), Some(role));
}
