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
