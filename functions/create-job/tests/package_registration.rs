//! `ota:register-package` in create-job against a mocked IoT client: the
//! catalog calls in order (package, draft, publish, default, then CreateJob
//! deploying it), what an existing version means, and each documented error
//! shape of the catalog calls (IoT API reference: ConflictException,
//! ValidationException, ResourceNotFoundException, ThrottlingException,
//! ServiceQuotaExceededException) mapped to its errorType.

use aws_sdk_iot::config::retry::RetryConfig;
use aws_sdk_iot::operation::create_job::CreateJobOutput;
use aws_sdk_iot::operation::create_package::CreatePackageOutput;
use aws_sdk_iot::operation::create_package_version::{
    CreatePackageVersionInput, CreatePackageVersionOutput,
};
use aws_sdk_iot::operation::describe_stream::DescribeStreamOutput;
use aws_sdk_iot::operation::get_package::GetPackageOutput;
use aws_sdk_iot::operation::get_package_version::GetPackageVersionOutput;
use aws_sdk_iot::operation::update_package::UpdatePackageOutput;
use aws_sdk_iot::operation::update_package_version::UpdatePackageVersionOutput;
use aws_sdk_iot::types::{
    PackageVersionAction, PackageVersionStatus, S3Location, StreamFile, StreamInfo,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use create_job::{handle, Deps};
use ota_aws::test_support::{event, fast_retries, json_error};
use ota_core::package_version::PackageRegistration;
use ota_core::PipelineState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const ROLE: &str = "arn:aws:iam::123456789012:role/ota-pipeline-OtaRole";
const STREAM_ID: &str = "AFR_OTA-app-v1_4-8a9caeb409fd";
const ARN: &str = "arn:aws:iot:us-east-1:123456789012:package/App/version/1.4.0";

/// events/create-job.json, registering App@1.4.0 (as start-signing's
/// validation leaves it: the ARN among the destination versions).
fn state(make_default: bool) -> PipelineState {
    let mut s: PipelineState = serde_json::from_str(&event("create-job.json")).unwrap();
    s.request.package_registration = Some(PackageRegistration {
        package_name: "App".into(),
        version_name: "1.4.0".into(),
        make_default,
        arn: ARN.into(),
        field: "ota:register-package".into(),
    });
    s.request.package_versions.push(ARN.into());
    s
}

type Calls = Arc<Mutex<Vec<String>>>;

fn deps(retry: RetryConfig, rules: &[&Rule]) -> Deps {
    let src = state(false).source;
    let file = StreamFile::builder()
        .file_id(0)
        .s3_location(
            S3Location::builder()
                .bucket(src.bucket)
                .key(src.key)
                .version(src.version_id)
                .build(),
        )
        .build();
    let present = mock!(aws_sdk_iot::Client::describe_stream).then_output(move || {
        DescribeStreamOutput::builder()
            .stream_info(
                StreamInfo::builder()
                    .stream_id(STREAM_ID)
                    .files(file.clone())
                    .build(),
            )
            .build()
    });
    let rules: Vec<&Rule> = rules.iter().copied().chain([&present]).collect();
    Deps {
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, &rules, |c| c
            .retry_config(retry.clone())),
        ota_role_arn: ROLE.into(),
        now: || time::macros::datetime!(2026-11-22 10:05 UTC),
    }
}

/// The attributes create-job registers for the fixture.
fn attributes() -> HashMap<String, String> {
    let s = state(false);
    let f = s.signed_file.unwrap();
    [
        ("signature", f.signature.as_str()),
        ("signatureAlgorithm", "SHA256withECDSA"),
        ("certfile", "ecdsa-signer.crt"),
        ("fileSize", "366816"),
        ("streamName", STREAM_ID),
        ("fileId", "0"),
        ("s3Key", "firmware/app-v1.4.bin"),
        ("s3VersionId", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn version(
    status: PackageVersionStatus,
    attrs: HashMap<String, String>,
) -> GetPackageVersionOutput {
    GetPackageVersionOutput::builder()
        .package_name("App")
        .version_name("1.4.0")
        .status(status)
        .set_attributes(Some(attrs))
        .build()
}

/// Rules that record each call's name in `calls`, answering `ok`.
macro_rules! recording {
    ($calls:expr, $op:ident, $name:literal, $ok:expr) => {{
        let calls = $calls.clone();
        mock!(aws_sdk_iot::Client::$op)
            .match_requests(move |_| {
                calls.lock().unwrap().push($name.to_string());
                true
            })
            .then_output($ok)
    }};
}

fn package_missing() -> Rule {
    mock!(aws_sdk_iot::Client::get_package)
        .then_http_response(|| json_error(404, "ResourceNotFoundException", "no such package"))
}

fn package_present() -> Rule {
    mock!(aws_sdk_iot::Client::get_package)
        .then_output(|| GetPackageOutput::builder().package_name("App").build())
}

fn draft_created() -> CreatePackageVersionOutput {
    CreatePackageVersionOutput::builder()
        .status(PackageVersionStatus::Draft)
        .set_attributes(Some(attributes()))
        .build()
}

fn version_exists() -> Rule {
    mock!(aws_sdk_iot::Client::create_package_version)
        .then_http_response(|| json_error(409, "ConflictException", "version exists"))
}

#[tokio::test]
async fn a_new_version_is_a_draft_then_published_then_deployed_by_the_job() {
    let calls: Calls = Arc::default();
    let seen: Arc<Mutex<Option<CreatePackageVersionInput>>> = Arc::default();
    let seen_in = seen.clone();
    let calls_in = calls.clone();
    let create_version = mock!(aws_sdk_iot::Client::create_package_version)
        .match_requests(move |r| {
            calls_in.lock().unwrap().push("CreatePackageVersion".into());
            *seen_in.lock().unwrap() = Some(r.clone());
            true
        })
        .then_output(draft_created);
    let get = package_missing();
    let create_package = recording!(calls, create_package, "CreatePackage", || {
        CreatePackageOutput::builder().build()
    });
    let calls_in = calls.clone();
    let publish = mock!(aws_sdk_iot::Client::update_package_version)
        .match_requests(move |r| {
            let ok = r.action() == Some(&PackageVersionAction::Publish) && r.attributes().is_none();
            calls_in.lock().unwrap().push(format!("Publish:{ok}"));
            ok
        })
        .then_output(|| UpdatePackageVersionOutput::builder().build());
    let calls_in = calls.clone();
    let default = mock!(aws_sdk_iot::Client::update_package)
        .match_requests(move |r| {
            calls_in.lock().unwrap().push(format!(
                "Default:{}",
                r.default_version_name().unwrap_or("")
            ));
            true
        })
        .then_output(|| UpdatePackageOutput::builder().build());
    let calls_in = calls.clone();
    let create_job = mock!(aws_sdk_iot::Client::create_job)
        .match_requests(move |r| {
            calls_in.lock().unwrap().push(format!(
                "CreateJob:{}",
                r.destination_package_versions().contains(&ARN.to_string())
            ));
            true
        })
        .then_output(|| CreateJobOutput::builder().job_arn("arn:job").build());
    let d = deps(
        RetryConfig::disabled(),
        &[
            &get,
            &create_package,
            &create_version,
            &publish,
            &default,
            &create_job,
        ],
    );
    let out = handle(state(true), &d).await.unwrap();
    assert!(out.job.unwrap().created);
    assert_eq!(
        *calls.lock().unwrap(),
        [
            "CreatePackage",
            "CreatePackageVersion",
            "Publish:true",
            "Default:1.4.0",
            "CreateJob:true"
        ]
    );
    let req = seen.lock().unwrap().clone().unwrap();
    assert_eq!(req.attributes(), Some(&attributes()));
    let loc = req.artifact().and_then(|a| a.s3_location()).unwrap();
    assert_eq!(
        (loc.bucket(), loc.key(), loc.version()),
        (
            Some("ota-pipeline-firmwarebucket-1a2b3c4d5e6f"),
            Some("firmware/app-v1.4.bin"),
            Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
        )
    );
    let token = req.client_token().unwrap();
    assert_eq!(token.len(), 64, "\\S{{36,64}}: {token}");
    assert!(req.description().unwrap().contains("firmware/app-v1.4.bin"));
}

#[tokio::test]
async fn an_earlier_runs_draft_for_this_upload_is_updated_and_published() {
    let calls: Calls = Arc::default();
    let get = package_present();
    let exists = version_exists();
    // The earlier run signed before: another signature, same object version.
    let mut older = attributes();
    older.insert("signature".into(), "MEUCIQ-earlier".into());
    let get_version = mock!(aws_sdk_iot::Client::get_package_version)
        .then_output(move || version(PackageVersionStatus::Draft, older.clone()));
    let calls_in = calls.clone();
    let update = mock!(aws_sdk_iot::Client::update_package_version)
        .match_requests(move |r| {
            let what = match (r.action(), r.attributes()) {
                (Some(PackageVersionAction::Publish), None) => "Publish".to_string(),
                (None, Some(a)) if *a == attributes() => "UpdateDraft".to_string(),
                other => format!("unexpected {other:?}"),
            };
            calls_in.lock().unwrap().push(what);
            true
        })
        .then_output(|| UpdatePackageVersionOutput::builder().build());
    let create_job = recording!(calls, create_job, "CreateJob", || CreateJobOutput::builder(
    )
    .job_arn("arn:job")
    .build());
    let d = deps(
        RetryConfig::disabled(),
        &[&get, &exists, &get_version, &update, &create_job],
    );
    handle(state(false), &d).await.unwrap();
    assert_eq!(
        *calls.lock().unwrap(),
        ["UpdateDraft", "Publish", "CreateJob"]
    );
}

#[tokio::test]
async fn published_with_the_same_attributes_is_a_duplicate_run_and_succeeds() {
    let calls: Calls = Arc::default();
    let get = package_present();
    let exists = version_exists();
    let get_version = mock!(aws_sdk_iot::Client::get_package_version)
        .then_output(|| version(PackageVersionStatus::Published, attributes()));
    let update = recording!(calls, update_package_version, "Update", || {
        UpdatePackageVersionOutput::builder().build()
    });
    let create_job = recording!(calls, create_job, "CreateJob", || CreateJobOutput::builder(
    )
    .job_arn("arn:job")
    .build());
    let d = deps(
        RetryConfig::disabled(),
        &[&get, &exists, &get_version, &update, &create_job],
    );
    handle(state(false), &d).await.unwrap();
    assert_eq!(*calls.lock().unwrap(), ["CreateJob"], "nothing to publish");
}

/// The refusals of an existing version: what the message tells the user.
async fn refusal(status: PackageVersionStatus, attrs: HashMap<String, String>) -> String {
    let calls: Calls = Arc::default();
    let get = package_present();
    let exists = version_exists();
    let get_version = mock!(aws_sdk_iot::Client::get_package_version)
        .then_output(move || version(status.clone(), attrs.clone()));
    let update = recording!(calls, update_package_version, "Update", || {
        UpdatePackageVersionOutput::builder().build()
    });
    let create_job = recording!(calls, create_job, "CreateJob", || CreateJobOutput::builder(
    )
    .build());
    let d = deps(
        RetryConfig::disabled(),
        &[&get, &exists, &get_version, &update, &create_job],
    );
    let e = handle(state(false), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "Conflict", "{e}");
    assert!(
        calls.lock().unwrap().is_empty(),
        "{:?}",
        calls.lock().unwrap()
    );
    e.to_string()
}

#[tokio::test]
async fn published_with_other_attributes_is_a_conflict_that_says_to_register_a_new_name() {
    // `ota retry` after a run that published and then failed: ECDSA
    // signatures differ on every signing.
    let mut other = attributes();
    other.insert("signature".into(), "MEUCIQ-another-signing".into());
    let m = refusal(PackageVersionStatus::Published, other).await;
    assert!(
        m.contains("App@1.4.0") && m.contains("already published"),
        "{m}"
    );
    assert!(
        m.contains("register a new version name (ota:register-package)"),
        "{m}"
    );
}

#[tokio::test]
async fn another_uploads_draft_or_a_deprecated_version_is_a_conflict() {
    let mut other = attributes();
    other.insert("s3VersionId".into(), "an-older-upload".into());
    let m = refusal(PackageVersionStatus::Draft, other).await;
    assert!(
        m.contains("draft made for another upload") && m.contains("an-older-upload"),
        "{m}"
    );
    let m = refusal(PackageVersionStatus::Deprecated, attributes()).await;
    assert!(m.contains("DEPRECATED"), "{m}");
}

#[tokio::test]
async fn catalog_errors_map_to_their_error_types_and_nothing_deploys() {
    let cases: [(u16, &str, &str); 4] = [
        (400, "ValidationException", "InvalidRequest"),
        (402, "ServiceQuotaExceededException", "LimitExceeded"),
        (500, "InternalServerException", "ServiceUnavailable"),
        (429, "ThrottlingException", "Throttled"),
    ];
    for (status, code, kind) in cases {
        let calls: Calls = Arc::default();
        let get = package_present();
        let refused = mock!(aws_sdk_iot::Client::create_package_version)
            .then_http_response(move || json_error(status, code, "refused"));
        let create_job = recording!(calls, create_job, "CreateJob", || CreateJobOutput::builder(
        )
        .build());
        let d = deps(RetryConfig::disabled(), &[&get, &refused, &create_job]);
        let e = handle(state(false), &d).await.unwrap_err();
        assert_eq!(e.error_type(), kind, "{code}: {e}");
        assert!(e.to_string().contains("CreatePackageVersion"), "{e}");
        assert!(calls.lock().unwrap().is_empty(), "{code}: no CreateJob");
    }
    // A version Clean Up of a duplicate run removed between the draft and
    // the publish: UpdatePackageVersion's ResourceNotFoundException.
    let get = package_present();
    let created = mock!(aws_sdk_iot::Client::create_package_version).then_output(draft_created);
    let gone = mock!(aws_sdk_iot::Client::update_package_version)
        .then_http_response(|| json_error(404, "ResourceNotFoundException", "no such version"));
    let d = deps(RetryConfig::disabled(), &[&get, &created, &gone]);
    let e = handle(state(false), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "ResourceNotFound", "{e}");
}

#[tokio::test]
async fn throttled_catalog_calls_get_through_by_the_sdks_retries() {
    let throttled = || json_error(429, "ThrottlingException", "Rate exceeded");
    let get = mock!(aws_sdk_iot::Client::get_package)
        .sequence()
        .http_response(throttled)
        .http_response(|| json_error(404, "ResourceNotFoundException", "no such package"))
        .build();
    let create_package = mock!(aws_sdk_iot::Client::create_package)
        .sequence()
        .http_response(throttled)
        .output(|| CreatePackageOutput::builder().build())
        .build();
    let create_version = mock!(aws_sdk_iot::Client::create_package_version)
        .sequence()
        .http_response(throttled)
        .output(draft_created)
        .build();
    let publish = mock!(aws_sdk_iot::Client::update_package_version)
        .sequence()
        .http_response(throttled)
        .output(|| UpdatePackageVersionOutput::builder().build())
        .build();
    let default = mock!(aws_sdk_iot::Client::update_package)
        .sequence()
        .http_response(throttled)
        .output(|| UpdatePackageOutput::builder().build())
        .build();
    let create_job = mock!(aws_sdk_iot::Client::create_job)
        .then_output(|| CreateJobOutput::builder().job_arn("arn:job").build());
    let d = deps(
        fast_retries(),
        &[
            &get,
            &create_package,
            &create_version,
            &publish,
            &default,
            &create_job,
        ],
    );
    handle(state(true), &d).await.unwrap();
}

#[tokio::test]
async fn attributes_over_3kb_are_refused_before_any_catalog_call() {
    // A certificate path that start-signing's bound let through cannot
    // happen; the same rule is still applied to the real values first.
    let mut s = state(false);
    s.signing.certfile = format!("/{}", "c".repeat(3000));
    let create_job =
        mock!(aws_sdk_iot::Client::create_job).then_output(|| CreateJobOutput::builder().build());
    let d = deps(RetryConfig::disabled(), &[&create_job]);
    let e = handle(s, &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest", "{e}");
    let p = &e.problems()[0];
    assert_eq!(p.field, "ota:register-package");
    assert!(
        p.message.contains("3072") && p.message.contains("App@1.4.0"),
        "{p}"
    );
}

#[tokio::test]
async fn package_document_values_send_parameters_and_store_the_document_as_the_recipe() {
    let mut s = state(false);
    s.request.document_values = ota_core::values::DocumentValues::Package;
    let recipe: Arc<Mutex<Option<String>>> = Arc::default();
    let recipe_in = recipe.clone();
    let get = package_present();
    let create_version = mock!(aws_sdk_iot::Client::create_package_version)
        .match_requests(move |r| {
            *recipe_in.lock().unwrap() = r.recipe().map(str::to_string);
            true
        })
        .then_output(draft_created);
    let publish = mock!(aws_sdk_iot::Client::update_package_version)
        .then_output(|| UpdatePackageVersionOutput::builder().build());
    let sent: Arc<Mutex<Option<String>>> = Arc::default();
    let sent_in = sent.clone();
    let create_job = mock!(aws_sdk_iot::Client::create_job)
        .match_requests(move |r| {
            *sent_in.lock().unwrap() = r.document().map(str::to_string);
            true
        })
        .then_output(|| CreateJobOutput::builder().job_arn("arn:job").build());
    let d = deps(
        RetryConfig::disabled(),
        &[&get, &create_version, &publish, &create_job],
    );
    handle(s, &d).await.unwrap();
    let sent = sent.lock().unwrap().clone().expect("CreateJob's document");
    assert_eq!(recipe.lock().unwrap().as_deref(), Some(sent.as_str()));
    let doc: serde_json::Value = serde_json::from_str(&sent).unwrap();
    let p = |a: &str| format!("${{aws:iot:package:App:version:1.4.0:attributes:{a}}}");
    assert_eq!(doc["afr_ota"]["streamname"], p("streamName"));
    let f = &doc["afr_ota"]["files"][0];
    assert_eq!(f["sig-sha256-ecdsa"], p("signature"));
    assert_eq!(f["certfile"], p("certfile"));
    assert_eq!(f["filesize"], 366816, "numbers stay literal");
}
