//! template.yaml, statemachine/ota-update.asl.json and the code must agree:
//! a renamed errorType, a missing substitution or a forgotten environment
//! variable fails here rather than in a deployed stack.

use ota_core::OtaError;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;
use std::collections::BTreeSet;

fn root(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn asl() -> Json {
    let text = std::fs::read_to_string(root("statemachine/ota-update.asl.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The template as CloudFormation sees it with the default parameters
/// (no bucket KMS key, PackageShadowUpdates Disabled).
fn template() -> Yaml {
    template_with(Shaping::default())
}

/// The template with a bucket KMS key or not (PackageShadowUpdates off).
fn template_with_kms_key(kms_key: bool) -> Yaml {
    template_with(Shaping {
        kms_key,
        shadow_updates: false,
    })
}

/// The conditions that shape the functions' roles: `UseBucketKmsKey`
/// (BucketKmsKeyArn set) and `UpdatePackageShadows`
/// (PackageShadowUpdates=Enabled).
#[derive(Debug, Clone, Copy, Default)]
struct Shaping {
    kms_key: bool,
    shadow_updates: bool,
}

impl Shaping {
    const EVERY: [Shaping; 4] = [
        Shaping {
            kms_key: false,
            shadow_updates: false,
        },
        Shaping {
            kms_key: true,
            shadow_updates: false,
        },
        Shaping {
            kms_key: false,
            shadow_updates: true,
        },
        Shaping {
            kms_key: true,
            shadow_updates: true,
        },
    ];

    /// Whether `condition` holds, if it is one of these.
    fn holds(&self, condition: &Yaml) -> Option<bool> {
        match condition.as_str()? {
            "UseBucketKmsKey" => Some(self.kms_key),
            "UpdatePackageShadows" => Some(self.shadow_updates),
            _ => None,
        }
    }
}

/// The template under every combination of the role-shaping conditions.
fn every_template() -> Vec<Yaml> {
    Shaping::EVERY.into_iter().map(template_with).collect()
}

/// The template with the role-shaping conditions resolved: `!If` picks its
/// branch, `!Ref AWS::NoValue` disappears and a resource whose `Condition`
/// is false is not there, as in CloudFormation, so the policy checks below
/// see the statements a deployed stack has.
fn template_with(shaping: Shaping) -> Yaml {
    let text = std::fs::read_to_string(root("template.yaml")).unwrap();
    let raw: Yaml = serde_yaml::from_str(&text).unwrap();
    let conditions: BTreeSet<String> = raw["Conditions"]
        .as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    // resolve() resolves the conditions that shape the functions' roles;
    // the notification conditions only choose the SNS resources, which
    // the_sns_route_is_one_rule_to_one_topic_that_only_it_publishes_to
    // checks as written.
    assert_eq!(
        conditions,
        BTreeSet::from(
            [
                "UseBucketKmsKey",
                "HasNotificationTopic",
                "HasNotificationEmail",
                "MakeNotificationTopic",
                "NotifyBySns",
                "UpdatePackageShadows"
            ]
            .map(String::from)
        ),
        "a new condition: teach resolve() whether it shapes a role"
    );
    resolve(&raw, shaping).expect("the template itself is not AWS::NoValue")
}

fn resolve(v: &Yaml, shaping: Shaping) -> Option<Yaml> {
    match v {
        Yaml::Tagged(t) if t.tag == "Ref" && t.value == "AWS::NoValue" => None,
        Yaml::Tagged(t)
            if t.tag == "If"
                && t.value
                    .as_sequence()
                    .and_then(|a| a.first())
                    .and_then(|c| shaping.holds(c))
                    .is_some() =>
        {
            let args = t.value.as_sequence().expect("!If [condition, then, else]");
            assert_eq!(args.len(), 3, "!If [condition, then, else]");
            let then = shaping.holds(&args[0]) == Some(true);
            resolve(&args[if then { 1 } else { 2 }], shaping)
        }
        Yaml::Tagged(t) => Some(Yaml::Tagged(Box::new(serde_yaml::value::TaggedValue {
            tag: t.tag.clone(),
            value: resolve(&t.value, shaping)?,
        }))),
        Yaml::Sequence(s) => Some(Yaml::Sequence(
            s.iter().filter_map(|x| resolve(x, shaping)).collect(),
        )),
        // A resource (Type) or output (Value) that exists only under a
        // false condition.
        Yaml::Mapping(m)
            if shaping.holds(&v["Condition"]) == Some(false)
                && (m.contains_key("Type") || m.contains_key("Value")) =>
        {
            None
        }
        Yaml::Mapping(m) => Some(Yaml::Mapping(
            m.iter()
                .filter_map(|(k, x)| Some((k.clone(), resolve(x, shaping)?)))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

fn resources(t: &Yaml) -> &serde_yaml::Mapping {
    t["Resources"].as_mapping().unwrap()
}

fn state_machine(t: &Yaml) -> &Yaml {
    resources(t)
        .values()
        .find(|r| r["Type"] == "AWS::Serverless::StateMachine")
        .expect("a state machine")
}

fn placeholders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let end = after.find('}').unwrap();
        out.insert(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

#[test]
fn every_asl_placeholder_has_a_definition_substitution_and_none_is_unused() {
    let text = std::fs::read_to_string(root("statemachine/ota-update.asl.json")).unwrap();
    let used = placeholders(&text);
    let t = template();
    let subs: BTreeSet<String> = state_machine(&t)["Properties"]["DefinitionSubstitutions"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    assert!(!used.is_empty());
    assert_eq!(used, subs, "ASL placeholders vs DefinitionSubstitutions");
}

fn states(a: &Json) -> Vec<(&String, &Json)> {
    a["States"].as_object().unwrap().iter().collect()
}

/// The Task states that invoke a function: the four steps and Clean Up.
fn tasks(a: &Json) -> Vec<(&String, &Json)> {
    let tasks: Vec<_> = states(a)
        .into_iter()
        .filter(|(_, s)| s["Type"] == "Task" && !is_notify(s))
        .collect();
    assert_eq!(tasks.len(), 5, "four steps and Clean Up");
    tasks
}

const PUT_EVENTS: &str = "arn:aws:states:::events:putEvents";

fn is_notify(s: &Json) -> bool {
    s["Resource"] == PUT_EVENTS
}

#[test]
fn every_error_the_asl_matches_exists_in_the_code() {
    let a = asl();
    let known: BTreeSet<&str> = OtaError::ERROR_TYPES.into_iter().collect();
    let mut matched = BTreeSet::new();
    for (name, s) in states(&a) {
        for list in ["Retry", "Catch"] {
            for rule in s[list].as_array().into_iter().flatten() {
                for e in rule["ErrorEquals"].as_array().unwrap() {
                    let e = e.as_str().unwrap();
                    if e.starts_with("Lambda.") || e.starts_with("States.") {
                        continue;
                    }
                    assert!(
                        known.contains(e),
                        "{name} matches {e}, which no function raises"
                    );
                    matched.insert(e);
                }
            }
        }
        for key in ["Error"] {
            if let Some(e) = s[key].as_str() {
                assert!(known.contains(e), "{name} fails with unknown error {e}");
            }
        }
    }
    // Every retryable kind is retried somewhere, and nothing else is.
    let retryable: BTreeSet<&str> = ["Throttled", "ServiceUnavailable"].into_iter().collect();
    assert_eq!(matched, retryable);
}

#[test]
fn every_task_retries_transient_errors_and_catches_into_clean_up() {
    let a = asl();
    let tasks = tasks(&a);
    for (name, s) in tasks {
        let retry = s["Retry"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has no Retry"));
        let names: Vec<&str> = retry
            .iter()
            .flat_map(|r| r["ErrorEquals"].as_array().unwrap())
            .map(|e| e.as_str().unwrap())
            .collect();
        for must in [
            "Throttled",
            "ServiceUnavailable",
            "Lambda.ServiceException",
            "Lambda.TooManyRequestsException",
        ] {
            assert!(names.contains(&must), "{name} does not retry {must}");
        }
        for r in retry {
            assert_eq!(r["JitterStrategy"], "FULL", "{name}: retries use jitter");
            assert!(
                r["BackoffRate"].as_f64().unwrap() > 1.0,
                "{name}: retries back off"
            );
        }
        let catch = &s["Catch"][0];
        assert_eq!(catch["ErrorEquals"][0], "States.ALL", "{name}");
        let next = catch["Next"].as_str().unwrap();
        if name == "Clean Up" {
            assert_eq!(next, "Notify Failed");
            assert_eq!(s["Next"], "Notify Failed");
            assert_ne!(
                catch["ResultPath"], "$.error",
                "a failing clean-up must not hide the original error"
            );
        } else {
            assert_eq!(next, "Clean Up", "{name}");
            assert_eq!(catch["ResultPath"], "$.error", "{name}");
        }
    }
    let fail = &a["States"]["Update Failed"];
    assert_eq!(fail["ErrorPath"], "$.error.Error");
    assert_eq!(fail["CausePath"], "$.error.Cause");
}

/// ASL has no way to share a Retry list between states, so the five Task
/// states each spell it out: they must stay identical, or one step would
/// retry differently from the others without anyone deciding it.
#[test]
fn every_task_has_the_same_retry_policy() {
    let a = asl();
    let tasks = tasks(&a);
    let (first_name, first) = tasks[0];
    for (name, s) in &tasks[1..] {
        assert_eq!(
            s["Retry"], first["Retry"],
            "{name}'s Retry differs from {first_name}'s"
        );
    }
}

/// Step Functions' quota on a standard workflow's execution history: 25,000
/// events ("Quotas related to state machine executions"); past it the
/// execution fails at once, and Clean Up never runs.
const HISTORY_EVENT_LIMIT: u64 = 25_000;

/// The most history events one visit of a state can add: Entered and Exited,
/// and for a Lambda Task 3 events (Scheduled, Started, Succeeded or Failed)
/// per attempt, with every retrier's MaxAttempts used up.
fn worst_events(state: &Json) -> u64 {
    if state["Type"] != "Task" {
        return 2;
    }
    let retries: u64 = state["Retry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["MaxAttempts"].as_u64().unwrap_or(3))
        .sum();
    2 + 3 * (1 + retries)
}

/// How many times Await Signing runs before it answers SigningTimedOut, for
/// a signer that stays InProgress: the first Wait, then invocations that
/// poll through the fast phase (each for at most its budget), then one look
/// per invocation with the Waits between them adding up to more than
/// `max_wait` (Lambda time outside the fast phase only makes the real count
/// smaller).
fn await_calls_until_timeout(max_wait: u64) -> u64 {
    use ota_core::signing_wait::{next_signing_wait, FAST_PHASE, INVOCATION_BUDGET};
    use ota_core::state::FIRST_SIGNING_WAIT_SECONDS;
    let mut waited = u64::from(FIRST_SIGNING_WAIT_SECONDS);
    let mut calls = 0;
    while waited <= max_wait {
        calls += 1;
        if waited < FAST_PHASE.as_secs() {
            waited += INVOCATION_BUDGET
                .as_secs()
                .min(FAST_PHASE.as_secs() - waited);
        }
        waited += u64::from(next_signing_wait(waited));
    }
    calls
}

#[test]
fn the_longest_signer_wait_fits_the_execution_history_with_clean_up() {
    let a = asl();
    let st = |n: &str| &a["States"][n];
    let max_wait = template()["Parameters"]["MaxSigningWaitSeconds"]["MaxValue"]
        .as_u64()
        .expect("MaxSigningWaitSeconds has a MaxValue");
    let loops = await_calls_until_timeout(max_wait);
    // The path of a signer that never finishes: the upload's checks and
    // Start Signing, then `loops` rounds of Wait -> Await Signing -> Signed?,
    // the last one failing into Clean Up and the Fail state.
    let per_loop = worst_events(st("Wait For Signer"))
        + worst_events(st("Await Signing"))
        + worst_events(st("Signed?"));
    let fixed = 2 // ExecutionStarted, ExecutionFailed
        + worst_events(st("Folder Marker?"))
        + worst_events(st("Start Signing"))
        + worst_events(st("Signed?"))
        + worst_events(st("Clean Up"))
        + worst_events(st("Notify Failed"))
        + worst_events(st("Update Failed"));
    let total = fixed + loops * per_loop;
    assert!(
        total < HISTORY_EVENT_LIMIT,
        "MaxSigningWaitSeconds {max_wait}: {loops} signer looks, up to {total} history events (limit {HISTORY_EVENT_LIMIT})"
    );
    // The bound is not idle: the old MaxValue (a day) would have overflowed.
    assert!(fixed + await_calls_until_timeout(86_400) * per_loop > HISTORY_EVENT_LIMIT);
}

/// A release: Release? sends a release manifest's state to Sign Files (one
/// iteration per file, at most ten, each the start-signing function's
/// signFile mode with the steps' own Retry), whose result replaces
/// $.release.files, and on to Await Signing (every file's signing in the one
/// Wait loop); a file that fails fails the map into Clean Up. A skipped
/// upload (a file of a release) ends as a success.
#[test]
fn a_release_signs_its_files_in_a_map_then_waits_in_the_one_loop() {
    let a = asl();
    let st = |n: &str| &a["States"][n];
    assert_eq!(st("Start Signing")["Next"], "Release?");
    let choices = st("Release?")["Choices"].as_array().unwrap();
    assert_eq!(
        (choices[0]["Variable"].as_str(), choices[0]["Next"].as_str()),
        (Some("$.skipped"), Some("Skip Release File"))
    );
    assert_eq!(
        (choices[1]["Variable"].as_str(), choices[1]["Next"].as_str()),
        (Some("$.release"), Some("Sign Files"))
    );
    assert_eq!(st("Release?")["Default"], "Signed?");
    assert_eq!(st("Skip Release File")["Type"], "Succeed");

    let map = st("Sign Files");
    assert_eq!(map["Type"], "Map");
    assert_eq!(map["ItemsPath"], "$.release.files");
    assert_eq!(map["ResultPath"], "$.release.files");
    assert_eq!(
        map["MaxConcurrency"].as_u64(),
        Some(ota_core::release::MAX_RELEASE_FILES as u64)
    );
    assert_eq!(map["ItemSelector"]["file.$"], "$$.Map.Item.Value");
    assert_eq!(map["ItemSelector"]["attempt.$"], "$.release.attempt");
    assert_eq!(map["Next"], "Await Signing");
    assert_eq!(map["Catch"], st("Start Signing")["Catch"]);
    let inner = &map["ItemProcessor"]["States"];
    assert_eq!(
        inner.as_object().unwrap().len(),
        1,
        "one Sign File task per file, no wait loop"
    );
    let sign = &inner["Sign File"];
    assert_eq!(sign["Resource"], "${StartSigningFunctionArn}");
    assert_eq!(sign["Parameters"]["signFile.$"], "$");
    assert_eq!(sign["OutputPath"], "$.file");
    assert_eq!(
        sign["Retry"],
        st("Start Signing")["Retry"],
        "the steps' Retry"
    );
    // What Sign File reads is what start-signing takes: the map's item
    // selector names the fields of a FileSigningRun.
    let selected: BTreeSet<String> = map["ItemSelector"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.trim_end_matches(".$").to_string())
        .collect();
    let run = serde_json::to_value(
        serde_json::from_str::<ota_core::event::StartSigningRequest>(
            &std::fs::read_to_string(root("events/sign-file.json")).unwrap(),
        )
        .map(|r| match r {
            ota_core::event::StartSigningRequest::SignFile { sign_file } => *sign_file,
            other => panic!("{other:?}"),
        })
        .unwrap(),
    )
    .unwrap();
    let fields: BTreeSet<String> = run.as_object().unwrap().keys().cloned().collect();
    assert_eq!(selected, fields);

    // The history bound with ten files: the map adds at most its own events
    // and each iteration's, every retry taken; the wait loop is the upload's.
    let max_wait = template()["Parameters"]["MaxSigningWaitSeconds"]["MaxValue"]
        .as_u64()
        .unwrap();
    let per_loop = worst_events(st("Wait For Signer"))
        + worst_events(st("Await Signing"))
        + worst_events(st("Signed?"));
    let map_events = 4 + ota_core::release::MAX_RELEASE_FILES as u64 * (2 + worst_events(sign));
    let fixed = 2
        + worst_events(st("Folder Marker?"))
        + worst_events(st("Start Signing"))
        + worst_events(st("Release?"))
        + map_events
        + worst_events(st("Await Signing"))
        + worst_events(st("Clean Up"))
        + worst_events(st("Notify Failed"))
        + worst_events(st("Update Failed"));
    let total = fixed + await_calls_until_timeout(max_wait) * per_loop;
    assert!(
        total < HISTORY_EVENT_LIMIT,
        "a ten-file release: up to {total} history events"
    );
}

/// The two notifications: after Create Job and after Clean Up, on the
/// default bus with the pipeline's source; neither can change the run's
/// outcome (its own failure goes to $.notifyError, never over $.error, and
/// it leads where the run was going anyway); the state machine may put
/// exactly those events.
#[test]
fn the_run_notifies_created_and_failed_without_changing_its_outcome() {
    let a = asl();
    let notify: Vec<_> = states(&a)
        .into_iter()
        .filter(|(_, s)| is_notify(s))
        .collect();
    let names: Vec<&str> = notify.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Notify Created", "Notify Failed"]);
    assert_eq!(a["States"]["Create Job"]["Next"], "Notify Created");
    for ((name, s), (detail_type, then)) in notify.iter().zip([
        ("OTA Update Created", "Update Created"),
        ("OTA Update Failed", "Update Failed"),
    ]) {
        let entry = &s["Parameters"]["Entries"][0];
        assert_eq!(s["Parameters"]["Entries"].as_array().unwrap().len(), 1);
        assert_eq!(entry["EventBusName"], "default", "{name}");
        assert_eq!(entry["Source"], "${EventSource}", "{name}");
        assert_eq!(entry["DetailType"], detail_type, "{name}");
        assert_eq!(entry["Detail"]["executionArn.$"], "$$.Execution.Id");
        for field in ["bucket.$", "key.$", "versionId.$"] {
            assert!(
                entry["Detail"]["source"][field].is_string(),
                "{name}: source {field}"
            );
        }
        assert!(
            s["ResultPath"].is_null(),
            "{name}: the state passes on unchanged"
        );
        assert_eq!(s["Next"], then, "{name}");
        let catch = &s["Catch"][0];
        assert_eq!(catch["ErrorEquals"][0], "States.ALL");
        assert_eq!(
            catch["Next"], then,
            "{name}: a failed notification ends as the run would"
        );
        assert_eq!(catch["ResultPath"], "$.notifyError", "{name}");
    }
    let failed = &a["States"]["Notify Failed"]["Parameters"]["Entries"][0]["Detail"];
    assert_eq!(failed["errorType.$"], "$.error.Error");
    assert_eq!(failed["cause.$"], "$.error.Cause");

    let t = template();
    let sm = state_machine(&t);
    assert_eq!(
        sm["Properties"]["DefinitionSubstitutions"]["EventSource"],
        "ota.pipeline"
    );
    let puts: Vec<&Yaml> = sm["Properties"]["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().into_iter().flatten())
        .filter(|st| actions(st).iter().any(|a| a.starts_with("events:")))
        .collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(actions(puts[0]), ["events:PutEvents"]);
    let bus = under_tag(&puts[0]["Resource"], "Sub").and_then(|v| v.as_str());
    assert_eq!(
        bus,
        Some("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default")
    );
    assert_eq!(
        puts[0]["Condition"]["StringEquals"]["events:source"],
        "ota.pipeline"
    );
}

/// The sweep's schedule may invoke make-stream and nothing else, and only
/// EventBridge Scheduler of this account may assume its role; the events
/// source in the template is the code's.
#[test]
fn the_clean_up_schedule_invokes_only_make_stream_and_sources_agree() {
    let t = template();
    let schedule = &resources(&t)["CleanUpSchedule"];
    assert_eq!(schedule["Type"], "AWS::Scheduler::Schedule");
    let target = &schedule["Properties"]["Target"];
    assert_eq!(
        under_tag(&target["Arn"], "GetAtt").and_then(|v| v.as_str()),
        Some("MakeStreamFunction.Arn")
    );
    assert_eq!(
        under_tag(&schedule["Properties"]["ScheduleExpression"], "Ref").and_then(|v| v.as_str()),
        Some("CleanUpInterval")
    );
    let role = &resources(&t)["CleanUpScheduleRole"]["Properties"];
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "scheduler.amazonaws.com");
    assert!(!trust["Condition"]["StringEquals"]["aws:SourceAccount"].is_null());
    let statements: Vec<&Yaml> = role["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["PolicyDocument"]["Statement"]
                .as_sequence()
                .into_iter()
                .flatten()
        })
        .collect();
    assert_eq!(statements.len(), 1);
    assert_eq!(actions(statements[0]), ["lambda:InvokeFunction"]);
    assert_eq!(
        under_tag(&statements[0]["Resource"], "GetAtt").and_then(|v| v.as_str()),
        Some("MakeStreamFunction.Arn")
    );
    let sm = state_machine(&t);
    assert_eq!(
        sm["Properties"]["DefinitionSubstitutions"]["EventSource"],
        ota_core::create_job::NOTIFICATION_SOURCE
    );
    let text = std::fs::read_to_string(root("template.yaml")).unwrap();
    assert_eq!(
        text.matches(&format!(
            "events:source: {}",
            ota_core::create_job::NOTIFICATION_SOURCE
        ))
        .count(),
        2,
        "both PutEvents grants name the code's source"
    );
}

/// NotificationEmail / NotificationTopicArn: one rule, for the pipeline's
/// three events, to the given topic or to the stack's own encrypted one,
/// which only that rule may publish to; nothing of it without a parameter.
#[test]
fn the_sns_route_is_one_rule_to_one_topic_that_only_it_publishes_to() {
    let t = template();
    let r = resources(&t);
    let rule = &r["NotificationRule"];
    assert_eq!(rule["Condition"], "NotifyBySns");
    let pattern = &rule["Properties"]["EventPattern"];
    assert_eq!(
        pattern["source"][0],
        ota_core::create_job::NOTIFICATION_SOURCE
    );
    let types: Vec<&str> = pattern["detail-type"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "OTA Update Created",
            "OTA Update Failed",
            "OTA Update Completed"
        ]
    );
    let targets = rule["Properties"]["Targets"].as_sequence().unwrap();
    assert_eq!(targets.len(), 1);
    let chosen = under_tag(&targets[0]["Arn"], "If").and_then(|v| v.as_sequence());
    assert!(
        chosen.is_some_and(|c| c[0] == "HasNotificationTopic"),
        "{:?}",
        targets[0]
    );
    for name in [
        "NotificationKey",
        "NotificationTopic",
        "NotificationTopicPolicy",
    ] {
        assert_eq!(r[name]["Condition"], "MakeNotificationTopic", "{name}");
    }
    assert_eq!(
        under_tag(
            &r["NotificationTopic"]["Properties"]["KmsMasterKeyId"],
            "Ref"
        )
        .and_then(|v| v.as_str()),
        Some("NotificationKey")
    );
    assert_eq!(
        r["NotificationKey"]["Properties"]["EnableKeyRotation"],
        true
    );
    let publish = &r["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"];
    assert_eq!(publish.as_sequence().map(Vec::len), Some(1));
    assert_eq!(publish[0]["Principal"]["Service"], "events.amazonaws.com");
    assert_eq!(
        under_tag(
            &publish[0]["Condition"]["ArnEquals"]["aws:SourceArn"],
            "GetAtt"
        )
        .and_then(|v| v.as_str()),
        Some("NotificationRule.Arn")
    );
}

/// A folder marker (key ending in '/') ends the run at once, before any
/// Task: nothing signed, no function called.
#[test]
fn folder_markers_are_skipped_before_any_task() {
    let a = asl();
    assert_eq!(a["StartAt"], "Folder Marker?");
    let choice = &a["States"]["Folder Marker?"];
    assert_eq!(choice["Type"], "Choice");
    assert_eq!(choice["Default"], "Start Signing");
    let rule = &choice["Choices"][0];
    assert_eq!(rule["Variable"], "$.detail.object.key");
    assert_eq!(rule["StringMatches"], "*/");
    let skip = &a["States"][rule["Next"].as_str().unwrap()];
    assert_eq!(skip["Type"], "Pass");
    assert_eq!(skip["End"], true);
}

/// A signing status the Choice does not know is the pipeline's own fault,
/// not the signer's: InternalError, not SigningFailed.
#[test]
fn an_unknown_signing_status_fails_as_an_internal_error() {
    let a = asl();
    let fail = &a["States"]["Unexpected Signing Status"];
    assert_eq!(fail["Type"], "Fail");
    assert_eq!(fail["Error"], "InternalError");
}

#[test]
fn the_signing_choice_uses_the_codes_status_names() {
    let a = asl();
    let choices = a["States"]["Signed?"]["Choices"].as_array().unwrap();
    let mut values: Vec<&str> = choices
        .iter()
        .map(|c| c["StringEquals"].as_str().unwrap())
        .collect();
    values.sort();
    let mut ours: Vec<String> = [
        ota_core::state::SigningStatus::InProgress,
        ota_core::state::SigningStatus::Succeeded,
        ota_core::state::SigningStatus::NotRequired,
    ]
    .iter()
    .map(|s| {
        serde_json::to_value(s)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect();
    ours.sort();
    assert_eq!(values, ours);
    for c in choices {
        assert_eq!(c["Variable"], "$.signing.status");
    }
    assert_eq!(
        a["States"]["Wait For Signer"]["SecondsPath"],
        "$.signing.waitSeconds"
    );
}

#[test]
fn functions_are_built_from_the_workspace_with_the_environment_they_read() {
    let t = template();
    let expect: &[(&str, &[&str])] = &[
        (
            "start-signing",
            &[
                "UPLOAD_PREFIX",
                "SIGNED_PREFIX",
                "MANIFEST_PREFIX",
                "RELEASE_PREFIX",
                "DEFAULT_SIGNING_PROFILE",
                "DEFAULT_TARGETS",
                "DEFAULT_PROTOCOLS",
                "DEFAULT_DOCUMENT_FORMAT",
                "DEFAULT_DEVICES",
            ],
        ),
        ("await-signing", &["MAX_SIGNING_WAIT_SECONDS"]),
        ("make-stream", &["OTA_ROLE_ARN"]),
        ("create-job", &["OTA_ROLE_ARN"]),
    ];
    let functions: Vec<&Yaml> = resources(&t)
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
        .collect();
    assert_eq!(functions.len(), expect.len());
    for (binary, vars) in expect {
        let f = functions
            .iter()
            .find(|f| f["Metadata"]["BuildProperties"]["Binary"] == *binary)
            .unwrap_or_else(|| panic!("no function builds {binary}"));
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
        let env: BTreeSet<&str> = f["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(env, vars.iter().copied().collect(), "{binary}");
        let source = root(&format!("functions/{binary}/src/lib.rs"));
        assert!(std::path::Path::new(&source).exists(), "{source}");
    }
    assert_eq!(t["Parameters"]["Architecture"]["Default"], "arm64");
    assert_eq!(t["Globals"]["Function"]["Runtime"], "provided.al2023");
}

/// Every statement of a resource's inline `Policies`: SAM's form
/// (`- Statement: [...]`) or an IAM role's (`- PolicyDocument: {Statement}`).
fn statements(resource: &Yaml) -> impl Iterator<Item = &Yaml> {
    resource["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|p| [&p["Statement"], &p["PolicyDocument"]["Statement"]])
        .flat_map(|s| s.as_sequence().into_iter().flatten())
}

/// The logical id of a function's own role (`Role: !GetAtt XRole.Arn`).
fn role_name_of(function: &Yaml) -> &str {
    under_tag(&function["Properties"]["Role"], "GetAtt")
        .and_then(|v| v.as_str())
        .and_then(|v| v.strip_suffix(".Arn"))
        .expect("every function has its own role: Role: !GetAtt <X>Role.Arn")
}

/// The statements a function's role grants.
fn function_statements<'a>(t: &'a Yaml, function: &Yaml) -> Vec<&'a Yaml> {
    statements(&resources(t)[role_name_of(function)]).collect()
}

/// What every function needs to run, whatever its code calls: writing its
/// logs and (Tracing: Active) its traces.
const RUNTIME_ACTIONS: [&str; 4] = [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
];

/// A statement's actions, whether one string or a list.
fn actions(statement: &Yaml) -> Vec<&str> {
    match &statement["Action"] {
        Yaml::String(s) => vec![s.as_str()],
        Yaml::Sequence(v) => v.iter().filter_map(|a| a.as_str()).collect(),
        _ => vec![],
    }
}

#[test]
fn policies_never_grant_every_action_and_pass_role_only_to_iot() {
    let text = std::fs::read_to_string(root("template.yaml")).unwrap();
    assert!(
        !text.contains("Action: \"*\"") && !text.contains("Action: '*'"),
        "no Action \"*\""
    );
    for t in every_template() {
        let mut shadow_role_passed = false;
        for (name, r) in resources(&t) {
            for st in statements(r) {
                let actions = actions(st);
                if !actions.contains(&"iam:PassRole") {
                    continue;
                }
                assert_eq!(actions.len(), 1, "{name:?}: PassRole in its own statement");
                assert_eq!(
                    st["Condition"]["StringEquals"]["iam:PassedToService"], "iot.amazonaws.com",
                    "{name:?}: PassRole only to iot"
                );
                match under_tag(&st["Resource"], "GetAtt").and_then(|v| v.as_str()) {
                    Some("OtaRole.Arn") => {}
                    // The second and last exception: UpdatePackageConfiguration
                    // (PackageShadowUpdates) names the role IoT Jobs assumes.
                    Some("PackageShadowRole.Arn") => {
                        assert_eq!(
                            name, "MakeStreamRole",
                            "only make-stream passes PackageShadowRole"
                        );
                        shadow_role_passed = true;
                    }
                    other => panic!(
                        "{name:?}: PassRole only the OTA role or PackageShadowRole, not {other:?}"
                    ),
                }
            }
        }
        assert_eq!(
            shadow_role_passed,
            resources(&t).contains_key("PackageShadowRole"),
            "PackageShadowRole is passed exactly when it exists"
        );
    }
}

/// PackageShadowUpdates: off by default; when Enabled, a custom resource
/// answered by make-stream (no new binary) names PackageShadowRole, which
/// IoT alone assumes, may only read and update the `$package` shadow, and
/// outlives the stack as the account setting does (the stack never turns
/// it off).
#[test]
fn package_shadow_updates_is_an_opt_in_custom_resource_of_make_stream() {
    let param = &template()["Parameters"]["PackageShadowUpdates"];
    assert_eq!(param["Default"], "Disabled");
    let off = template();
    for name in ["PackageShadowRole", "PackageShadowUpdatesSetting"] {
        assert!(
            !resources(&off).contains_key(name),
            "{name} only when Enabled"
        );
    }
    assert!(off["Outputs"]["PackageShadowRoleArn"].is_null());
    let on = template_with(Shaping {
        kms_key: false,
        shadow_updates: true,
    });
    assert_eq!(
        under_tag(&on["Outputs"]["PackageShadowRoleArn"]["Value"], "GetAtt")
            .and_then(|v| v.as_str()),
        Some("PackageShadowRole.Arn")
    );
    let setting = &resources(&on)["PackageShadowUpdatesSetting"];
    assert_eq!(setting["Type"], "Custom::PackageShadowUpdates");
    let p = &setting["Properties"];
    assert_eq!(
        under_tag(&p["ServiceToken"], "GetAtt").and_then(|v| v.as_str()),
        Some("MakeStreamFunction.Arn")
    );
    assert_eq!(
        under_tag(&p["RoleArn"], "GetAtt").and_then(|v| v.as_str()),
        Some("PackageShadowRole.Arn")
    );
    assert!(
        p["ServiceTimeout"].as_u64().is_some_and(|s| s <= 300),
        "fail fast, not in an hour"
    );

    let role = &resources(&on)["PackageShadowRole"];
    assert_eq!(role["DeletionPolicy"], "Retain");
    assert_eq!(role["UpdateReplacePolicy"], "Retain");
    let trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(trust.len(), 1);
    assert_eq!(trust[0]["Principal"]["Service"], "iot.amazonaws.com");
    assert!(!trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"].is_null());
    let granted: Vec<&Yaml> = statements(role).collect();
    assert_eq!(granted.len(), 1);
    assert_eq!(
        actions(granted[0]),
        ["iot:GetThingShadow", "iot:UpdateThingShadow"]
    );
    assert_eq!(
        under_tag(&granted[0]["Resource"], "Sub").and_then(|v| v.as_str()),
        Some("arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:thing/*/$package"),
        "the reserved named shadow only"
    );
}

#[test]
fn the_bucket_is_private_versioned_encrypted_and_notifies_eventbridge() {
    let t = template();
    let bucket = resources(&t)
        .values()
        .find(|r| r["Type"] == "AWS::S3::Bucket")
        .expect("a bucket");
    let p = &bucket["Properties"];
    assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled");
    assert!(p["BucketEncryption"]["ServerSideEncryptionConfiguration"].is_sequence());
    for k in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(p["PublicAccessBlockConfiguration"][k], true, "{k}");
    }
    assert_eq!(
        p["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"],
        true
    );
    let text = std::fs::read_to_string(root("template.yaml")).unwrap();
    assert!(
        text.contains("aws:SecureTransport"),
        "a TLS-only bucket policy"
    );
}

#[test]
fn every_event_file_deserializes_into_its_functions_input() {
    let read = |n: &str| std::fs::read_to_string(root(&format!("events/{n}"))).unwrap();
    let _: ota_core::event::StartSigningInput =
        serde_json::from_str(&read("start-signing.json")).unwrap();
    // A release manifest's upload, and one file of it for the Sign Files map.
    let release: ota_core::event::StartSigningRequest =
        serde_json::from_str(&read("start-signing-release.json")).unwrap();
    assert!(
        matches!(&release, ota_core::event::StartSigningRequest::Upload(u) if u.event.detail.object.key.starts_with("releases/")),
        "{release:?}"
    );
    let sign: ota_core::event::StartSigningRequest =
        serde_json::from_str(&read("sign-file.json")).unwrap();
    assert!(matches!(
        sign,
        ota_core::event::StartSigningRequest::SignFile { .. }
    ));
    for n in [
        "await-signing.json",
        "make-stream.json",
        "create-job.json",
        "create-job-aws-fota.json",
    ] {
        let s: ota_core::PipelineState =
            serde_json::from_str(&read(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert!(!s.request.targets.is_empty());
    }
    // The Nordic one is what start-signing and make-stream hand create-job
    // for ota:format=aws_fota: unsigned, HTTP only, no stream.
    let nrf: ota_core::PipelineState =
        serde_json::from_str(&read("create-job-aws-fota.json")).unwrap();
    assert_eq!(
        nrf.request.format,
        ota_core::values::DocumentFormat::AwsFota
    );
    assert_eq!(nrf.request.signing, ota_core::Signing::Unsigned);
    assert!(nrf.stream.is_none());
    let c: make_stream::MakeStreamInput = serde_json::from_str(&read("clean-up.json")).unwrap();
    assert!(matches!(c, make_stream::MakeStreamInput::CleanUp { .. }));
    let m: make_stream::MakeStreamInput = serde_json::from_str(&read("make-stream.json")).unwrap();
    assert!(matches!(m, make_stream::MakeStreamInput::Make(_)));
    // What CloudFormation sends for PackageShadowUpdatesSetting.
    let p: make_stream::MakeStreamInput =
        serde_json::from_str(&read("package-shadow-updates.json")).unwrap();
    assert!(matches!(p, make_stream::MakeStreamInput::PackageShadow(_)));
    // What the CleanUpSchedule sends, from the template itself.
    let t = template();
    let input = resources(&t)["CleanUpSchedule"]["Properties"]["Target"]["Input"]
        .as_str()
        .expect("the schedule's Input");
    let sweep: make_stream::MakeStreamInput = serde_json::from_str(input).unwrap();
    assert!(matches!(sweep, make_stream::MakeStreamInput::Sweep { .. }));
    let mut names: Vec<String> = std::fs::read_dir(root("events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "await-signing.json",
            "clean-up.json",
            "create-job-aws-fota.json",
            "create-job.json",
            "make-stream.json",
            "package-shadow-updates.json",
            "sign-file.json",
            "start-signing-release.json",
            "start-signing.json"
        ]
    );
}

/// The `[profile.release]` settings of the workspace Cargo.toml, as
/// (key, value) pairs with comments dropped.
fn release_profile() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root("Cargo.toml")).unwrap();
    let mut in_section = false;
    let mut settings = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_section = line == "[profile.release]";
        } else if in_section {
            if let Some((k, v)) = line.split_once('=') {
                settings.push((k.trim().to_string(), v.trim().trim_matches('"').to_string()));
            }
        }
    }
    settings
}

#[test]
fn the_release_profile_keeps_panics_unwinding_under_cargo_lambda() {
    // cargo-lambda (and so `sam build`) adds panic=abort to release builds
    // unless the profile names a panic strategy; lambda_runtime turns a
    // panicking handler into an error response only when panics unwind.
    let profile = release_profile();
    assert!(
        profile.contains(&("panic".to_string(), "unwind".to_string())),
        "[profile.release] must set panic = \"unwind\": {profile:?}"
    );
}

/// Every function of each template, with its template.
fn functions_of(templates: &[Yaml]) -> Vec<(&Yaml, &Yaml)> {
    templates
        .iter()
        .flat_map(|t| {
            resources(t)
                .values()
                .filter(|r| r["Type"] == "AWS::Serverless::Function")
                .map(move |f| (t, f))
        })
        .collect()
}

/// The IAM actions a function's role grants.
fn granted_actions(t: &Yaml, function: &Yaml) -> BTreeSet<String> {
    function_statements(t, function)
        .into_iter()
        .flat_map(actions)
        .map(String::from)
        .collect()
}

/// `get_object_tagging` -> `GetObjectTagging`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Every `.rs` file directly in `dir`, concatenated.
fn sources_in(dir: &str) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(root(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().to_string();
            (stem, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// A function's own code and the code of every ota-aws module it uses (by
/// module path, `ota_aws::signer::look`, or by a name ota-aws's lib.rs
/// re-exports from that module, `ota_aws::check_signing`): the code that
/// runs with the function's role.
fn code_of(binary: &str) -> String {
    let own: String = sources_in(&format!("functions/{binary}/src"))
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let flat_own: String = own.split_whitespace().collect();
    let shared = sources_in("crates/ota-aws/src");
    let lib = &shared.iter().find(|(m, _)| m == "lib").unwrap().1;
    let mut code = own.clone();
    for (module, text) in &shared {
        if ["lib", "test_support"].contains(&module.as_str()) {
            continue;
        }
        // `pub use preflight::check_signing;` / `pub use sdk_error::{a, b};`
        let reexported: Vec<String> = lib
            .lines()
            .filter_map(|l| l.trim().strip_prefix(&format!("pub use {module}::")))
            .flat_map(|rest| {
                rest.trim_end_matches(';')
                    .trim_matches(|c| c == '{' || c == '}')
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        let uses_name = |n: &String| {
            flat_own.contains(&format!("ota_aws::{n}"))
                || flat_own.split("useota_aws::{").skip(1).any(|g| {
                    g.split('}')
                        .next()
                        .is_some_and(|g| g.split(',').any(|x| x == n))
                })
        };
        if flat_own.contains(&format!("ota_aws::{module}::")) || reexported.iter().any(uses_name) {
            code.push_str(text);
        }
    }
    code
}

/// The IAM action of every AWS call in a function's code (its own files and
/// the ota-aws modules it uses), read from the source:
/// `<client>.<operation>()` (through `deps` or a helper that takes the
/// client), however rustfmt splits it over lines. HeadObject is authorised
/// by s3:GetObject (s3:GetObjectVersion with a version id, which the implied
/// permissions add).
fn aws_calls(binary: &str) -> BTreeSet<String> {
    let source = code_of(binary);
    let flat: String = source.split_whitespace().collect();
    let mut calls = BTreeSet::new();
    // `deps.s3.get_object()` and, in helpers that take the client,
    // `s3.get_object()`: any `<client>.<op>()`.
    for client in ["s3", "signer", "iot", "tagging", "events"] {
        let needle = format!("{client}.");
        for (i, _) in flat.match_indices(&needle) {
            let rest = &flat[i + needle.len()..];
            let op: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `tagging` and `events` also name other things (an S3
            // tagging's tag_set()): only their APIs' own operations count.
            let theirs = match client {
                "tagging" => [
                    "get_resources",
                    "get_tag_keys",
                    "get_tag_values",
                    "tag_resources",
                    "untag_resources",
                ]
                .contains(&op.as_str()),
                "events" => {
                    op.starts_with("put_") || op.starts_with("delete_") || op.starts_with("list_")
                }
                _ => true,
            };
            if theirs && rest[op.len()..].starts_with("()") {
                calls.insert(match (client, op.as_str()) {
                    ("s3", "head_object") => "s3:GetObject".to_string(),
                    ("s3", "list_object_versions") => "s3:ListBucketVersions".to_string(),
                    // Always with a version id (job_resources::remove_signed).
                    ("s3", "delete_object") => "s3:DeleteObjectVersion".to_string(),
                    ("tagging", "get_resources") => "tag:GetResources".to_string(),
                    _ => format!("{client}:{}", pascal(&op)),
                });
            }
        }
    }
    calls
}

/// The Software Package Catalog calls: "Requires permission to access the
/// CreatePackageVersion and GetIndexingConfiguration actions" (IoT API
/// reference; also CreatePackage, UpdatePackage, UpdatePackageVersion), a
/// permission no call in the code names. Each catalog grant is on package
/// ARNs; only make-stream's Clean Up deletes, and only versions.
#[test]
fn package_catalog_grants_are_on_packages_with_the_indexing_read_they_need() {
    let t = template();
    let needs_indexing = [
        "iot:CreatePackage",
        "iot:CreatePackageVersion",
        "iot:UpdatePackage",
        "iot:UpdatePackageVersion",
    ];
    let mut deleters = Vec::new();
    for (_, f) in functions_of(std::slice::from_ref(&t)) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let granted = granted_actions(&t, f);
        if needs_indexing.iter().any(|a| granted.contains(*a)) {
            assert!(
                granted.contains("iot:GetIndexingConfiguration"),
                "{binary}: catalog writes need iot:GetIndexingConfiguration"
            );
        }
        for st in function_statements(&t, f) {
            let acts = actions(st);
            if !acts.iter().any(|a| a.contains("Package")) {
                continue;
            }
            let resource = under_tag(&st["Resource"], "Sub").and_then(|v| v.as_str());
            assert!(
                resource.is_some_and(|r| r.contains(":package/")),
                "{binary}: package actions {acts:?} only on package ARNs, not {:?}",
                st["Resource"]
            );
            if acts.contains(&"iot:DeletePackageVersion") {
                deleters.push(binary.to_string());
                assert_eq!(
                    resource.and_then(|r| r.rsplit(':').next()),
                    Some("package/*/version/*"),
                    "{binary}: deletes versions only, never packages"
                );
                assert!(!acts.contains(&"iot:DeletePackage"));
            }
        }
    }
    assert_eq!(deleters, ["make-stream"]);
}

#[test]
fn every_aws_call_in_a_functions_code_is_granted_by_its_policy() {
    // A call without its permission fails only in AWS (the emulator does not
    // enforce IAM), so it must fail here. With and without a bucket KMS key.
    // With each combination of the role-shaping conditions.
    let templates = every_template();
    for (t, f) in functions_of(&templates) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let granted = granted_actions(t, f);
        let mut calls = aws_calls(binary);
        // make-stream's package_shadow mode answers only the
        // PackageShadowUpdatesSetting custom resource, which exists only
        // with PackageShadowUpdates=Enabled (checked in
        // package_shadow_updates_is_an_opt_in_custom_resource_of_make_stream).
        if !resources(t).contains_key("PackageShadowUpdatesSetting") {
            calls.remove("iot:GetPackageConfiguration");
            calls.remove("iot:UpdatePackageConfiguration");
        }
        assert!(
            !calls.is_empty(),
            "{binary}: found no AWS calls in its source"
        );
        let missing: Vec<&String> = calls.iter().filter(|a| !granted.contains(*a)).collect();
        assert!(
            missing.is_empty(),
            "{binary} calls {missing:?} but its policy does not grant them (grants {granted:?})"
        );
    }
}

/// A function that reads objects (GetObject, HeadObject, GetObjectTagging)
/// must see a missing object or version as 404, not 403: S3 answers 404 only
/// to a caller allowed s3:ListBucket on the bucket. So each such role holds
/// exactly that, on the bucket's ARN, with no condition.
#[test]
fn functions_that_read_objects_can_tell_missing_from_denied() {
    let t = template();
    let mut readers = Vec::new();
    for (t, f) in functions_of(std::slice::from_ref(&t)) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let calls = aws_calls(binary);
        if !calls
            .iter()
            .any(|c| c == "s3:GetObject" || c == "s3:GetObjectTagging")
        {
            continue;
        }
        readers.push(binary.to_string());
        let list: Vec<&Yaml> = function_statements(t, f)
            .into_iter()
            .filter(|s| actions(s).contains(&"s3:ListBucket"))
            .collect();
        assert_eq!(list.len(), 1, "{binary}: one s3:ListBucket statement");
        let st = list[0];
        assert_eq!(actions(st), ["s3:ListBucket"], "{binary}");
        assert_eq!(
            under_tag(&st["Resource"], "GetAtt").and_then(|v| v.as_str()),
            Some("FirmwareBucket.Arn"),
            "{binary}: on the firmware bucket only"
        );
        assert!(st["Condition"].is_null(), "{binary}: no condition");
    }
    assert_eq!(readers, ["start-signing", "make-stream"]);
}

/// The value under a CloudFormation short-form tag (`!Ref X` -> `X`).
fn under_tag<'a>(v: &'a Yaml, tag: &str) -> Option<&'a Yaml> {
    match v {
        Yaml::Tagged(t) if t.tag == tag => Some(&t.value),
        _ => None,
    }
}

#[test]
fn every_permission_a_function_holds_is_one_its_code_needs() {
    // What a call needs beyond its own action, and why. Anything else a
    // policy grants that no call needs is a leftover and fails here.
    let implied = |call: &str| -> &'static [&'static str] {
        match call {
            // The same reads on a pinned version id; with a bucket KMS key,
            // reading an object decrypts it.
            // s3:ListBucket: without it S3 answers 403 instead of 404 for a
            // missing object or version (read_missing_objects_as_404 below).
            "s3:GetObject" => &["s3:GetObjectVersion", "kms:Decrypt", "s3:ListBucket"],
            "s3:GetObjectTagging" => &["s3:GetObjectVersionTagging", "s3:ListBucket"],
            // AWS Signer reads the upload and writes the signed object with
            // the caller's rights (with a bucket KMS key: a data key).
            "signer:StartSigningJob" => &["s3:PutObject", "kms:Decrypt", "kms:GenerateDataKey"],
            // The stream and the job's presigned URLs name the OTA role.
            "iot:CreateStream" => &["iam:PassRole"],
            // CreateJob with tags (ota:source-*) and the OTA role.
            "iot:CreateJob" => &["iot:TagResource", "iam:PassRole"],
            // "Requires permission to access the CreatePackageVersion and
            // GetIndexingConfiguration actions" (IoT API reference; the same
            // for CreatePackage, UpdatePackage, UpdatePackageVersion).
            "iot:CreatePackage"
            | "iot:CreatePackageVersion"
            | "iot:UpdatePackage"
            | "iot:UpdatePackageVersion" => &["iot:GetIndexingConfiguration"],
            // "Requires permission to access the UpdatePackageConfiguration
            // and iam:PassRole actions" (IoT API reference): the role it names.
            "iot:UpdatePackageConfiguration" => &["iam:PassRole"],
            _ => &[],
        }
    };
    let templates = every_template();
    for (t, f) in functions_of(&templates) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let mut needed: BTreeSet<String> = RUNTIME_ACTIONS.map(String::from).into();
        for call in aws_calls(binary) {
            needed.extend(implied(&call).iter().map(|a| a.to_string()));
            needed.insert(call);
        }
        let extra: Vec<String> = granted_actions(t, f)
            .into_iter()
            .filter(|a| !needed.contains(a))
            .collect();
        assert!(
            extra.is_empty(),
            "{binary} is granted {extra:?}, which none of its calls needs"
        );
    }
}

#[test]
fn the_state_machine_may_invoke_the_four_functions_and_nothing_else() {
    let t = template();
    let policies = state_machine(&t)["Properties"]["Policies"]
        .as_sequence()
        .unwrap();
    let mut invoked: Vec<&str> = policies
        .iter()
        .filter_map(|p| under_tag(&p["LambdaInvokePolicy"]["FunctionName"], "Ref"))
        .filter_map(|v| v.as_str())
        .collect();
    invoked.sort();
    assert_eq!(
        invoked,
        [
            "AwaitSigningFunction",
            "CreateJobFunction",
            "MakeStreamFunction",
            "StartSigningFunction"
        ]
    );
    for st in policies
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().into_iter().flatten())
    {
        for a in actions(st) {
            assert!(
                !a.starts_with("lambda:"),
                "the state machine's own statements grant {a}"
            );
        }
    }
}

#[test]
fn the_ota_role_is_for_iot_only_and_reads_only_uploaded_versions() {
    let t = template();
    let role = &resources(&t)["OtaRole"]["Properties"];
    // (With a bucket KMS key it also decrypts: see the KMS test.)
    let trust = role["AssumeRolePolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(trust.len(), 1);
    assert_eq!(trust[0]["Principal"]["Service"], "iot.amazonaws.com");
    let policies = role["Policies"].as_sequence().unwrap();
    assert_eq!(policies.len(), 1);
    let statements = policies[0]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(statements.len(), 1);
    let mut granted = actions(&statements[0]);
    granted.sort();
    assert_eq!(granted, ["s3:GetObject", "s3:GetObjectVersion"]);
    let resource = under_tag(&statements[0]["Resource"], "Sub").and_then(|v| v.as_str());
    assert_eq!(resource, Some("${FirmwareBucket.Arn}/${UploadPrefix}*"));
}

/// The bucket's default encryption.
fn bucket_encryption(t: &Yaml) -> &Yaml {
    let bucket = resources(t)
        .values()
        .find(|r| r["Type"] == "AWS::S3::Bucket")
        .expect("a bucket");
    &bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
}

/// Every identity-policy statement of every resource (functions' and the
/// state machine's `Policies`, IAM roles' `Policies[].PolicyDocument`), with
/// the resource's logical id.
fn all_statements(t: &Yaml) -> Vec<(String, &Yaml)> {
    let mut out = Vec::new();
    for (name, r) in resources(t) {
        let name = name.as_str().unwrap().to_string();
        for p in r["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            for doc in [&p["Statement"], &p["PolicyDocument"]["Statement"]] {
                for st in doc.as_sequence().into_iter().flatten() {
                    out.push((name.clone(), st));
                }
            }
        }
    }
    out
}

/// resource logical id -> the kms: actions its statements grant.
fn kms_grants(t: &Yaml) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut out = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for (name, st) in all_statements(t) {
        for a in actions(st).into_iter().filter(|a| a.starts_with("kms:")) {
            out.entry(name.clone()).or_default().insert(a.to_string());
        }
    }
    out
}

#[test]
fn without_a_kms_key_the_bucket_uses_sse_s3_and_nobody_may_use_kms() {
    let t = template_with_kms_key(false);
    assert_eq!(t["Parameters"]["BucketKmsKeyArn"]["Default"], "");
    let sse = bucket_encryption(&t);
    assert_eq!(
        sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "AES256"
    );
    assert!(sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"].is_null());
    assert!(kms_grants(&t).is_empty(), "{:?}", kms_grants(&t));
}

#[test]
fn with_a_kms_key_the_bucket_uses_it_and_exactly_its_readers_and_writers_may() {
    let t = template_with_kms_key(true);
    let key = |v: &Yaml| under_tag(v, "Ref").and_then(|r| r.as_str()) == Some("BucketKmsKeyArn");
    let sse = bucket_encryption(&t);
    assert_eq!(
        sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "aws:kms"
    );
    assert!(key(&sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]));
    assert_eq!(sse["BucketKeyEnabled"], true);

    // Who touches objects, from the code: a reader of objects (GetObject,
    // also the signer reading the upload) decrypts; the signer writing the
    // signed object with start-signing's rights generates a data key. IoT
    // reads firmware through the OTA role.
    let mut want = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for f in resources(&t)
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
    {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let calls = aws_calls(binary);
        let mut kms = BTreeSet::new();
        if calls.contains("s3:GetObject") || calls.contains("signer:StartSigningJob") {
            kms.insert("kms:Decrypt".to_string());
        }
        if calls.contains("signer:StartSigningJob") {
            kms.insert("kms:GenerateDataKey".to_string());
        }
        if !kms.is_empty() {
            want.insert(role_name_of(f).to_string(), kms);
        }
    }
    want.insert(
        "OtaRole".into(),
        BTreeSet::from(["kms:Decrypt".to_string()]),
    );
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        ["MakeStreamRole", "OtaRole", "StartSigningRole"],
        "the code's object readers and writers changed: review the KMS grants"
    );
    assert_eq!(kms_grants(&t), want);

    // On that key only, and only through S3.
    for (name, st) in all_statements(&t) {
        if !actions(st).iter().any(|a| a.starts_with("kms:")) {
            continue;
        }
        assert!(
            actions(st).iter().all(|a| a.starts_with("kms:")),
            "{name}: KMS in its own statement"
        );
        assert!(key(&st["Resource"]), "{name}: only the bucket's key");
        assert_eq!(
            under_tag(&st["Condition"]["StringEquals"]["kms:ViaService"], "Sub")
                .and_then(|v| v.as_str()),
            Some("s3.${AWS::Region}.amazonaws.com"),
            "{name}: only through S3"
        );
    }
}

#[test]
fn each_function_has_its_own_role_writing_only_its_own_logs() {
    for t in every_template() {
        roles_of(&t);
    }
}

fn roles_of(t: &Yaml) {
    let t = t.clone();
    let mut roles = BTreeSet::new();
    for f in resources(&t)
        .values()
        .filter(|r| r["Type"] == "AWS::Serverless::Function")
    {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        assert!(
            f["Properties"]["Policies"].is_null(),
            "{binary}: SAM policies would be ignored next to Role"
        );
        let name = role_name_of(f);
        assert!(roles.insert(name), "{binary} shares the role {name}");
        let role = &resources(&t)[name];
        assert_eq!(role["Type"], "AWS::IAM::Role");
        let p = &role["Properties"];
        assert!(
            p["ManagedPolicyArns"].is_null(),
            "{name}: no managed policies (their Resource is *)"
        );
        let trust = p["AssumeRolePolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap();
        assert_eq!(trust.len(), 1, "{name}");
        assert_eq!(
            trust[0]["Principal"]["Service"], "lambda.amazonaws.com",
            "{name}"
        );

        // Logs: the function's own log group (the one it logs to), no other.
        let log_group = under_tag(&f["Properties"]["LoggingConfig"]["LogGroup"], "Ref")
            .and_then(|v| v.as_str())
            .expect("LoggingConfig.LogGroup: !Ref <its log group>");
        let own = format!(
            "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{log_group}}}:*"
        );
        for st in function_statements(&t, f) {
            let acts = actions(st);
            let resource = &st["Resource"];
            if acts.iter().any(|a| a.starts_with("logs:")) {
                assert!(
                    acts.iter().all(|a| a.starts_with("logs:")),
                    "{name}: logs alone"
                );
                assert_eq!(
                    under_tag(resource, "Sub").and_then(|v| v.as_str()),
                    Some(own.as_str()),
                    "{name}: logs only to its own group"
                );
            } else if resource == "*" {
                // Only what supports no resource-level permissions: X-Ray,
                // the sweep's GetResources, the GetIndexingConfiguration
                // the package catalog calls require, and the account's
                // package configuration (PackageShadowUpdates).
                let mut acts = acts;
                acts.sort();
                assert!(
                    acts == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
                        || acts == ["tag:GetResources"]
                        || acts == ["iot:GetIndexingConfiguration"]
                        || acts == ["iot:GetPackageConfiguration", "iot:UpdatePackageConfiguration"],
                    "{name}: Resource * only for X-Ray, tag:GetResources, iot:GetIndexingConfiguration and the package configuration, not {acts:?}"
                );
            }
        }
    }
    assert_eq!(roles.len(), 4);
}
