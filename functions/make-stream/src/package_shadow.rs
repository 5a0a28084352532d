//! The `PackageShadowUpdates` stack option: a CloudFormation custom resource
//! (template.yaml, PackageShadowUpdatesSetting) answered by this function,
//! which turns on the account's `versionUpdateByJobsConfig` with the
//! stack's PackageShadowRole, so that IoT Jobs records each successful
//! execution's `destinationPackageVersions` in the thing's `$package`
//! reserved named shadow ("Preparing AWS IoT Jobs", Reserved named shadow
//! and package versions; IoT API reference, UpdatePackageConfiguration).
//!
//! There is no CloudFormation resource type for this setting. It is
//! account-wide, so the stack never turns it off: Delete (the stack deleted,
//! or the option set back to Disabled) leaves it as it is and says how to
//! turn it off by hand; PackageShadowRole is retained for the same reason
//! (a setting naming a deleted role would stop the shadow updates silently).

use crate::custom_resource::{
    CustomResourceRequest, CustomResourceResponse, RequestType, Responder, Status,
};
use crate::Deps;
use ota_aws::package_configuration::{self, ShadowUpdates};
use ota_core::error::invalid;
use ota_core::OtaError;
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;
use tracing::{info, warn};

/// One setting per account and Region, so one fixed physical id: an Update
/// never replaces the resource (which would send a Delete for the old one).
/// Update and Delete echo the id CloudFormation sends, whatever it is.
pub const PHYSICAL_ID: &str = "package-shadow-updates";

/// The waits between tries while IAM settles. When an existing stack is
/// switched to Enabled, CloudFormation creates PackageShadowRole and adds
/// make-stream's new statements just before it invokes the function, and
/// IAM changes take a while to reach every service ("Troubleshooting IAM":
/// changes are eventually consistent). So AccessDenied (our PassRole not yet
/// in effect) and InvalidRequest (IoT not yet able to assume the new role)
/// are tried again, about a minute in all: well inside the resource's
/// two-minute ServiceTimeout.
pub const IAM_SETTLE: &[Duration] = &[
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
    Duration::from_secs(30),
];

/// What the PackageShadowUpdates mode needs besides the IoT client.
pub struct Settings {
    pub responder: Responder,
    /// Waits between tries while IAM settles ([`IAM_SETTLE`]).
    pub iam_settle: &'static [Duration],
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            responder: Responder::default(),
            iam_settle: IAM_SETTLE,
        }
    }
}

/// What the invocation did, for its log and the Lambda result (CloudFormation
/// reads only the PUT response).
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PackageShadowReport {
    pub request_type: RequestType,
    pub status: Status,
    pub reason: String,
}

/// Settles the request and answers CloudFormation, whatever happened: a
/// failure is a FAILED response (its errorType and message as the reason),
/// so the stack rolls back now rather than waiting out the timeout. Only a
/// response that cannot be delivered fails the invocation.
pub async fn answer(
    request: CustomResourceRequest,
    deps: &Deps,
) -> Result<PackageShadowReport, OtaError> {
    let (status, reason, data) = match settle(&request, deps).await {
        Ok((reason, data)) => (Status::Success, reason, data),
        Err(e) => {
            warn!(error_type = e.error_type(), error = %e, "PackageShadowUpdates failed");
            (
                Status::Failed,
                format!("{}: {e}", e.error_type()),
                Map::new(),
            )
        }
    };
    let physical_id = match request.request_type {
        RequestType::Create | RequestType::Unknown => PHYSICAL_ID,
        RequestType::Update | RequestType::Delete => request
            .physical_resource_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .unwrap_or(PHYSICAL_ID),
    };
    let response = CustomResourceResponse::to(&request, status, reason.clone(), physical_id, data);
    deps.package_shadow
        .responder
        .send(&request.response_url, &response)
        .await
        .map_err(|e| OtaError::ServiceUnavailable(format!("answering CloudFormation: {e}")))?;
    info!(status = ?status, %reason, "answered CloudFormation");
    Ok(PackageShadowReport {
        request_type: request.request_type,
        status,
        reason,
    })
}

async fn settle(
    request: &CustomResourceRequest,
    deps: &Deps,
) -> Result<(String, Map<String, Value>), OtaError> {
    if request.request_type == RequestType::Unknown {
        return Err(invalid(
            "RequestType",
            "CloudFormation sends Create, Update or Delete",
        ));
    }
    if request.request_type == RequestType::Delete {
        return Ok((
            "left the account's package configuration as it is (account-wide; turn it off with \
             `aws iot update-package-configuration --version-update-by-jobs-config enabled=false`)"
                .into(),
            Map::new(),
        ));
    }
    let role_arn = role_arn(request)?;
    let token = client_token(request)?;
    let mut waits = deps.package_shadow.iam_settle.iter();
    loop {
        match turn_on(deps, role_arn, token).await {
            Ok(done) => return Ok(done),
            Err(e @ (OtaError::AccessDenied(_) | OtaError::InvalidRequest(_))) => {
                let Some(wait) = waits.next() else {
                    return Err(e);
                };
                warn!(error = %e, wait_seconds = wait.as_secs_f32(), "IAM may not have settled; trying again");
                tokio::time::sleep(*wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// One try: read the configuration; turn it on with `role_arn` unless it
/// already is.
async fn turn_on(
    deps: &Deps,
    role_arn: &str,
    token: &str,
) -> Result<(String, Map<String, Value>), OtaError> {
    let before = package_configuration::current(&deps.iot).await?;
    let reason = if before.enabled && before.role_arn.as_deref() == Some(role_arn) {
        format!("$package shadow updates already on with {role_arn}")
    } else {
        package_configuration::enable(&deps.iot, role_arn, token).await?;
        info!(role_arn, previous = ?before, "turned on $package shadow updates");
        format!("$package shadow updates on with {role_arn}")
    };
    Ok((reason, data(role_arn, &before)))
}

/// `Fn::GetAtt` values the stack may read: the role now named and what the
/// account had before (empty when none).
fn data(role_arn: &str, before: &ShadowUpdates) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("RoleArn".into(), role_arn.into());
    data.insert(
        "PreviousRoleArn".into(),
        before.role_arn.clone().unwrap_or_default().into(),
    );
    data.insert("WasEnabled".into(), before.enabled.to_string().into());
    data
}

/// `RoleArn` from the resource's properties: an IAM role ARN
/// (`arn:<partition>:iam::<account>:role/<path><name>`), 20-2048 characters
/// (VersionUpdateByJobsConfig.roleArn).
fn role_arn(request: &CustomResourceRequest) -> Result<&str, OtaError> {
    let field = "ResourceProperties.RoleArn";
    let arn = request
        .resource_properties
        .get("RoleArn")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            invalid(
                field,
                "missing: the role IoT Jobs assumes to update $package",
            )
        })?;
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let is_role = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > "role/".len();
    if !is_role || !(20..=2048).contains(&arn.len()) {
        return Err(invalid(field, format!("'{arn}' is not an IAM role ARN")));
    }
    Ok(arn)
}

/// CloudFormation's RequestId (a UUID, the same when it redelivers a
/// request) as UpdatePackageConfiguration's client token (`\S{36,64}`).
fn client_token(request: &CustomResourceRequest) -> Result<&str, OtaError> {
    let id = request.request_id.as_str();
    if (36..=64).contains(&id.len()) && !id.chars().any(char::is_whitespace) {
        Ok(id)
    } else {
        Err(invalid(
            "RequestId",
            format!("'{id}' cannot be a client token (36-64 non-space characters)"),
        ))
    }
}
