//! The `ota` command finds the pipeline through the state machine's tags
//! (bucket, upload prefix, stack defaults): the template must set exactly
//! the tags it reads, each from the right parameter or resource.

use serde_yaml::Value as Yaml;

fn template() -> Yaml {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// `!Ref X` as serde_yaml reads it.
fn referenced(v: &Yaml) -> Option<String> {
    match v {
        Yaml::Tagged(t) if t.tag == "Ref" => t.value.as_str().map(str::to_string),
        _ => None,
    }
}

#[test]
fn the_state_machine_carries_every_tag_the_cli_reads() {
    let t = template();
    let tags = t["Resources"]["OtaUpdateStateMachine"]["Properties"]["Tags"]
        .as_mapping()
        .expect("OtaUpdateStateMachine has Tags");
    let mut have: Vec<(String, String)> = tags
        .iter()
        .map(|(k, v)| {
            let key = k.as_str().expect("tag key").to_string();
            let source = referenced(v).unwrap_or_else(|| panic!("{key} is not a !Ref: {v:?}"));
            (key, source)
        })
        .collect();
    let mut want: Vec<(String, String)> = ota_cli::aws::PIPELINE_TAGS
        .iter()
        .map(|(k, s)| (k.to_string(), s.to_string()))
        .collect();
    have.sort();
    want.sort();
    assert_eq!(have, want);
    for (_, source) in &want {
        assert!(
            t["Parameters"].get(source).is_some() || t["Resources"].get(source).is_some(),
            "{source} is neither a parameter nor a resource"
        );
    }
}

/// The characters a bracket expression like `[A-Za-z0-9_.-]` admits.
fn class_chars(class: &str) -> Vec<char> {
    let c: Vec<char> = class.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if i + 2 < c.len() && c[i + 1] == '-' {
            out.extend(c[i]..=c[i + 2]);
            i += 3;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Every character a parameter's AllowedPattern admits: those of its
/// bracket expressions (the prefixes' patterns are built from such classes
/// and '/'), and the literal characters outside them, once the regex syntax
/// (anchors, groups, alternation, quantifiers) is taken away (DefaultDevices
/// is an alternation of family names).
fn pattern_chars(t: &Yaml, parameter: &str) -> Vec<char> {
    let pattern = t["Parameters"][parameter]["AllowedPattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{parameter} has an AllowedPattern"));
    let mut chars = Vec::new();
    let mut outside = String::new();
    for (i, piece) in pattern.split('[').enumerate() {
        let rest = if i == 0 {
            piece
        } else {
            let (class, rest) = piece.split_once(']').unwrap_or((piece, ""));
            chars.extend(class_chars(class));
            rest
        };
        outside.push_str(rest);
    }
    let mut in_quantifier = false;
    for c in outside.chars() {
        match c {
            '{' => in_quantifier = true,
            '}' => in_quantifier = false,
            _ if in_quantifier => {}
            '^' | '$' | '(' | ')' | '|' | '*' | '?' | '+' => {}
            other => chars.push(other),
        }
    }
    chars
}

#[test]
fn prefixes_hold_no_iam_wildcard_and_tagged_values_fit_a_step_functions_tag() {
    let t = template();
    // IAM grants "<prefix>*": a '*' or '?' in a prefix would widen them.
    for p in ["UploadPrefix", "SignedPrefix", "ManifestPrefix"] {
        let chars = pattern_chars(&t, p);
        assert!(!chars.is_empty(), "{p}");
        assert!(
            !chars.contains(&'*') && !chars.contains(&'?'),
            "{p} admits an IAM wildcard"
        );
    }
    // Step Functions tag values: letters, digits, whitespace and _ . : / = + - @.
    let tag_safe = |c: char| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c);
    for (_, source) in ota_cli::aws::PIPELINE_TAGS {
        let param = &t["Parameters"][*source];
        if param.is_null() || param["Type"] == "Number" {
            continue; // a resource (the bucket, its name is tag-safe) or digits
        }
        let mut chars = if param.get("AllowedPattern").is_some() {
            pattern_chars(&t, source)
        } else {
            Vec::new()
        };
        for v in param["AllowedValues"].as_sequence().into_iter().flatten() {
            chars.extend(v.as_str().unwrap_or_default().chars());
        }
        assert!(!chars.is_empty(), "{source} is constrained");
        let bad: Vec<char> = chars.into_iter().filter(|c| !tag_safe(*c)).collect();
        assert!(
            bad.is_empty(),
            "{source} admits {bad:?}, which a Step Functions tag cannot hold"
        );
    }
}

#[test]
fn unfinished_multipart_uploads_are_aborted_and_no_version_expires() {
    let t = template();
    let rules = t["Resources"]["FirmwareBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_sequence()
        .expect("FirmwareBucket has lifecycle rules");
    assert!(rules.iter().any(|r| r["Status"] == "Enabled"
        && r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"].as_u64() == Some(1)));
    for r in rules {
        for k in [
            "ExpirationInDays",
            "NoncurrentVersionExpiration",
            "NoncurrentVersionExpirationInDays",
            "Transitions",
        ] {
            assert!(
                r.get(k).is_none(),
                "a lifecycle rule must not expire or move firmware versions: {k}"
            );
        }
    }
}
