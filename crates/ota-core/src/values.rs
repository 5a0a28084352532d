//! The typed values a request is made of, and their parsers from text.
//!
//! Tags and the manifest share these parsers, so a value means the same thing
//! wherever it is written. Each parser checks what AWS checks for that one
//! value (pattern, length, range); rules across values live in `request`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A job target as written: a thing group, a thing, or a full ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    ThingGroup(String),
    Thing(String),
    Arn(String),
}

impl Target {
    /// The ARN CreateJob wants, in the given region and account.
    pub fn to_arn(&self, partition: &str, region: &str, account: &str) -> String {
        match self {
            Target::ThingGroup(n) => {
                format!("arn:{partition}:iot:{region}:{account}:thinggroup/{n}")
            }
            Target::Thing(n) => format!("arn:{partition}:iot:{region}:{account}:thing/{n}"),
            Target::Arn(a) => a.clone(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::ThingGroup(n) => write!(f, "thinggroup/{n}"),
            Target::Thing(n) => write!(f, "thing/{n}"),
            Target::Arn(a) => f.write_str(a),
        }
    }
}

fn is_thing_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
}

pub fn parse_target(s: &str) -> Result<Target, String> {
    const ALLOWED: &str = "thinggroup/NAME, thing/NAME or arn:aws:iot:REGION:ACCOUNT:thing[group]/NAME, NAME of 1-128 letters, digits, ':', '_', '-'";
    if let Some(name) = s.strip_prefix("thinggroup/") {
        return if is_thing_name(name) {
            Ok(Target::ThingGroup(name.to_string()))
        } else {
            Err(format!("'{s}' is not a valid target; expected {ALLOWED}"))
        };
    }
    if let Some(name) = s.strip_prefix("thing/") {
        return if is_thing_name(name) {
            Ok(Target::Thing(name.to_string()))
        } else {
            Err(format!("'{s}' is not a valid target; expected {ALLOWED}"))
        };
    }
    if s.starts_with("arn:") {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[1].starts_with("aws")
            && parts[2] == "iot"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && match parts[5].split_once('/') {
                Some(("thing", n)) | Some(("thinggroup", n)) => is_thing_name(n),
                _ => false,
            };
        return if ok {
            Ok(Target::Arn(s.to_string()))
        } else {
            Err(format!(
                "'{s}' is not a valid target ARN; expected {ALLOWED}"
            ))
        };
    }
    Err(format!("'{s}' is not a valid target; expected {ALLOWED}"))
}

macro_rules! keyword_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "'{}' is not one of {}",
                        s,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

keyword_enum!(
    /// CreateJob's targetSelection.
    TargetSelection { Snapshot = "SNAPSHOT", Continuous = "CONTINUOUS" }
);
keyword_enum!(
    /// How the device fetches the file.
    Protocol { Mqtt = "MQTT", Http = "HTTP" }
);
keyword_enum!(
    /// jobExecutionsRetryConfig failureType.
    RetryFailureType { Failed = "FAILED", TimedOut = "TIMED_OUT", All = "ALL" }
);
keyword_enum!(
    /// abortConfig failureType.
    AbortFailureType { Failed = "FAILED", Rejected = "REJECTED", TimedOut = "TIMED_OUT", All = "ALL" }
);
keyword_enum!(
    /// schedulingConfig endBehavior.
    EndBehavior { StopRollout = "STOP_ROLLOUT", Cancel = "CANCEL", ForceCancel = "FORCE_CANCEL" }
);
keyword_enum!(
    /// Days of the week, in cron's names.
    Weekday { Mon = "MON", Tue = "TUE", Wed = "WED", Thu = "THU", Fri = "FRI", Sat = "SAT", Sun = "SUN" }
);

/// An inclusive range of whole numbers AWS allows for one setting, with what
/// the number is, for messages. Tags and the manifest check against the same
/// constants.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub lo: u32,
    pub hi: u32,
    pub what: &'static str,
}

impl Bounds {
    const fn new(lo: u32, hi: u32, what: &'static str) -> Self {
        Self { lo, hi, what }
    }

    fn message(&self, shown: impl fmt::Display) -> String {
        format!(
            "'{shown}' is not {}: a whole number from {} to {}",
            self.what, self.lo, self.hi
        )
    }

    /// Parses decimal text (no sign) within the bounds.
    pub fn parse(&self, s: &str) -> Result<u32, String> {
        match s.parse::<u32>() {
            Ok(n) if (self.lo..=self.hi).contains(&n) && !s.starts_with('+') => Ok(n),
            _ => Err(self.message(s)),
        }
    }

    /// Checks a JSON number within the bounds.
    pub fn check(&self, n: i64) -> Result<u32, String> {
        u32::try_from(n)
            .ok()
            .filter(|n| (self.lo..=self.hi).contains(n))
            .ok_or_else(|| self.message(n))
    }
}

pub const FILE_TYPE: Bounds = Bounds::new(0, 255, "a file type");
pub const TIMEOUT_MINUTES: Bounds = Bounds::new(1, 10080, "an in-progress timeout in minutes");
pub const RETRIES: Bounds = Bounds::new(0, 10, "a number of retries");
pub const WINDOW_MINUTES: Bounds = Bounds::new(1, 1430, "a window length in minutes");
pub const HOUR: Bounds = Bounds::new(0, 23, "an hour");
pub const MINUTE: Bounds = Bounds::new(0, 59, "a minute");
pub const MIN_EXECUTED_THINGS: Bounds =
    Bounds::new(1, i32::MAX as u32, "a minimum number of executed things");
pub const MAX_PER_MINUTE: Bounds = Bounds::new(1, 1000, "a maximum per minute");
pub const BASE_RATE_PER_MINUTE: Bounds = Bounds::new(1, 1000, "a base rate per minute");
pub const RATE_INCREASE_THINGS: Bounds = Bounds::new(1, i32::MAX as u32, "a number of things");
pub const PRESIGNED_EXPIRY_SECONDS: Bounds =
    Bounds::new(60, 3600, "a presigned URL lifetime in seconds");

/// One jobExecutionsRetryConfig criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryCriterion {
    pub failure_type: RetryFailureType,
    pub number_of_retries: u32,
}

/// Checks a retry criteria list as AWS does: 1 or 2 criteria, 0..10 retries
/// each, no failure type twice, ALL alone.
pub fn check_retry_list(list: &[RetryCriterion]) -> Result<(), String> {
    if list.is_empty() || list.len() > 2 {
        return Err(format!(
            "has {} criteria; a retry policy has 1 or 2 (e.g. FAILED:2 TIMED_OUT:3)",
            list.len()
        ));
    }
    if list.len() == 2 && list[0].failure_type == list[1].failure_type {
        return Err(format!(
            "names {} twice; each failure type at most once",
            list[0].failure_type
        ));
    }
    if list.len() == 2 && list.iter().any(|c| c.failure_type == RetryFailureType::All) {
        return Err("ALL already covers FAILED and TIMED_OUT; use it alone".into());
    }
    Ok(())
}

pub fn parse_retry_criterion(s: &str) -> Result<RetryCriterion, String> {
    let (t, n) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}' is not TYPE:RETRIES (TYPE is FAILED, TIMED_OUT or ALL)"))?;
    let failure_type = RetryFailureType::parse(t)?;
    let number_of_retries = RETRIES.parse(n)?;
    Ok(RetryCriterion {
        failure_type,
        number_of_retries,
    })
}

/// One abortConfig criterion (action is always CANCEL, the only one AWS has).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbortCriterion {
    pub failure_type: AbortFailureType,
    /// In hundredths of a percent, so that the value round-trips exactly.
    pub threshold_basis_points: u32,
    pub min_number_of_executed_things: u32,
}

impl AbortCriterion {
    pub fn threshold_percentage(&self) -> f64 {
        f64::from(self.threshold_basis_points) / 100.0
    }
}

/// A percentage with at most two decimals, above 0 and at most 100, as
/// hundredths.
pub fn parse_percentage(s: &str) -> Result<u32, String> {
    let err = || format!("'{s}' is not a percentage above 0 and at most 100 (up to 2 decimals)");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || whole.len() > 3 || frac.len() > 2 || (s.contains('.') && frac.is_empty())
    {
        return Err(err());
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let w: u32 = whole.parse().map_err(|_| err())?;
    let mut f: u32 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| err())?
    };
    if frac.len() == 1 {
        f *= 10;
    }
    let bp = w * 100 + f;
    if bp == 0 || bp > 10_000 {
        return Err(err());
    }
    Ok(bp)
}

pub fn render_percentage(bp: u32) -> String {
    if bp % 100 == 0 {
        format!("{}", bp / 100)
    } else if bp % 10 == 0 {
        format!("{}.{}", bp / 100, (bp % 100) / 10)
    } else {
        format!("{}.{:02}", bp / 100, bp % 100)
    }
}

pub fn parse_abort_criterion(s: &str) -> Result<AbortCriterion, String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 3 {
        return Err(format!(
            "'{s}' is not TYPE:PERCENT:MIN_THINGS (e.g. FAILED:10:50; TYPE is FAILED, REJECTED, TIMED_OUT or ALL)"
        ));
    }
    Ok(AbortCriterion {
        failure_type: AbortFailureType::parse(parts[0])?,
        threshold_basis_points: parse_percentage(parts[1])?,
        min_number_of_executed_things: MIN_EXECUTED_THINGS.parse(parts[2])?,
    })
}

pub fn check_abort_list(list: &[AbortCriterion]) -> Result<(), String> {
    if list.is_empty() {
        return Err("is empty; give at least one TYPE:PERCENT:MIN_THINGS".into());
    }
    for (i, a) in list.iter().enumerate() {
        if list[..i].iter().any(|b| b.failure_type == a.failure_type) {
            return Err(format!(
                "names {} twice; each failure type at most once",
                a.failure_type
            ));
        }
    }
    Ok(())
}

/// jobExecutionsRolloutConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub maximum_per_minute: Option<u32>,
    pub exponential_rate: Option<ExponentialRate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExponentialRate {
    pub base_rate_per_minute: u32,
    /// In tenths (AWS allows 1.1 to 5.0 with one decimal), exact in round trips.
    pub increment_factor_tenths: u32,
    pub criteria: RateIncrease,
}

impl ExponentialRate {
    pub fn increment_factor(&self) -> f64 {
        f64::from(self.increment_factor_tenths) / 10.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RateIncrease {
    NotifiedThings(u32),
    SucceededThings(u32),
}

/// An increment factor from 1.1 to 5.0 with one decimal, as tenths.
pub fn parse_increment_factor(s: &str) -> Result<u32, String> {
    let err = || format!("'{s}' is not an increment factor from 1.1 to 5.0 (one decimal)");
    let (w, f) = s.split_once('.').unwrap_or((s, "0"));
    if w.len() != 1 || f.len() != 1 {
        return Err(err());
    }
    let w: u32 = w.parse().map_err(|_| err())?;
    let f: u32 = f.parse().map_err(|_| err())?;
    let t = w * 10 + f;
    if (11..=50).contains(&t) {
        Ok(t)
    } else {
        Err(err())
    }
}

pub fn render_tenths(t: u32) -> String {
    format!("{}.{}", t / 10, t % 10)
}

/// A maintenance window: when it opens (cron) and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub start: WindowStart,
    pub duration_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowStart {
    /// The tag grammar's weekly form: on these days (empty: every day) at
    /// hour:minute UTC.
    Weekly {
        days: Vec<DayRange>,
        hour: u32,
        minute: u32,
    },
    /// A raw cron expression from the manifest, `cron(...)`.
    Cron(String),
}

/// A day or an inclusive range of days (`MON-FRI`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRange {
    pub from: Weekday,
    pub to: Weekday,
}

impl DayRange {
    /// `MON`, `MON-FRI`, ... joined with `sep` (`,` in cron, `+` in tags).
    pub fn join(days: &[DayRange], sep: &str) -> String {
        days.iter()
            .map(|d| {
                if d.from == d.to {
                    d.from.to_string()
                } else {
                    format!("{}-{}", d.from, d.to)
                }
            })
            .collect::<Vec<_>>()
            .join(sep)
    }
}

impl MaintenanceWindow {
    /// The `startTime` cron expression IoT wants.
    pub fn cron(&self) -> String {
        match &self.start {
            WindowStart::Cron(c) => c.clone(),
            WindowStart::Weekly { days, hour, minute } => {
                let dow = if days.is_empty() {
                    "*".to_string()
                } else {
                    DayRange::join(days, ",")
                };
                format!("cron({minute} {hour} ? * {dow} *)")
            }
        }
    }
}

pub const WINDOW_GRAMMAR: &str =
    "DAYS@HH:MM/MINUTES, DAYS one of DAILY, MON, MON-FRI, SAT+SUN (times UTC, 1-1430 minutes)";

pub fn parse_window(s: &str) -> Result<MaintenanceWindow, String> {
    let bad = || format!("'{s}' is not a maintenance window; expected {WINDOW_GRAMMAR}");
    let (days, rest) = s.split_once('@').ok_or_else(bad)?;
    let (time, duration) = rest.split_once('/').ok_or_else(bad)?;
    let (hh, mm) = time.split_once(':').ok_or_else(bad)?;
    if hh.len() != 2 || mm.len() != 2 {
        return Err(bad());
    }
    let hour = HOUR.parse(hh).map_err(|_| bad())?;
    let minute = MINUTE.parse(mm).map_err(|_| bad())?;
    let duration_minutes = WINDOW_MINUTES.parse(duration)?;
    let days = if days == "DAILY" {
        Vec::new()
    } else {
        let mut out = Vec::new();
        for part in days.split('+') {
            let range = match part.split_once('-') {
                Some((a, b)) => DayRange {
                    from: Weekday::parse(a).map_err(|_| bad())?,
                    to: Weekday::parse(b).map_err(|_| bad())?,
                },
                None => {
                    let d = Weekday::parse(part).map_err(|_| bad())?;
                    DayRange { from: d, to: d }
                }
            };
            out.push(range);
        }
        out
    };
    Ok(MaintenanceWindow {
        start: WindowStart::Weekly { days, hour, minute },
        duration_minutes,
    })
}

pub fn render_window(w: &MaintenanceWindow) -> Option<String> {
    match &w.start {
        WindowStart::Cron(_) => None,
        WindowStart::Weekly { days, hour, minute } => {
            let d = if days.is_empty() {
                "DAILY".to_string()
            } else {
                DayRange::join(days, "+")
            };
            Some(format!("{d}@{hour:02}:{minute:02}/{}", w.duration_minutes))
        }
    }
}

/// A raw cron expression as EventBridge and IoT accept it: `cron(` six fields `)`.
pub fn parse_cron(s: &str) -> Result<String, String> {
    let inner = s
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            format!("'{s}' is not cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR)")
        })?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!(
            "'{s}' has {} fields; cron() takes 6: MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR",
            fields.len()
        ));
    }
    if fields[2] != "?" && fields[4] != "?" {
        return Err(format!(
            "'{s}': one of day-of-month and day-of-week must be '?'"
        ));
    }
    let ok_chars = |f: &str| {
        f.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b",-*?/#".contains(&b))
    };
    if !fields.iter().all(|f| ok_chars(f)) {
        return Err(format!("'{s}' has characters cron does not use"));
    }
    Ok(s.to_string())
}

/// A package version to record on the job: `Name@Version` or its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PackageRef {
    NameVersion { name: String, version: String },
    Arn(String),
}

impl PackageRef {
    pub fn to_arn(&self, partition: &str, region: &str, account: &str) -> String {
        match self {
            PackageRef::NameVersion { name, version } => {
                format!("arn:{partition}:iot:{region}:{account}:package/{name}/version/{version}")
            }
            PackageRef::Arn(a) => a.clone(),
        }
    }
}

impl fmt::Display for PackageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageRef::NameVersion { name, version } => write!(f, "{name}@{version}"),
            PackageRef::Arn(a) => f.write_str(a),
        }
    }
}

fn is_package_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_version_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'))
}

pub fn parse_package(s: &str) -> Result<PackageRef, String> {
    let allowed = "NAME@VERSION (NAME: 1-128 of letters, digits, '-', '_', '.'; VERSION: 1-64 of those and '+') or arn:aws:iot:REGION:ACCOUNT:package/NAME/version/VERSION";
    if s.starts_with("arn:") {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let resource_ok = parts.len() == 6
            && parts[1].starts_with("aws")
            && parts[2] == "iot"
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && {
                let r: Vec<&str> = parts[5].split('/').collect();
                r.len() == 4
                    && r[0] == "package"
                    && is_package_name(r[1])
                    && r[2] == "version"
                    && is_version_name(r[3])
            };
        return if resource_ok {
            Ok(PackageRef::Arn(s.to_string()))
        } else {
            Err(format!(
                "'{s}' is not a package version ARN; expected {allowed}"
            ))
        };
    }
    match s.split_once('@') {
        Some((n, v)) if is_package_name(n) && is_version_name(v) => Ok(PackageRef::NameVersion {
            name: n.to_string(),
            version: v.to_string(),
        }),
        _ => Err(format!(
            "'{s}' is not a package version; expected {allowed}"
        )),
    }
}

/// An IoT job id: 1-64 of letters, digits, '-', '_'.
pub fn parse_job_id(s: &str) -> Result<String, String> {
    if (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a job id: 1 to 64 letters, digits, '-' or '_'"
        ))
    }
}

/// A Signer profile name: 2-64 of letters, digits, '_'.
pub fn parse_profile_name(s: &str) -> Result<String, String> {
    if (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a signing profile name: 2 to 64 letters, digits or '_'"
        ))
    }
}

/// The largest signature, decoded, that device OTA parsers accept.
pub const MAX_SIGNATURE_BYTES: usize = 384;

/// A base64 signature (standard alphabet, padded), 1..=384 bytes decoded.
pub fn parse_signature(s: &str) -> Result<String, String> {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(s) {
        Ok(b) if !b.is_empty() && b.len() <= MAX_SIGNATURE_BYTES => Ok(s.to_string()),
        Ok(b) if b.is_empty() => Err("is empty; expected a base64 signature".into()),
        Ok(b) => Err(format!(
            "decodes to {} bytes; devices accept at most {MAX_SIGNATURE_BYTES}",
            b.len()
        )),
        Err(_) => Err("is not standard base64 (A-Z a-z 0-9 + / with = padding)".into()),
    }
}

/// A signature algorithm as the signer names it: `SHA256withECDSA`.
pub fn parse_signature_algorithm(s: &str) -> Result<String, String> {
    signature_key(s).map(|_| s.to_string())
}

/// The job document key for a signature algorithm:
/// `SHA256withECDSA` -> `sig-sha256-ecdsa`, `SHA1withRSA` -> `sig-sha1-rsa`.
pub fn signature_key(algorithm: &str) -> Result<String, String> {
    let err = || {
        format!(
            "'{algorithm}' is not a signature algorithm; expected SHA<bits>with<ECDSA|RSA>, e.g. SHA256withECDSA or SHA1withRSA"
        )
    };
    let (hash, sig) = algorithm.split_once("with").ok_or_else(err)?;
    let bits = hash.strip_prefix("SHA").ok_or_else(err)?;
    if !matches!(bits, "1" | "224" | "256" | "384" | "512") || !matches!(sig, "ECDSA" | "RSA") {
        return Err(err());
    }
    Ok(format!("sig-sha{bits}-{}", sig.to_ascii_lowercase()))
}

/// A file path on the device (or a certificate path): printable, 1..=1024.
pub fn parse_device_path(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 1024 || s.chars().any(char::is_control) {
        Err(format!(
            "'{s}' is not a device path: 1 to 1024 printable characters"
        ))
    } else {
        Ok(s.to_string())
    }
}

/// Percent-encodes every byte but ASCII letters, digits and `keep`.
pub fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            o.push(b as char);
        } else {
            o += &format!("%{b:02X}");
        }
    }
    o
}

/// A job description: at most 2028 characters, no control characters.
pub fn parse_description(s: &str) -> Result<String, String> {
    if s.is_empty() || s.chars().count() > 2028 || s.chars().any(char::is_control) {
        Err("must be 1 to 2028 characters with no control characters".into())
    } else {
        Ok(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_resolve() {
        let t = parse_target("thinggroup/Lab").unwrap();
        assert_eq!(
            t.to_arn("aws", "eu-west-1", "123456789012"),
            "arn:aws:iot:eu-west-1:123456789012:thinggroup/Lab"
        );
        assert_eq!(
            parse_target("thing/dev-7").unwrap(),
            Target::Thing("dev-7".into())
        );
        let arn = "arn:aws:iot:us-east-1:123456789012:thing/dev-7";
        assert_eq!(parse_target(arn).unwrap(), Target::Arn(arn.into()));
        for bad in [
            "Lab",
            "thinggroup/",
            "thinggroup/a b",
            "thing/é",
            "arn:aws:iot:us-east-1:1234:thing/x",
            "arn:aws:s3:us-east-1:123456789012:thing/x",
            "arn:aws:iot:us-east-1:123456789012:job/x",
        ] {
            assert!(parse_target(bad).is_err(), "{bad} accepted");
        }
        assert!(parse_target(&format!("thing/{}", "a".repeat(129))).is_err());
        assert!(parse_target(&format!("thing/{}", "a".repeat(128))).is_ok());
    }

    #[test]
    fn retry_rules() {
        assert_eq!(
            parse_retry_criterion("FAILED:2").unwrap(),
            RetryCriterion {
                failure_type: RetryFailureType::Failed,
                number_of_retries: 2
            }
        );
        assert!(parse_retry_criterion("FAILED:11").is_err());
        assert!(parse_retry_criterion("FAILED:10").is_ok());
        assert!(parse_retry_criterion("FAILED:-1").is_err());
        assert!(parse_retry_criterion("FAILED:+1").is_err());
        assert!(parse_retry_criterion("REJECTED:1").is_err());
        assert!(parse_retry_criterion("FAILED").is_err());
        let f = parse_retry_criterion("FAILED:1").unwrap();
        let t = parse_retry_criterion("TIMED_OUT:1").unwrap();
        let a = parse_retry_criterion("ALL:1").unwrap();
        assert!(check_retry_list(&[f, t]).is_ok());
        assert!(check_retry_list(&[a]).is_ok());
        assert!(check_retry_list(&[]).is_err());
        assert!(check_retry_list(&[f, f]).is_err());
        assert!(check_retry_list(&[f, a]).is_err());
        assert!(check_retry_list(&[f, t, a]).is_err());
    }

    #[test]
    fn percentages_are_exact() {
        assert_eq!(parse_percentage("10").unwrap(), 1000);
        assert_eq!(parse_percentage("12.5").unwrap(), 1250);
        assert_eq!(parse_percentage("0.01").unwrap(), 1);
        assert_eq!(parse_percentage("100").unwrap(), 10000);
        for bad in ["0", "100.01", "101", "1.234", "", ".5", "5.", "-1", "1e2"] {
            assert!(parse_percentage(bad).is_err(), "{bad} accepted");
        }
        for bp in [1, 10, 100, 1250, 1255, 10000] {
            assert_eq!(parse_percentage(&render_percentage(bp)).unwrap(), bp);
        }
    }

    #[test]
    fn abort_rules() {
        let a = parse_abort_criterion("FAILED:10:50").unwrap();
        assert_eq!(a.threshold_percentage(), 10.0);
        assert_eq!(a.min_number_of_executed_things, 50);
        assert!(parse_abort_criterion("FAILED:10:0").is_err());
        assert!(parse_abort_criterion("CANCELED:10:5").is_err());
        assert!(parse_abort_criterion("FAILED:10").is_err());
        assert!(check_abort_list(&[a, a]).is_err());
        assert!(check_abort_list(&[a]).is_ok());
    }

    #[test]
    fn increment_factor_bounds() {
        assert_eq!(parse_increment_factor("1.1").unwrap(), 11);
        assert_eq!(parse_increment_factor("5").unwrap(), 50);
        assert_eq!(parse_increment_factor("2.5").unwrap(), 25);
        for bad in ["1.0", "5.1", "1.15", "10", "x"] {
            assert!(parse_increment_factor(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn windows_become_cron() {
        let w = parse_window("MON-FRI@02:00/120").unwrap();
        assert_eq!(w.cron(), "cron(0 2 ? * MON-FRI *)");
        assert_eq!(w.duration_minutes, 120);
        let w = parse_window("SAT+SUN@23:30/60").unwrap();
        assert_eq!(w.cron(), "cron(30 23 ? * SAT,SUN *)");
        assert_eq!(
            parse_window("DAILY@01:05/1").unwrap().cron(),
            "cron(5 1 ? * * *)"
        );
        for bad in [
            "MON@02:00/0",
            "MON@02:00/1431",
            "MON@24:00/10",
            "MON@2:00/10",
            "FUN@02:00/10",
            "MON 02:00/10",
            "MON@02:00",
        ] {
            assert!(parse_window(bad).is_err(), "{bad} accepted");
        }
        assert!(parse_window("MON@02:00/1430").is_ok());
    }

    #[test]
    fn cron_shape() {
        assert!(parse_cron("cron(0 2 ? * SUN *)").is_ok());
        assert!(parse_cron("cron(0 2 1 * ? *)").is_ok());
        assert!(parse_cron("cron(0 2 1 * MON *)").is_err());
        assert!(parse_cron("cron(0 2 ? * SUN)").is_err());
        assert!(parse_cron("0 2 ? * SUN *").is_err());
        assert!(parse_cron("cron(0 2 ? * SUN; *)").is_err());
    }

    #[test]
    fn packages() {
        let p = parse_package("MyPkg@1.4.0").unwrap();
        assert_eq!(
            p.to_arn("aws", "us-east-1", "123456789012"),
            "arn:aws:iot:us-east-1:123456789012:package/MyPkg/version/1.4.0"
        );
        assert!(
            parse_package("arn:aws:iot:us-east-1:123456789012:package/MyPkg/version/1.4.0").is_ok()
        );
        assert!(parse_package("arn:aws:iot:us-east-1:123456789012:package/MyPkg").is_err());
        assert!(parse_package("MyPkg").is_err());
        assert!(parse_package("My Pkg@1").is_err());
        assert!(parse_package("@1").is_err());
    }

    #[test]
    fn ids_names_and_signatures() {
        assert!(parse_job_id("AFR_OTA-app-1").is_ok());
        assert!(parse_job_id(&"a".repeat(65)).is_err());
        assert!(parse_job_id("a.b").is_err());
        assert!(parse_job_id("").is_err());
        assert!(parse_profile_name("OtaProfile_1").is_ok());
        assert!(parse_profile_name("a").is_err());
        assert!(parse_profile_name("ota-profile").is_err());
        assert!(parse_signature("MEUCIQ==").is_ok());
        assert!(parse_signature("not base64!").is_err());
        assert!(parse_signature("").is_err());
        use base64::Engine;
        let big = base64::engine::general_purpose::STANDARD.encode([1u8; 385]);
        assert!(parse_signature(&big).unwrap_err().contains("385"));
        let ok = base64::engine::general_purpose::STANDARD.encode([1u8; 384]);
        assert!(parse_signature(&ok).is_ok());
    }

    #[test]
    fn signature_keys() {
        assert_eq!(
            signature_key("SHA256withECDSA").unwrap(),
            "sig-sha256-ecdsa"
        );
        assert_eq!(signature_key("SHA1withRSA").unwrap(), "sig-sha1-rsa");
        assert_eq!(signature_key("SHA384withRSA").unwrap(), "sig-sha384-rsa");
        assert!(signature_key("MD5withRSA").is_err());
        assert!(signature_key("SHA256").is_err());
        assert!(signature_key("SHA256withDSA").is_err());
    }
}
