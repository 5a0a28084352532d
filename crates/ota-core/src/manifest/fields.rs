//! The manifest's values, group by group, each checked with the parser the
//! tags use and every problem collected under its manifest path. The groups
//! run in the manifest's field order, so problems are reported in it.

use super::shape::{
    AbortEntry, CriteriaList, ExponentialEntry, Manifest, RetryEntry, RolloutConfig,
    SchedulingConfig,
};
use super::Collector;
use crate::spec::{manifest_path, RequestSpec};
use crate::times::TimeSpec;
use crate::values::*;

/// targets, targetSelection, description, protocols, filePath, fileType,
/// devices, documentFormat, firmwareVersion.
pub(super) fn delivery(c: &mut Collector, s: &mut RequestSpec, m: &mut Manifest) {
    if let Some(v) = m.targets.take() {
        s.targets = c.all("targets", v, |x| parse_target(&x));
    }
    if let Some(v) = m.target_selection.take() {
        s.target_selection = c.take("target_selection", TargetSelection::parse(&v));
    }
    if let Some(v) = m.description.take() {
        s.description = c.take("description", parse_description(&v));
    }
    if let Some(v) = m.protocols.take() {
        s.protocols = protocols(c, v);
    }
    if let Some(v) = m.file_path.take() {
        s.file_path = c.take("file_path", parse_device_path(&v));
    }
    if let Some(v) = m.file_type {
        s.file_type = c.take("file_type", FILE_TYPE.check(v));
    }
    if let Some(v) = m.devices.take() {
        s.devices = c.all("devices", v, |x| crate::devices::DeviceFamily::parse(&x));
    }
    if let Some(v) = m.document_format.take() {
        s.format = c.take("format", DocumentFormat::parse(&v));
    }
    if let Some(v) = m.firmware_version.take() {
        s.firmware_version = c.take("firmware_version", parse_firmware_version(&v));
    }
}

/// MQTT, HTTP or both, each once.
fn protocols(c: &mut Collector, v: Vec<String>) -> Option<Vec<Protocol>> {
    let protocols = c.all("protocols", v, |x| Protocol::parse(&x));
    if let Some(ps) = &protocols {
        if ps.len() == 2 && ps[0] == ps[1] {
            c.p.push(
                manifest_path("protocols"),
                "lists a protocol twice; MQTT, HTTP or both, each once",
            );
            return None;
        }
    }
    protocols
}

/// signingProfile and customCodeSigning.
pub(super) fn signing(c: &mut Collector, s: &mut RequestSpec, m: &mut Manifest) {
    if let Some(v) = m.signing_profile.take() {
        s.profile = c.take("profile", parse_profile_name(&v));
    }
    if let Some(cs) = m.custom_code_signing.take() {
        if let Some(v) = cs.signature {
            s.signature = c.take("signature", parse_signature(&v));
        }
        if let Some(v) = cs.signature_algorithm {
            s.signature_algorithm = c.take("signature_algorithm", parse_signature_algorithm(&v));
        }
        if let Some(v) = cs.certfile {
            s.certfile = c.take("certfile", parse_device_path(&v));
        }
    }
}

/// timeoutConfig, jobExecutionsRetryConfig, schedulingConfig, abortConfig,
/// jobExecutionsRolloutConfig and presignedUrlConfig.
pub(super) fn job_rules(c: &mut Collector, s: &mut RequestSpec, m: &mut Manifest) {
    if let Some(v) = m.timeout_config.take() {
        s.timeout_minutes = c.take(
            "timeout_minutes",
            TIMEOUT_MINUTES.check(v.in_progress_timeout_in_minutes),
        );
    }
    if let Some(v) = m.job_executions_retry_config.take() {
        s.retry = retry(c, v);
    }
    if let Some(sc) = m.scheduling_config.take() {
        scheduling(c, s, sc);
    }
    if let Some(v) = m.abort_config.take() {
        s.abort = abort(c, v);
    }
    if let Some(v) = m.job_executions_rollout_config.take() {
        s.rollout = c.take("rollout", rollout(v));
    }
    if let Some(v) = m.presigned_url_config.take() {
        s.presigned_expiry_seconds = c.take(
            "presigned_expiry_seconds",
            PRESIGNED_EXPIRY_SECONDS.check(v.expires_in_sec),
        );
    }
}

/// destinationPackageVersions, registerPackage, registerDefault,
/// documentValues and jobId.
pub(super) fn references(c: &mut Collector, s: &mut RequestSpec, m: &mut Manifest) {
    if let Some(v) = m.destination_package_versions.take() {
        s.packages = c.all("packages", v, |x| parse_package(&x));
    }
    if let Some(v) = m.register_package.take() {
        s.register_package = c.take("register_package", parse_package_registration(&v));
    }
    if let Some(v) = m.register_default {
        s.register_default = Some(v);
    }
    if let Some(v) = m.document_values.take() {
        s.document_values = c.take("document_values", DocumentValues::parse(&v));
    }
    if let Some(v) = m.job_id.take() {
        s.job_id = c.take("job_id", parse_job_id(&v));
    }
}

/// Each retry criterion, then the list rules.
fn retry(c: &mut Collector, v: CriteriaList<RetryEntry>) -> Option<Vec<RetryCriterion>> {
    let list = c.all("retry", v.criteria_list, |e| {
        Ok(RetryCriterion {
            failure_type: RetryFailureType::parse(&e.failure_type)?,
            number_of_retries: RETRIES.check(e.number_of_retries)?,
        })
    });
    list.and_then(|l| {
        let checked = check_retry_list(&l).map(|_| l);
        c.take("retry", checked)
    })
}

/// startTime, endTime, endBehavior and maintenanceWindows (raw cron).
fn scheduling(c: &mut Collector, s: &mut RequestSpec, sc: SchedulingConfig) {
    if let Some(v) = sc.start_time {
        s.start = c.take("start", TimeSpec::parse(&v));
    }
    if let Some(v) = sc.end_time {
        s.end = c.take("end", TimeSpec::parse(&v));
    }
    if let Some(v) = sc.end_behavior {
        s.end_behavior = c.take("end_behavior", EndBehavior::parse(&v));
    }
    if let Some(v) = sc.maintenance_windows {
        s.windows = c.all("windows", v, |w| {
            Ok(MaintenanceWindow {
                start: WindowStart::Cron(parse_cron(&w.start_time)?),
                duration_minutes: WINDOW_MINUTES.check(w.duration_in_minutes)?,
            })
        });
    }
}

/// Each abort criterion, then the list rules.
fn abort(c: &mut Collector, v: CriteriaList<AbortEntry>) -> Option<Vec<AbortCriterion>> {
    let list = c.all("abort", v.criteria_list, abort_criterion);
    list.and_then(|l| {
        let checked = check_abort_list(&l).map(|_| l);
        c.take("abort", checked)
    })
}

/// One abort criterion: action CANCEL, a percentage with up to 2 decimals.
fn abort_criterion(e: AbortEntry) -> Result<AbortCriterion, String> {
    if e.action != "CANCEL" {
        return Err(format!(
            "action '{}' is not CANCEL, the only abort action",
            e.action
        ));
    }
    let bp = e.threshold_percentage * 100.0;
    if !(bp.is_finite() && (1.0..=10_000.0).contains(&bp) && (bp - bp.round()).abs() < 1e-6) {
        return Err(format!(
            "thresholdPercentage {} is not above 0 and at most 100 with up to 2 decimals",
            e.threshold_percentage
        ));
    }
    Ok(AbortCriterion {
        failure_type: AbortFailureType::parse(&e.failure_type)?,
        threshold_basis_points: bp.round() as u32,
        min_number_of_executed_things: MIN_EXECUTED_THINGS
            .check(e.min_number_of_executed_things)?,
    })
}

/// jobExecutionsRolloutConfig: maximumPerMinute and/or exponentialRate.
fn rollout(v: RolloutConfig) -> Result<Rollout, String> {
    let maximum_per_minute = v
        .maximum_per_minute
        .map(|n| MAX_PER_MINUTE.check(n))
        .transpose()?;
    let exponential_rate = v.exponential_rate.map(exponential_rate).transpose()?;
    if maximum_per_minute.is_none() && exponential_rate.is_none() {
        return Err("is empty; give maximumPerMinute and/or exponentialRate".into());
    }
    Ok(Rollout {
        maximum_per_minute,
        exponential_rate,
    })
}

/// exponentialRate: an increment factor with one decimal, and exactly one
/// rate increase criterion.
fn exponential_rate(e: ExponentialEntry) -> Result<ExponentialRate, String> {
    let tenths = e.increment_factor * 10.0;
    if !(tenths.is_finite()
        && (tenths - tenths.round()).abs() < 1e-6
        && (11.0..=50.0).contains(&tenths.round()))
    {
        return Err(format!(
            "incrementFactor {} is not from 1.1 to 5.0 with one decimal",
            e.increment_factor
        ));
    }
    let criteria = match (
        e.rate_increase_criteria.number_of_notified_things,
        e.rate_increase_criteria.number_of_succeeded_things,
    ) {
        (Some(n), None) => RateIncrease::NotifiedThings(RATE_INCREASE_THINGS.check(n)?),
        (None, Some(n)) => RateIncrease::SucceededThings(RATE_INCREASE_THINGS.check(n)?),
        _ => {
            return Err(
                "rateIncreaseCriteria needs exactly one of numberOfNotifiedThings and numberOfSucceededThings"
                    .into(),
            )
        }
    };
    Ok(ExponentialRate {
        base_rate_per_minute: BASE_RATE_PER_MINUTE.check(e.base_rate_per_minute)?,
        increment_factor_tenths: tenths.round() as u32,
        criteria,
    })
}
