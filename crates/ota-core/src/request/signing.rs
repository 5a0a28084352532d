//! How the firmware is signed: a signature (pre-signed firmware) or a
//! signing profile, not both, each with only the settings it takes.

use super::Signing;
use crate::error::Problems;
use crate::spec::RequestSpec;

/// Signing: a signature (pre-signed firmware) or a profile, not both.
pub(super) fn signing(spec: &RequestSpec, p: &mut Problems) -> Signing {
    match (&spec.signature, &spec.profile) {
        (Some(sig), _) => pre_signed(spec, sig, p),
        // A signature was given but is malformed (reported already): the
        // request is still for pre-signed firmware, so its algorithm and
        // certfile are not "only for pre-signed firmware".
        (None, _) if spec.is_unparsed("signature") => pre_signed(spec, "", p),
        (None, Some(profile)) => with_profile(spec, profile, p),
        (None, None) if spec.is_unparsed("profile") => Signing::Profile {
            profile_name: String::new(),
        },
        (None, None) => {
            p.push(
                "ota:profile",
                "no signing profile and no signature; tag ota:profile, set the stack's DefaultSigningProfile, or supply ota:signature for pre-signed firmware",
            );
            Signing::Profile {
                profile_name: String::new(),
            }
        }
    }
}

/// Pre-signed firmware: it needs its algorithm and certfile, and cannot also
/// name a profile unless one of the two is the stack's default.
fn pre_signed(spec: &RequestSpec, sig: &str, p: &mut Problems) -> Signing {
    let signature_source_is_default = spec
        .sources
        .get("signature")
        .map(|s| s.starts_with("stack"))
        .unwrap_or(false);
    let profile_is_default = spec
        .sources
        .get("profile")
        .map(|s| s.starts_with("stack"))
        .unwrap_or(true);
    if spec.profile.is_some() && !profile_is_default && !signature_source_is_default {
        p.push(
            spec.source_of("signature"),
            format!(
                "pre-signed firmware cannot also name a signing profile ({}); give one or the other",
                spec.source_of("profile")
            ),
        );
    }
    if spec.signature_algorithm.is_none() {
        p.push(
            "ota:signature-algorithm",
            "pre-signed firmware needs its signature algorithm, e.g. SHA256withECDSA",
        );
    }
    if spec.certfile.is_none() {
        p.push(
            "ota:certfile",
            "pre-signed firmware needs certfile: the path of the code-signing certificate on the device",
        );
    }
    Signing::PreSigned {
        signature: sig.to_string(),
        signature_algorithm: spec.signature_algorithm.clone().unwrap_or_default(),
        certfile: spec.certfile.clone().unwrap_or_default(),
    }
}

/// No signing (`aws_fota`): a profile, signature, algorithm or certfile from
/// the upload is a problem saying why; the stack's DefaultSigningProfile is
/// for `afr_ota` updates and does not apply.
pub(super) fn unsigned(spec: &RequestSpec, p: &mut Problems) -> Signing {
    let given = [
        ("profile", spec.profile.is_some()),
        ("signature", spec.signature.is_some()),
        ("signature_algorithm", spec.signature_algorithm.is_some()),
        ("certfile", spec.certfile.is_some()),
    ];
    for (field, set) in given {
        if set && !spec.from_stack(field) {
            p.push(
                spec.source_of(field),
                format!(
                    "{} (ota:format=aws_fota from {}); leave it out",
                    super::format::AWS_FOTA_IS_NOT_SIGNED,
                    spec.source_of("format")
                ),
            );
        }
    }
    Signing::Unsigned
}

/// A signing profile: the algorithm and certfile come from the profile, so
/// giving them is a problem.
fn with_profile(spec: &RequestSpec, profile: &str, p: &mut Problems) -> Signing {
    for f in ["signature_algorithm", "certfile"] {
        let set = if f == "certfile" {
            spec.certfile.is_some()
        } else {
            spec.signature_algorithm.is_some()
        };
        if set {
            p.push(
                spec.source_of(f),
                "applies only to pre-signed firmware (with ota:signature); a signing profile sets it itself",
            );
        }
    }
    Signing::Profile {
        profile_name: profile.to_string(),
    }
}
