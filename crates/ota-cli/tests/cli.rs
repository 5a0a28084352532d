//! The `ota` binary without AWS: validate, tags, exit codes, help. Every AWS
//! address is unset or unreachable here; these commands make no AWS call.

use serde_json::Value;
use std::process::{Command, Output};

fn ota(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ota"))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("OTA_STATE_MACHINE_ARN")
        .env_remove("OTA_DEFAULT_SIGNING_PROFILE")
        .env_remove("OTA_DEFAULT_TARGETS")
        .env_remove("OTA_DEFAULT_PROTOCOLS")
        .env_remove("OTA_DEFAULT_DOCUMENT_FORMAT")
        .env_remove("OTA_DEFAULT_DEVICES")
        .env("AWS_REGION", "eu-west-1")
        .output()
        .expect("run ota")
}

fn stdout_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_prints_the_create_job_request() {
    let o = ota(&[
        "validate",
        "--targets",
        "thinggroup/Lab",
        "--targets",
        "thing/dev-7",
        "--profile",
        "OtaProfile",
        "--retry",
        "FAILED:2 TIMED_OUT:3",
        "--window",
        "MON-FRI@02:00/120",
        "--window",
        "SAT@01:00/60",
        "--timeout",
        "10",
        "--protocols",
        "MQTT HTTP",
        "--presigned-expiry",
        "600",
        "--file-path",
        "/ota/app.bin",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = stdout_json(&o);
    assert_eq!(
        r["targets"],
        serde_json::json!([
            "arn:aws:iot:eu-west-1:ACCOUNT_ID:thinggroup/Lab",
            "arn:aws:iot:eu-west-1:ACCOUNT_ID:thing/dev-7"
        ])
    );
    assert_eq!(r["timeoutConfig"]["inProgressTimeoutInMinutes"], 10);
    assert_eq!(
        r["jobExecutionsRetryConfig"]["criteriaList"][1]["failureType"],
        "TIMED_OUT"
    );
    let windows = &r["schedulingConfig"]["maintenanceWindows"];
    assert_eq!(windows[0]["startTime"], "cron(0 2 ? * MON-FRI *)");
    assert_eq!(windows[1]["durationInMinutes"], 60);
    assert_eq!(r["presignedUrlConfig"]["expiresInSec"], 600);
    let file = &r["document"]["afr_ota"]["files"][0];
    assert_eq!(file["filepath"], "/ota/app.bin");
    assert_eq!(file["auth_scheme"], "aws.s3.presigned");
    assert_eq!(
        r["document"]["afr_ota"]["protocols"],
        serde_json::json!(["MQTT", "HTTP"])
    );
}

#[test]
fn validate_reports_every_problem_one_line_each_with_exit_code_2() {
    let o = ota(&[
        "validate",
        "--retry",
        "FAILED:11",
        "--start",
        "+1m",
        "--tag",
        "ota:timeot=3",
        "--targets",
        "thinggroup/L,ab",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "nothing on stdout in human mode");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    for tag in [
        "ota:retry",
        "ota:start",
        "ota:timeot",
        "ota:targets",
        "ota:profile",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("ota: {tag}: "))),
            "{tag} in {err}"
        );
    }
    assert!(err.contains("0 to 10"), "says what is allowed: {err}");
    assert!(lines.iter().all(|l| l.starts_with("ota: ")), "{err}");
}

#[test]
fn json_errors_list_the_problems_on_stdout() {
    let o = ota(&[
        "validate",
        "--output",
        "json",
        "--targets",
        "thinggroup/Lab",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let r = stdout_json(&o);
    assert_eq!(r["error"], "InvalidRequest");
    assert_eq!(r["problems"][0]["field"], "ota:profile");
}

#[test]
fn stack_defaults_fill_what_the_flags_leave_out() {
    let o = Command::new(env!("CARGO_BIN_EXE_ota"))
        .args(["validate", "--default-targets", "thing/dev-1"])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("OTA_STATE_MACHINE_ARN")
        .env("OTA_DEFAULT_SIGNING_PROFILE", "FromStack")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run ota");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout_json(&o)["targets"][0],
        "arn:aws:iot:us-east-1:ACCOUNT_ID:thing/dev-1"
    );
}

#[test]
fn tags_prints_the_tagging_string_s3_takes() {
    let o = ota(&[
        "tags",
        "--output",
        "json",
        "--targets",
        "thinggroup/Lab thing/dev-7",
        "--profile",
        "OtaProfile",
        "--window",
        "MON-FRI@02:00/120",
        "--tag",
        "team=fw",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = stdout_json(&o);
    assert_eq!(
        r["tagging"],
        "ota%3Atargets=thinggroup%2FLab%20thing%2Fdev-7&ota%3Aprofile=OtaProfile&ota%3Awindows=MON-FRI%4002%3A00%2F120&team=fw"
    );
    assert_eq!(r["tags"][0]["Key"], "ota:targets");

    let human = ota(&["tags", "--targets", "thinggroup/Lab"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.starts_with("ota:targets=thinggroup/Lab\n"), "{text}");
    assert!(text.contains("ota%3Atargets=thinggroup%2FLab"), "{text}");
}

#[test]
fn tags_refuses_what_s3_tags_cannot_carry() {
    let o = ota(&["tags", "--description", "Release 1.4, with notes"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("ota:description: ',' is not allowed in S3 tags"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    let o = ota(&["validate", "--timeot", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--timeout"), "clap suggests the flag");
    let help = ota(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("Examples:") && text.contains("ota upload app-v1.4.bin"),
        "{text}"
    );
    assert!(text.contains("Exit codes"), "{text}");
}

#[test]
fn upload_of_a_missing_file_fails_before_any_aws_call() {
    let o = ota(&[
        "upload",
        "/nonexistent/app.bin",
        "--bucket",
        "b",
        "--targets",
        "thing/x",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("ota: /nonexistent/app.bin: "),
        "{}",
        stderr(&o)
    );
}

/// Flags for 11 tags: ten `ota:` settings and one of the user's.
const ELEVEN_TAGS: &[&str] = &[
    "--targets",
    "thinggroup/Lab",
    "--selection",
    "CONTINUOUS",
    "--description",
    "Release 1.4",
    "--protocols",
    "MQTT HTTP",
    "--file-path",
    "/ota/app.bin",
    "--profile",
    "OtaProfile",
    "--timeout",
    "30",
    "--retry",
    "FAILED:2",
    "--start",
    "+2h",
    "--window",
    "MON-FRI@02:00/120",
    "--tag",
    "team=fw",
];

#[test]
fn more_than_ten_tags_become_a_manifest_that_tags_and_validate_show() {
    let mut args = vec!["tags", "--output", "json"];
    args.extend_from_slice(ELEVEN_TAGS);
    let o = ota(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = stdout_json(&o);
    let key = r["manifest"]["key"].as_str().expect("a manifest key");
    assert!(key.starts_with("manifests/ota-"), "{key}");
    assert_eq!(r["tags"].as_array().map(Vec::len), Some(2), "{r}");
    assert_eq!(r["tags"][0]["Key"], "ota:manifest");
    assert_eq!(r["tags"][0]["Value"], key);
    assert_eq!(r["tags"][1]["Key"], "team");
    let body = &r["manifest"]["body"];
    assert_eq!(body["timeoutConfig"]["inProgressTimeoutInMinutes"], 30);
    assert_eq!(
        body["schedulingConfig"]["maintenanceWindows"][0]["startTime"],
        "cron(0 2 ? * MON-FRI *)"
    );
    // Human: the tags, then the manifest to write first.
    let mut human = vec!["tags"];
    human.extend_from_slice(ELEVEN_TAGS);
    let text = String::from_utf8_lossy(&ota(&human).stdout).into_owned();
    assert!(
        text.contains(&format!(
            "write this manifest to {key} in the firmware bucket first"
        )),
        "{text}"
    );

    // validate decides on the same settings, read from that manifest.
    let mut args = vec!["validate", "--output", "json"];
    args.extend_from_slice(ELEVEN_TAGS);
    let o = ota(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = stdout_json(&o);
    assert_eq!(r["manifest"]["key"], key);
    assert_eq!(
        r["createJobRequest"]["timeoutConfig"]["inProgressTimeoutInMinutes"],
        30
    );
    assert_eq!(r["createJobRequest"]["targetSelection"], "CONTINUOUS");
}

#[test]
fn validate_says_which_package_version_it_registers() {
    let args = [
        "validate",
        "--targets",
        "thing/dev-1",
        "--profile",
        "OtaProfile",
        "--register-package",
        "App@1.4.0",
        "--register-default",
        "--document-values",
        "package",
    ];
    let o = ota(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ota: registers package version App@1.4.0")
            && stderr(&o).contains("made the package's default"),
        "{}",
        stderr(&o)
    );
    let mut json = args.to_vec();
    json.extend(["--output", "json"]);
    let r = stdout_json(&ota(&json));
    let p = &r["packageVersion"];
    // AWS_REGION is eu-west-1 in these tests (`ota` above).
    assert_eq!(
        p["arn"],
        "arn:aws:iot:eu-west-1:ACCOUNT_ID:package/App/version/1.4.0"
    );
    assert_eq!(p["documentValues"], "package");
    let job = &r["createJobRequest"];
    assert_eq!(job["destinationPackageVersions"][0], p["arn"]);
    assert_eq!(
        job["document"]["afr_ota"]["files"][0]["sig-sha256-ecdsa"],
        "${aws:iot:package:App:version:1.4.0:attributes:signature}"
    );
    // A registration that cannot be: refused, naming the tag.
    let o = ota(&[
        "validate",
        "--targets",
        "thing/dev-1",
        "--profile",
        "OtaProfile",
        "--register-default",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("ota:register-default"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn validate_prints_what_the_device_families_would_find_offline() {
    // HTTP alone: the FreeRTOS agent's default build takes MQTT only
    // (ota_interface.c L85-86), a warning without --devices...
    let args = [
        "validate",
        "--targets",
        "thing/dev-1",
        "--profile",
        "OtaProfile",
        "--protocols",
        "HTTP",
    ];
    let o = ota(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ota: warning: freertos-ota-agent (mqtt-in-default-build"),
        "{}",
        stderr(&o)
    );
    let mut json = args.to_vec();
    json.extend(["--output", "json"]);
    let r = stdout_json(&ota(&json));
    assert!(
        r["deviceWarnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("mqtt-in-default-build")),
        "{r}"
    );
    // ...and a refusal naming the rule with it.
    let mut named = args.to_vec();
    named.extend(["--devices", "freertos-ota-agent"]);
    let o = ota(&named);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("ota:devices: freertos-ota-agent (mqtt-in-default-build"),
        "{}",
        stderr(&o)
    );
    // An aws_fota upload is previewed as Nordic's document, unsigned.
    let r = stdout_json(&ota(&[
        "validate",
        "--output",
        "json",
        "--targets",
        "thing/nrf-1",
        "--format",
        "aws_fota",
        "--firmware-version",
        "v1.4.0",
    ]));
    let doc = &r["createJobRequest"]["document"];
    assert_eq!(doc["fwversion"], "v1.4.0");
    assert!(doc["location"]["url"]
        .as_str()
        .unwrap()
        .starts_with("${aws:iot:s3-presigned-url-v2:"));
    assert!(
        r["deviceWarnings"][0]
            .as_str()
            .unwrap()
            .starts_with("nrf-aws-fota ("),
        "{r}"
    );
}

#[test]
fn device_connection_flags_are_checked_before_connecting() {
    let dir = std::env::temp_dir().join(format!("ota-cli-device-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("thing.pem");
    std::fs::write(&pem, "not used").unwrap();
    let (out, pem) = (dir.to_str().unwrap(), pem.to_str().unwrap());
    let base = [
        "device",
        "--thing",
        "t",
        "--family",
        "freertos-ota-agent",
        "--out",
        out,
        "--once",
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        ota(&args)
    };
    // --cert needs --key (clap).
    let o = run(&["--cert", pem]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--key"), "{}", stderr(&o));
    let o = run(&["--block-size", "100", "--iot-endpoint", "h"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("256 to 131072"), "{}", stderr(&o));
    let o = run(&["--request-timeout", "0", "--iot-endpoint", "h"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("positive number of seconds"),
        "{}",
        stderr(&o)
    );
    // Mutual TLS cannot go over a WebSocket URL.
    let o = run(&["--cert", pem, "--key", pem, "--iot-endpoint", "ws://h:80"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("mutual TLS (mqtts://)"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--iot-endpoint", "h:99999"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("1-65535"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}
