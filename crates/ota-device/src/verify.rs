//! Checking the downloaded file before it is reported done: its size is
//! the document's, and for afr_ota its signature verifies with the
//! code-signing certificate's public key (what the FreeRTOS agent's PAL
//! does before it activates an image). Nordic documents carry no
//! signature: the size is what aws_fota and Nordic's sample check, and
//! MCUboot verifies the image at boot.

use crate::plan::Plan;
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm};
use std::path::Path;

/// The webpki algorithm for a document's signature key: the hash and the
/// key type the signer used (`sig-sha256-ecdsa`: ECDSA P-256 over SHA-256,
/// DER-encoded as AWS Signer writes it).
fn algorithm(key: &str) -> Option<&'static dyn SignatureVerificationAlgorithm> {
    use webpki::aws_lc_rs as alg;
    Some(match key {
        "sig-sha256-ecdsa" => alg::ECDSA_P256_SHA256,
        "sig-sha384-ecdsa" => alg::ECDSA_P384_SHA384,
        "sig-sha256-rsa" => alg::RSA_PKCS1_2048_8192_SHA256,
        "sig-sha384-rsa" => alg::RSA_PKCS1_2048_8192_SHA384,
        "sig-sha512-rsa" => alg::RSA_PKCS1_2048_8192_SHA512,
        _ => return None,
    })
}

/// Checks the file at `path` against `plan`: Ok with what was checked
/// (`signature` or `size`), Err with a reason a person can act on.
pub async fn check(
    plan: &Plan,
    path: &Path,
    signer_cert: Option<&[u8]>,
) -> Result<&'static str, String> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| format!("reading the downloaded file: {e}"))?;
    if bytes.len() as u64 != plan.size {
        return Err(format!(
            "size mismatch: downloaded {} bytes, the document says {}",
            bytes.len(),
            plan.size
        ));
    }
    let Some((key, signature)) = &plan.signature else {
        return Ok("size");
    };
    let cert_pem = signer_cert.ok_or_else(|| {
        "the document is signed but this agent has no code-signing certificate (--signer-cert)"
            .to_string()
    })?;
    verify_signature(&bytes, key, signature, cert_pem)?;
    Ok("signature")
}

/// Verifies `signature` (base64) under document key `key` over `message`
/// with the certificate in `cert_pem`.
pub fn verify_signature(
    message: &[u8],
    key: &str,
    signature: &str,
    cert_pem: &[u8],
) -> Result<(), String> {
    let algorithm = algorithm(key)
        .ok_or_else(|| format!("signature key {key}: an algorithm this agent cannot verify"))?;
    let der = CertificateDer::from_pem_slice(cert_pem)
        .map_err(|e| format!("the code-signing certificate is not PEM: {e}"))?;
    let cert = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| format!("the code-signing certificate cannot be parsed: {e}"))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .map_err(|e| format!("{key} is not base64: {e}"))?;
    cert.verify_signature(algorithm, message, &raw).map_err(|e| {
        format!("signature mismatch: {key} does not verify over the downloaded bytes with the code-signing certificate ({e})")
    })
}
