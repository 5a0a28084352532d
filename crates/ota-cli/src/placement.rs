//! Where the flags' settings go: S3 allows 10 tags per object, so when the
//! flags (with the user's own `--tag`s) need more, the `ota:` settings are
//! written into a manifest for the user (under the manifest prefix, named
//! by its content's hash) and the upload carries `ota:manifest` naming it
//! instead; the user's own tags stay tags.

use ota_core::error::Problems;
use ota_core::manifest::{render_manifest, written_manifest_key};
use ota_core::tags::{parse_tags, MAX_TAGS, TAG_PREFIX};
use ota_core::RequestSpec;

/// A manifest the command writes before the upload.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenManifest {
    pub key: String,
    /// The JSON text, as written.
    pub text: String,
}

/// The tags the object gets, and the manifest to write first, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub tags: Vec<(String, String)>,
    pub manifest: Option<WrittenManifest>,
}

/// The flags as the pipeline will read them: placed ([`place`]) and parsed
/// as tags, with the written manifest (if any) parsed as start-signing will
/// read it. Every problem goes into `problems`.
pub fn read_flags(
    tags: Vec<(String, String)>,
    manifest_prefix: &str,
    user_manifest: bool,
    problems: &mut Problems,
) -> (Placement, RequestSpec, Option<RequestSpec>) {
    let (placed, p) = place(tags, manifest_prefix, user_manifest);
    problems.extend(p);
    let (tag_spec, p) = parse_tags(&placed.tags);
    problems.extend(p);
    let manifest_spec = placed.manifest.as_ref().map(|m| {
        let (spec, p) = ota_core::manifest::parse_manifest(m.text.as_bytes(), &m.key);
        problems.extend(p);
        spec
    });
    (placed, tag_spec, manifest_spec)
}

/// Places `tags` (the flags' tags, in order) for an object. At most 10: as
/// they are. More: the `ota:` ones go into a manifest under
/// `manifest_prefix`, unless `--manifest` names one already (then the
/// settings belong in it) or the user's own tags alone leave no room for
/// `ota:manifest`; those cases keep the tags as they are, and S3's count
/// rule reports them. `user_manifest`: the user gave a manifest another
/// way (`ota validate --manifest-file`), which counts as `--manifest`.
/// Problems of the values are left to the caller's parse of the tags kept.
pub fn place(
    tags: Vec<(String, String)>,
    manifest_prefix: &str,
    user_manifest: bool,
) -> (Placement, Problems) {
    let keep = |tags| {
        (
            Placement {
                tags,
                manifest: None,
            },
            Problems::default(),
        )
    };
    let (settings, own): (Vec<_>, Vec<_>) = tags
        .iter()
        .cloned()
        .partition(|(k, _)| k.starts_with(TAG_PREFIX));
    let names_a_manifest = user_manifest || settings.iter().any(|(k, _)| k == "ota:manifest");
    if tags.len() <= MAX_TAGS || names_a_manifest || own.len() + 1 > MAX_TAGS {
        return keep(tags);
    }
    let (spec, mut problems) = parse_tags(&settings);
    // The count rule is what the manifest solves.
    problems.0.retain(|p| p.field != "tags");
    if !problems.is_empty() {
        // Kept as tags: the caller's parse reports each problem once.
        return keep(tags);
    }
    let text = render_manifest(&RequestSpec {
        manifest: None,
        ..spec
    })
    .to_string();
    let key = written_manifest_key(manifest_prefix, &text);
    let mut placed = vec![("ota:manifest".to_string(), key.clone())];
    placed.extend(own);
    (
        Placement {
            tags: placed,
            manifest: Some(WrittenManifest { key, text }),
        },
        Problems::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const ELEVEN: &[(&str, &str)] = &[
        ("ota:targets", "thinggroup/Lab"),
        ("ota:selection", "CONTINUOUS"),
        ("ota:description", "Release 1.4"),
        ("ota:protocols", "MQTT HTTP"),
        ("ota:file-path", "/ota/app.bin"),
        ("ota:profile", "OtaProfile"),
        ("ota:timeout", "30"),
        ("ota:retry", "FAILED:2"),
        ("ota:start", "+2h"),
        ("ota:windows", "MON-FRI@02:00/120"),
        ("team", "firmware"),
    ];

    #[test]
    fn ten_tags_stay_tags() {
        let tags = t(&ELEVEN[..10]);
        let (p, problems) = place(tags.clone(), "manifests/", false);
        assert!(problems.is_empty());
        assert_eq!(p.tags, tags);
        assert_eq!(p.manifest, None);
    }

    #[test]
    fn more_than_ten_move_the_settings_into_a_manifest_that_means_the_same() {
        let (p, problems) = place(t(ELEVEN), "manifests/", false);
        assert!(problems.is_empty(), "{problems}");
        let m = p.manifest.expect("a manifest");
        assert!(
            m.key.starts_with("manifests/ota-") && m.key.ends_with(".json"),
            "{}",
            m.key
        );
        assert_eq!(
            p.tags,
            t(&[("ota:manifest", m.key.as_str()), ("team", "firmware")])
        );
        // The same settings, read back as start-signing reads a manifest.
        let (from_manifest, mp) = ota_core::manifest::parse_manifest(m.text.as_bytes(), &m.key);
        assert!(mp.is_empty(), "{mp}");
        let (from_tags, _) = parse_tags(&t(&ELEVEN[..10]));
        assert_eq!(from_manifest.targets, from_tags.targets);
        assert_eq!(from_manifest.retry, from_tags.retry);
        assert_eq!(from_manifest.start, from_tags.start);
        let cron: Vec<String> = from_manifest
            .windows
            .unwrap()
            .iter()
            .map(|w| w.cron())
            .collect();
        assert_eq!(cron, ["cron(0 2 ? * MON-FRI *)"]);
        // Named by content: the same flags, the same manifest.
        assert_eq!(
            place(t(ELEVEN), "manifests/", false)
                .0
                .manifest
                .unwrap()
                .key,
            m.key
        );
    }

    #[test]
    fn a_named_manifest_or_a_bad_value_keeps_the_tags_and_says_why() {
        let mut with_manifest = t(ELEVEN);
        with_manifest[9] = ("ota:manifest".into(), "manifests/mine.json".into());
        let (p, problems) = place(with_manifest.clone(), "manifests/", false);
        assert!(problems.is_empty());
        assert_eq!((p.tags, p.manifest), (with_manifest, None));
        let mut bad = t(ELEVEN);
        bad[6] = ("ota:timeout".into(), "0".into());
        let (p, problems) = place(bad, "manifests/", false);
        assert_eq!(p.manifest, None);
        assert!(
            problems.is_empty(),
            "left to the caller's parse: {problems}"
        );
        let (_, parsed) = parse_tags(&p.tags);
        let fields: Vec<&str> = parsed.iter().map(|q| q.field.as_str()).collect();
        assert_eq!(fields, ["tags", "ota:timeout"]);
        // A manifest file given another way counts as --manifest.
        let (p, _) = place(t(ELEVEN), "manifests/", true);
        assert_eq!(p.manifest, None);
    }
}
