//! An example value of every tag, for messages that show what a tag takes.

/// A valid value of every tag, so a problem (an empty value) can show what
/// the tag takes. A test checks each one parses.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("ota:targets", "thinggroup/Lab thing/dev-7"),
    ("ota:selection", "SNAPSHOT"),
    ("ota:description", "Release 1.4"),
    ("ota:protocols", "MQTT HTTP"),
    ("ota:file-path", "/ota/app.bin"),
    ("ota:file-type", "0"),
    ("ota:devices", "freertos-ota-agent aws-iot-jobs-parser"),
    ("ota:format", "aws_fota"),
    ("ota:firmware-version", "v1.4.0"),
    ("ota:profile", "OtaProfile"),
    (
        "ota:signature",
        "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9Og==",
    ),
    ("ota:signature-algorithm", "SHA256withECDSA"),
    ("ota:certfile", "/certs/ota.pem"),
    ("ota:timeout", "10"),
    ("ota:retry", "FAILED:2 TIMED_OUT:3"),
    ("ota:start", "+2h"),
    ("ota:end", "+3d"),
    ("ota:end-behavior", "CANCEL"),
    ("ota:windows", "MON-FRI@02:00/120"),
    ("ota:abort", "FAILED:10:50"),
    ("ota:rollout", "max:100"),
    ("ota:presigned-expiry", "600"),
    ("ota:packages", "MyPkg@1.4.0"),
    ("ota:register-package", "Firmware@1.4.0"),
    ("ota:register-default", "true"),
    ("ota:document-values", "package"),
    ("ota:job-id", "release-1_4"),
    ("ota:manifest", "manifests/app-1.4.json"),
];

/// The example value of a tag.
pub fn example_of(tag: &str) -> &'static str {
    EXAMPLES
        .iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, e)| *e)
        .unwrap_or("?")
}
