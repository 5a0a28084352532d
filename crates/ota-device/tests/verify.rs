//! Signature verification against fixtures made with Python's
//! `cryptography` (a self-signed code-signing certificate per key type and
//! a signature over tests/fixtures/firmware.bin), not by this crate: ECDSA
//! P-256/SHA-256 as AWS Signer writes it (DER), and RSA PKCS#1 v1.5.

use ota_device::verify::verify_signature;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap().trim().to_string()
}

#[test]
fn ecdsa_and_rsa_signatures_verify_over_the_exact_bytes_only() {
    let firmware = fixture("firmware.bin");
    for (key, cert, sig) in [
        (
            "sig-sha256-ecdsa",
            "ecdsa-signer.crt",
            "firmware.sig-sha256-ecdsa",
        ),
        (
            "sig-sha256-rsa",
            "rsa-signer.crt",
            "firmware.sig-sha256-rsa",
        ),
    ] {
        verify_signature(&firmware, key, &text(sig), &fixture(cert)).unwrap();
        let mut changed = firmware.clone();
        changed[100] ^= 1;
        let e = verify_signature(&changed, key, &text(sig), &fixture(cert)).unwrap_err();
        assert!(e.starts_with("signature mismatch"), "{e}");
    }
    // The other key's certificate, an unknown algorithm, a non-PEM file.
    let e = verify_signature(
        &firmware,
        "sig-sha256-ecdsa",
        &text("firmware.sig-sha256-ecdsa"),
        &fixture("rsa-signer.crt"),
    )
    .unwrap_err();
    assert!(e.starts_with("signature mismatch"), "{e}");
    let e = verify_signature(
        &firmware,
        "sig-sha1-rsa",
        &text("firmware.sig-sha256-rsa"),
        &fixture("rsa-signer.crt"),
    )
    .unwrap_err();
    assert!(e.contains("cannot verify"), "{e}");
    let e = verify_signature(
        &firmware,
        "sig-sha256-ecdsa",
        &text("firmware.sig-sha256-ecdsa"),
        b"not a certificate",
    )
    .unwrap_err();
    assert!(e.contains("not PEM"), "{e}");
}

/// The file check the agent runs after a download: read back in chunks,
/// hashed as it is read, the signature checked over the digest.
#[tokio::test]
async fn the_downloaded_file_is_checked_by_size_then_by_its_digest() {
    use ota_device::plan::{Plan, Source};
    let firmware = fixture("firmware.bin");
    let dir = std::env::temp_dir().join(format!("ota-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("firmware.bin");
    std::fs::write(&path, &firmware).unwrap();
    let plan = |size: u64, sig: &str| Plan {
        source: Source::Http { url: String::new() },
        size,
        file_name: "firmware.bin".into(),
        signature: Some(("sig-sha256-ecdsa".into(), text(sig))),
    };
    let cert = fixture("ecdsa-signer.crt");
    let good = plan(firmware.len() as u64, "firmware.sig-sha256-ecdsa");
    assert_eq!(
        ota_device::verify::check(&good, &path, Some(&cert)).await,
        Ok("signature")
    );
    let e = ota_device::verify::check(
        &plan(firmware.len() as u64 + 1, "firmware.sig-sha256-ecdsa"),
        &path,
        Some(&cert),
    )
    .await
    .unwrap_err();
    assert!(e.starts_with("size mismatch"), "{e}");
    let mut changed = firmware.clone();
    changed[firmware.len() - 1] ^= 1;
    std::fs::write(&path, &changed).unwrap();
    let e = ota_device::verify::check(&good, &path, Some(&cert))
        .await
        .unwrap_err();
    assert!(e.starts_with("signature mismatch"), "{e}");
    let e = ota_device::verify::check(&good, &path, None)
        .await
        .unwrap_err();
    assert!(e.contains("--signer-cert"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
