//! The keyword enums: values AWS spells as one of a fixed set of words
//! (`SNAPSHOT`, `MQTT`, `TIMED_OUT`, `MON`...), each parsed and shown as AWS
//! spells it.

use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// The job document's shape: `afr_ota` (CreateOTAUpdate's, read by the
    /// FreeRTOS OTA agent and the AWS IoT Jobs OTA parser) or `aws_fota`
    /// (Nordic's nRF Connect SDK AWS FOTA library, `location.url`).
    DocumentFormat { AfrOta = "afr_ota", AwsFota = "aws_fota" }
);

impl Default for DocumentFormat {
    /// CreateOTAUpdate's shape, as uploads had before the format existed.
    fn default() -> Self {
        DocumentFormat::AfrOta
    }
}

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
