//! Deterministic ids from (bucket, key, version id): a duplicate event, a
//! retried Lambda or a second execution for the same object version derive
//! the same signer token, stream id and job id, and so end with one job.

use sha2::{Digest, Sha256};

/// The prefix CreateOTAUpdate gives its streams and jobs; devices and
/// dashboards recognise it.
pub const ID_PREFIX: &str = "AFR_OTA-";
/// IoT's limit on a job id.
pub const MAX_JOB_ID_LEN: usize = 64;
/// The longest stream id the FreeRTOS OTA agent can use: it builds its
/// stream topics in buffers sized for `STREAM_NAME_MAX_LEN 44U`
/// (aws/ota-for-aws-iot-embedded-sdk source/ota_mqtt.c L129; a longer name
/// trips the assert at L1061), so every stream the pipeline makes fits it,
/// whatever the key (crate::devices::freertos, `streamname-length`).
pub const MAX_STREAM_ID_LEN: usize = 44;
const HASH_HEX_LEN: usize = 12;

pub(crate) fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so ("a/b", "c") and ("a", "b/c") differ.
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The file name without directories and extension, in job-id characters,
/// cut so that `AFR_OTA-<stem>-<hash>` fits `max_id` characters.
fn stem(key: &str, max_id: usize) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    let name = match name.rfind('.') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    };
    let max = max_id - ID_PREFIX.len() - 1 - HASH_HEX_LEN;
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    if s.is_empty() {
        "firmware".to_string()
    } else {
        s
    }
}

/// `AFR_OTA-<stem>-<hash>`: at most 64 characters of `[a-zA-Z0-9_-]`.
pub fn job_id(bucket: &str, key: &str, version_id: &str) -> String {
    let h = digest(&["job", bucket, key, version_id]);
    format!(
        "{ID_PREFIX}{}-{}",
        stem(key, MAX_JOB_ID_LEN),
        &h[..HASH_HEX_LEN]
    )
}

/// The job id of re-run `attempt` (`ota retry`) of a request whose job id
/// is `job_id`: the same id with `-r<attempt>`, cut to fit IoT's 64. A
/// re-run never reuses the id of a job that may have been deleted: AWS
/// advises against reusing a deleted job's id while devices may still hold
/// it (DeleteJob), and Nordic's aws_fota ignores a job id it already handled.
/// Attempt 0 (the upload's own run) keeps `job_id`.
pub fn retry_job_id(job_id: &str, attempt: u32) -> String {
    if attempt == 0 {
        return job_id.to_string();
    }
    let suffix = format!("-r{attempt}");
    let keep = MAX_JOB_ID_LEN.saturating_sub(suffix.len());
    // Job ids are ASCII ([a-zA-Z0-9_-]), so bytes are characters.
    format!("{}{suffix}", &job_id[..job_id.len().min(keep)])
}

/// The Step Functions execution name of re-run `attempt` of an object
/// version: one name per attempt, so two `ota retry` at once start one run
/// (the second gets ExecutionAlreadyExists). At most 80 characters of
/// `[a-zA-Z0-9_-]`, as StartExecution's `name` requires.
pub fn retry_execution_name(bucket: &str, key: &str, version_id: &str, attempt: u32) -> String {
    let h = digest(&["retry", bucket, key, version_id]);
    format!("ota-retry-{attempt}-{}", &h[..32])
}

/// The IoT stream id for the object version and the job that will use it
/// (the job id's form, at most [`MAX_STREAM_ID_LEN`] characters so the
/// FreeRTOS agent can open it). Per job, not per version: two runs for one
/// version that resolve different job ids (the tags or the manifest changed
/// between them) get a stream each, so one run's Clean Up can never take
/// the other's stream; runs with the same job id share one stream, and
/// ota_aws::stream keeps it alive for their job.
pub fn stream_id(bucket: &str, key: &str, version_id: &str, job_id: &str) -> String {
    let h = digest(&["stream", bucket, key, version_id, job_id]);
    format!(
        "{ID_PREFIX}{}-{}",
        stem(key, MAX_STREAM_ID_LEN),
        &h[..HASH_HEX_LEN]
    )
}

/// The signer's clientRequestToken: the same object version signed with the
/// same profile in the same attempt is one signing job, so a duplicate event
/// or a retried Lambda reuses the running job. A deliberate re-run (`ota
/// retry` after a signing job Failed) passes the next attempt number and
/// signs again; attempt 0 (an upload's own run) keeps the token it always had.
pub fn signing_token(
    bucket: &str,
    key: &str,
    version_id: &str,
    profile: &str,
    attempt: u32,
) -> String {
    let attempt = attempt.to_string();
    let parts: &[&str] = if attempt == "0" {
        &["sign", bucket, key, version_id, profile]
    } else {
        &["sign", bucket, key, version_id, profile, &attempt]
    };
    digest(parts)[..32].to_string()
}

/// The signer's clientRequestToken for one file of a release: as
/// [`signing_token`], and also naming the release manifest's version, so a
/// file a release signs is never the signing job of a single-file upload of
/// the same version (whose Clean Up could otherwise remove what the release
/// still reads).
pub fn release_signing_token(
    bucket: &str,
    (release_key, release_version): (&str, &str),
    (key, version_id): (&str, &str),
    profile: &str,
    attempt: u32,
) -> String {
    let attempt = attempt.to_string();
    digest(&[
        "sign-release",
        bucket,
        release_key,
        release_version,
        key,
        version_id,
        profile,
        &attempt,
    ])[..32]
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_release_files_signing_token_is_its_own() {
        let single = signing_token("fw", "firmware/a.bin", "v1", "P", 0);
        let release = |rv: &str, attempt| {
            release_signing_token(
                "fw",
                ("releases/r.json", rv),
                ("firmware/a.bin", "v1"),
                "P",
                attempt,
            )
        };
        assert_ne!(release("m1", 0), single);
        assert_eq!(release("m1", 0), release("m1", 0));
        assert_ne!(release("m1", 0), release("m2", 0));
        assert_ne!(release("m1", 0), release("m1", 1));
        assert_eq!(release("m1", 0).len(), 32);
    }

    fn valid_iot_id(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= MAX_JOB_ID_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    #[test]
    fn a_re_run_signs_again_a_duplicate_does_not() {
        let first = signing_token("b", "k", "v", "P", 0);
        assert_eq!(first, signing_token("b", "k", "v", "P", 0));
        // The token an upload's run has always had (attempt 0 adds nothing).
        assert_eq!(
            first,
            digest(&["sign", "b", "k", "v", "P"])[..32].to_string()
        );
        let retry = signing_token("b", "k", "v", "P", 1);
        assert_ne!(first, retry);
        assert_ne!(retry, signing_token("b", "k", "v", "P", 2));
        assert_eq!(retry, signing_token("b", "k", "v", "P", 1));
    }

    #[test]
    fn a_re_run_gets_a_job_id_of_its_own_that_still_fits() {
        let id = job_id("fw", "firmware/app-v1.4.bin", "v1");
        assert_eq!(retry_job_id(&id, 0), id);
        let r1 = retry_job_id(&id, 1);
        assert_eq!(r1, format!("{id}-r1"));
        assert_ne!(r1, retry_job_id(&id, 2));
        let long = "J".repeat(MAX_JOB_ID_LEN);
        let r12 = retry_job_id(&long, 12);
        assert_eq!(r12.len(), MAX_JOB_ID_LEN);
        assert!(r12.ends_with("-r12") && valid_iot_id(&r12), "{r12}");
    }

    #[test]
    fn readable_and_stable() {
        let id = job_id("fw", "firmware/app-v1.4.bin", "v1");
        assert!(id.starts_with("AFR_OTA-app-v1_4-"), "{id}");
        assert_eq!(id, job_id("fw", "firmware/app-v1.4.bin", "v1"));
        assert_ne!(id, job_id("fw", "firmware/app-v1.4.bin", "v2"));
        assert_ne!(id, job_id("fw2", "firmware/app-v1.4.bin", "v1"));
        assert_ne!(id, stream_id("fw", "firmware/app-v1.4.bin", "v1", &id));
        let stream = stream_id("fw", "firmware/app-v1.4.bin", "v1", &id);
        assert_eq!(stream, stream_id("fw", "firmware/app-v1.4.bin", "v1", &id));
        assert_ne!(
            stream,
            stream_id("fw", "firmware/app-v1.4.bin", "v1", "my-job")
        );
        assert!(job_id("b", "firmware/.bin", "v").starts_with("AFR_OTA-_bin-"));
        assert!(job_id("b", "firmware/", "v").starts_with("AFR_OTA-firmware-"));
        assert_ne!(
            signing_token("b", "k", "v", "p1", 0),
            signing_token("b", "k", "v", "p2", 0)
        );
        assert_eq!(signing_token("b", "k", "v", "p1", 0).len(), 32);
    }

    proptest! {
        #[test]
        fn ids_are_always_valid(bucket in "[a-z0-9.-]{3,63}", key in "\\PC{1,300}", version in "\\PC{0,40}") {
            let j = job_id(&bucket, &key, &version);
            let s = stream_id(&bucket, &key, &version, &j);
            prop_assert!(valid_iot_id(&j), "{}", j);
            prop_assert!(valid_iot_id(&s), "{}", s);
            prop_assert!(s.len() <= MAX_STREAM_ID_LEN, "{}", s);
            prop_assert!(j.starts_with(ID_PREFIX));
        }
    }
}
