//! The typed values a request is made of, and their parsers from text.
//!
//! Tags and the manifest share these parsers, so a value means the same thing
//! wherever it is written. Each parser checks what AWS checks for that one
//! value (pattern, length, range); rules across values live in `request`.
//!
//! One file per family of values; every item is re-exported here, so its path
//! is `ota_core::values::X` whichever file it lives in:
//! - `targets`: job targets and their ARNs;
//! - `keywords`: the keyword enums (target selection, protocol, failure
//!   types, end behavior, weekday);
//! - `bounds`: `Bounds` and the whole-number range of each setting;
//! - `retry`, `abort`: retry and abort criteria and their list rules;
//! - `rollout`: the rollout rates;
//! - `windows`: maintenance windows and cron;
//! - `packages`: package versions;
//! - `signatures`: pre-signed firmware's signature and algorithm;
//! - `names`: the job id and the signing profile name;
//! - `text`: the description, device paths and percent-encoding.

mod abort;
mod bounds;
mod keywords;
mod names;
mod packages;
mod retry;
mod rollout;
mod signatures;
mod targets;
mod text;
mod windows;

pub use abort::{
    check_abort_list, parse_abort_criterion, parse_percentage, render_percentage, AbortCriterion,
};
pub use bounds::{
    Bounds, BASE_RATE_PER_MINUTE, FILE_TYPE, HOUR, MAX_PER_MINUTE, MINUTE, MIN_EXECUTED_THINGS,
    PRESIGNED_EXPIRY_SECONDS, RATE_INCREASE_THINGS, RETRIES, TIMEOUT_MINUTES, WINDOW_MINUTES,
};
pub use keywords::{
    AbortFailureType, DocumentFormat, EndBehavior, Protocol, RetryFailureType, TargetSelection,
    Weekday,
};
pub use names::{parse_job_id, parse_profile_name};
pub use packages::{
    package_tag_form, parse_package, parse_package_registration, parse_switch, DocumentValues,
    PackageRef, PackageVersionName,
};
pub use retry::{check_retry_list, parse_retry_criterion, RetryCriterion};
pub use rollout::{parse_increment_factor, render_tenths, ExponentialRate, RateIncrease, Rollout};
pub use signatures::{
    parse_signature, parse_signature_algorithm, signature_key, MAX_SIGNATURE_BYTES,
};
pub use targets::{parse_target, Target};
pub use text::{
    is_refused_in_description, parse_description, parse_device_path, parse_firmware_version,
    percent_encode,
};
pub use windows::{
    parse_cron, parse_window, render_window, DayRange, MaintenanceWindow, WindowStart,
    WINDOW_GRAMMAR,
};
