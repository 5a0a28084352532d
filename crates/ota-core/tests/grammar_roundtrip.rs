//! The tag grammar round-trips: any request the tags can express renders to
//! tags S3 accepts, and parses back to the same values.

use ota_core::devices::DeviceFamily;
use ota_core::manifest::{parse_manifest, render_manifest};
use ota_core::spec::RequestSpec;
use ota_core::tags::{check_s3_tag_rules, parse_tags, render_tags};
use ota_core::times::TimeSpec;
use ota_core::values::*;
use proptest::prelude::*;
use proptest::sample::select;
use time::{Date, Month, PrimitiveDateTime, Time};

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_:-]{1,20}"
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        name().prop_map(Target::ThingGroup),
        name().prop_map(Target::Thing),
        name().prop_map(|n| Target::Arn(format!("arn:aws:iot:us-east-1:123456789012:thing/{n}"))),
    ]
}

fn distinct<T: PartialEq + Clone + std::fmt::Debug>(
    s: impl Strategy<Value = T>,
    max: usize,
) -> impl Strategy<Value = Vec<T>> {
    prop::collection::vec(s, 1..=max).prop_map(|v| {
        let mut out: Vec<T> = Vec::new();
        for x in v {
            if !out.contains(&x) {
                out.push(x);
            }
        }
        out
    })
}

fn time_spec() -> impl Strategy<Value = TimeSpec> {
    prop_oneof![
        (2026i32..=2028, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60).prop_map(|(y, mo, d, h, mi)| {
            let date = Date::from_calendar_date(y, Month::try_from(mo).unwrap(), d).unwrap();
            TimeSpec::Absolute(PrimitiveDateTime::new(
                date,
                Time::from_hms(h, mi, 0).unwrap(),
            ))
        }),
        (1u32..=2 * 365 * 24 * 60).prop_map(TimeSpec::Relative),
    ]
}

fn weekday() -> impl Strategy<Value = Weekday> {
    select(Weekday::ALL.to_vec())
}

fn window() -> impl Strategy<Value = MaintenanceWindow> {
    (
        prop::collection::vec((weekday(), weekday()), 0..=3),
        0u32..24,
        0u32..60,
        1u32..=1430,
    )
        .prop_map(|(days, hour, minute, duration_minutes)| MaintenanceWindow {
            start: WindowStart::Weekly {
                days: days
                    .into_iter()
                    .map(|(from, to)| DayRange { from, to })
                    .collect(),
                hour,
                minute,
            },
            duration_minutes,
        })
}

fn retry() -> impl Strategy<Value = Vec<RetryCriterion>> {
    prop_oneof![
        (0u32..=10).prop_map(|n| vec![RetryCriterion {
            failure_type: RetryFailureType::All,
            number_of_retries: n
        }]),
        (0u32..=10).prop_map(|n| vec![RetryCriterion {
            failure_type: RetryFailureType::Failed,
            number_of_retries: n
        }]),
        (0u32..=10, 0u32..=10).prop_map(|(a, b)| vec![
            RetryCriterion {
                failure_type: RetryFailureType::TimedOut,
                number_of_retries: a
            },
            RetryCriterion {
                failure_type: RetryFailureType::Failed,
                number_of_retries: b
            },
        ]),
    ]
}

fn abort() -> impl Strategy<Value = Vec<AbortCriterion>> {
    prop::collection::vec(
        (
            select(AbortFailureType::ALL.to_vec()),
            1u32..=10_000,
            1u32..=100_000,
        ),
        1..=2,
    )
    .prop_map(|v| {
        let mut out: Vec<AbortCriterion> = Vec::new();
        for (t, bp, min) in v {
            if !out.iter().any(|a| a.failure_type == t) {
                out.push(AbortCriterion {
                    failure_type: t,
                    threshold_basis_points: bp,
                    min_number_of_executed_things: min,
                });
            }
        }
        out
    })
}

fn rollout() -> impl Strategy<Value = Rollout> {
    (
        prop::option::of(1u32..=1000),
        prop::option::of((1u32..=1000, 11u32..=50, any::<bool>(), 1u32..=100_000)),
    )
        .prop_filter("a rollout says something", |(m, e)| {
            m.is_some() || e.is_some()
        })
        .prop_map(|(m, e)| Rollout {
            maximum_per_minute: m,
            exponential_rate: e.map(|(b, f, notified, n)| ExponentialRate {
                base_rate_per_minute: b,
                increment_factor_tenths: f,
                criteria: if notified {
                    RateIncrease::NotifiedThings(n)
                } else {
                    RateIncrease::SucceededThings(n)
                },
            }),
        })
}

fn signature() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 1..=64).prop_map(|b| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(b)
    })
}

fn spec() -> impl Strategy<Value = RequestSpec> {
    let a = (
        prop::option::of(distinct(target(), 3)),
        prop::option::of(select(TargetSelection::ALL.to_vec())),
        prop::option::of("[a-zA-Z0-9]([a-zA-Z0-9 +=._:/@-]{0,50}[a-zA-Z0-9])?"),
        prop::option::of(select(vec![
            vec![Protocol::Mqtt],
            vec![Protocol::Http],
            vec![Protocol::Mqtt, Protocol::Http],
            vec![Protocol::Http, Protocol::Mqtt],
        ])),
        prop::option::of("/[a-z0-9/._-]{1,40}"),
        prop::option::of(0u32..=255),
        prop::option::of("[a-zA-Z0-9_]{2,30}"),
        prop::option::of(signature()),
        prop::option::of(select(vec![
            "SHA256withECDSA".to_string(),
            "SHA1withRSA".to_string(),
            "SHA384withRSA".to_string(),
        ])),
        prop::option::of("/[a-z0-9/._-]{1,40}"),
        prop::option::of(1u32..=10080),
    );
    let b = (
        prop::option::of(retry()),
        prop::option::of(time_spec()),
        prop::option::of(time_spec()),
        prop::option::of(select(EndBehavior::ALL.to_vec())),
        prop::option::of(prop::collection::vec(window(), 1..=3)),
        prop::option::of(abort()),
        prop::option::of(rollout()),
        prop::option::of(60u32..=3600),
        prop::option::of(distinct(
            // CreatePackageVersion's versionName alphabet, or a reserved
            // version (rendered +default in tags, parsed back to $default).
            (
                "[a-zA-Z0-9._-]{1,15}",
                "[a-zA-Z0-9._-]{1,10}|\\$default|\\$null",
            )
                .prop_map(|(name, version)| PackageRef::NameVersion { name, version }),
            3,
        )),
        prop::option::of("[a-zA-Z0-9_-]{1,64}"),
        prop::option::of("manifests/[a-z0-9/._-]{1,40}"),
        prop::option::of(select(vec![
            vec![DeviceFamily::FreertosOtaAgent],
            vec![DeviceFamily::AwsIotJobsParser, DeviceFamily::NrfAwsFota],
            DeviceFamily::ALL.to_vec(),
        ])),
    );
    let c = (
        prop::option::of(select(DocumentFormat::ALL.to_vec())),
        prop::option::of("[a-zA-Z0-9]([a-zA-Z0-9 +=._:/@-]{0,30}[a-zA-Z0-9])?"),
    );
    (a, b, c).prop_map(|(a, b, c)| {
        let mut s = RequestSpec {
            targets: a.0, target_selection: a.1, description: a.2, protocols: a.3, file_path: a.4, file_type: a.5,
            profile: a.6, signature: a.7, signature_algorithm: a.8, certfile: a.9, timeout_minutes: a.10,
            retry: b.0, start: b.1, end: b.2, end_behavior: b.3, windows: b.4, abort: b.5, rollout: b.6,
            presigned_expiry_seconds: b.7, packages: b.8, job_id: b.9, manifest: b.10, devices: b.11,
            format: c.0, firmware_version: c.1,
            ..Default::default()
        };
        // S3 allows ten tags: drop fields past the tenth.
        let mut kept = 0;
        macro_rules! limit { ($($f:ident),+) => { $( if s.$f.is_some() { kept += 1; if kept > 10 { s.$f = None; } } )+ }; }
        limit!(targets, format, firmware_version, target_selection, description, protocols, file_path, file_type, profile, signature,
               signature_algorithm, certfile, timeout_minutes, retry, start, end, end_behavior, windows, abort,
               rollout, presigned_expiry_seconds, packages, job_id, manifest, devices);
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn render_then_parse_is_identity(s in spec()) {
        let tags = match render_tags(&s) {
            Ok(t) => t,
            // A value list can outgrow S3's 256 characters; that is reported, not a round-trip failure.
            Err(p) => { prop_assert!(p.iter().all(|x| x.message.contains("at most 256")), "{}", p); return Ok(()); }
        };
        prop_assert!(check_s3_tag_rules(&tags).is_empty());
        let (back, problems) = parse_tags(&tags);
        prop_assert!(problems.is_empty(), "{} from {:?}", problems, tags);
        prop_assert!(back.same_values(&s), "{:?}\n!=\n{:?}\nvia {:?}", back, s, tags);
    }

    #[test]
    fn render_manifest_then_parse_means_the_same(s in spec()) {
        let text = render_manifest(&s).to_string();
        let (back, problems) = parse_manifest(text.as_bytes(), "manifests/written.json");
        prop_assert!(problems.is_empty(), "{} from {}", problems, text);
        // A manifest has no ota:manifest, and its windows are the cron
        // expressions the tag forms stand for.
        let expected = RequestSpec {
            manifest: None,
            windows: s.windows.as_ref().map(|ws| ws.iter().map(|w| MaintenanceWindow {
                start: WindowStart::Cron(w.cron()),
                duration_minutes: w.duration_minutes,
            }).collect()),
            ..s.clone()
        };
        prop_assert!(back.same_values(&expected), "{:?}\n!=\n{:?}\nvia {}", back, expected, text);
    }

    #[test]
    fn parsing_arbitrary_tags_never_panics(pairs in prop::collection::vec(("ota:[a-z-]{1,20}", "\\PC{0,80}"), 0..12)) {
        let _ = parse_tags(&pairs);
    }
}
