//! Clean Up and the package version a failed run registered
//! (`ota:register-package`), against a mocked IoT client: its own draft is
//! deleted; a published version, another upload's draft or a version that
//! is not there is kept; the catalog's errors map to their errorType.

mod common;

use aws_sdk_iot::operation::delete_package_version::DeletePackageVersionOutput;
use aws_sdk_iot::operation::get_package_version::GetPackageVersionOutput;
use aws_sdk_iot::types::PackageVersionStatus;
use aws_smithy_mocks::{mock, Rule};
use make_stream::{handle, CleanUpReport, Deps, MakeStreamInput, MakeStreamOutput};
use ota_aws::test_support::{event, json_error};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const KEY: &str = "firmware/app-v1.4.bin";
const VERSION: &str = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY";

/// events/clean-up.json for a run that registered App@1.4.0, HTTP only (so
/// this test is about the package version alone: no stream was made).
fn input() -> MakeStreamInput {
    let mut v: serde_json::Value = serde_json::from_str(&event("clean-up.json")).unwrap();
    let request = &mut v["cleanUp"]["state"]["request"];
    request["protocols"] = serde_json::json!(["HTTP"]);
    request["packageRegistration"] = serde_json::json!({
        "packageName": "App", "versionName": "1.4.0", "makeDefault": false,
        "arn": "arn:aws:iot:us-east-1:123456789012:package/App/version/1.4.0",
        "field": "ota:register-package"
    });
    serde_json::from_value(v).unwrap()
}

fn deps(iot: &[&Rule]) -> Deps {
    common::iot_only_deps(iot)
}

fn version(status: PackageVersionStatus, s3_version: &'static str) -> Rule {
    mock!(aws_sdk_iot::Client::get_package_version)
        .match_requests(|r| r.package_name() == Some("App") && r.version_name() == Some("1.4.0"))
        .then_output(move || {
            let attrs: HashMap<String, String> = [("s3Key", KEY), ("s3VersionId", s3_version)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            GetPackageVersionOutput::builder()
                .status(status.clone())
                .set_attributes(Some(attrs))
                .build()
        })
}

/// A DeletePackageVersion rule that counts its calls.
fn deletes() -> (Rule, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    let n_in = n.clone();
    let rule = mock!(aws_sdk_iot::Client::delete_package_version)
        .match_requests(move |_| {
            n_in.fetch_add(1, Ordering::SeqCst);
            true
        })
        .then_output(|| DeletePackageVersionOutput::builder().build());
    (rule, n)
}

fn report(out: MakeStreamOutput) -> CleanUpReport {
    match out {
        MakeStreamOutput::CleanedUp(r) => r,
        other => panic!("not a clean-up report: {other:?}"),
    }
}

#[tokio::test]
async fn the_runs_own_draft_is_deleted() {
    let (get, (delete, n)) = (version(PackageVersionStatus::Draft, VERSION), deletes());
    let r = report(handle(input(), &deps(&[&get, &delete])).await.unwrap());
    assert_eq!(r.deleted_package_version.as_deref(), Some("App@1.4.0"));
    assert_eq!(n.load(Ordering::SeqCst), 1);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["deletedPackageVersion"], "App@1.4.0");
}

#[tokio::test]
async fn a_published_version_another_uploads_draft_or_none_is_kept() {
    for get in [
        version(PackageVersionStatus::Published, VERSION),
        version(PackageVersionStatus::Draft, "another-upload"),
        mock!(aws_sdk_iot::Client::get_package_version)
            .then_http_response(|| json_error(404, "ResourceNotFoundException", "no such version")),
    ] {
        let (delete, n) = deletes();
        let r = report(handle(input(), &deps(&[&get, &delete])).await.unwrap());
        assert_eq!(r.deleted_package_version, None, "{r:?}");
        assert_eq!(n.load(Ordering::SeqCst), 0, "never deleted");
    }
}

#[tokio::test]
async fn catalog_errors_fail_clean_up_with_their_error_type() {
    let throttled = mock!(aws_sdk_iot::Client::get_package_version)
        .then_http_response(|| json_error(429, "ThrottlingException", "Rate exceeded"));
    let e = handle(input(), &deps(&[&throttled])).await.unwrap_err();
    assert_eq!(e.error_type(), "Throttled", "{e}");
    let get = version(PackageVersionStatus::Draft, VERSION);
    let invalid = mock!(aws_sdk_iot::Client::delete_package_version)
        .then_http_response(|| json_error(400, "ValidationException", "bad version"));
    let e = handle(input(), &deps(&[&get, &invalid])).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest", "{e}");
    assert!(e.to_string().contains("DeletePackageVersion"), "{e}");
}
