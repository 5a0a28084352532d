//! The command line. Every request flag is one `ota:` tag: the flags are
//! turned into tags and parsed by the same ota-core code the pipeline runs, so
//! `ota validate` and the pipeline can never disagree.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  ota validate --targets 'thinggroup/Lab thing/dev-7' --profile OtaProfile --start +2h
  ota upload app-v1.4.bin --bucket my-firmware-bucket --targets thinggroup/Lab \\
      --profile OtaProfile --window MON-FRI@02:00/120 --retry 'FAILED:2 TIMED_OUT:3'
  ota status firmware/app-v1.4.bin --bucket my-firmware-bucket
  ota status AFR_OTA-app-v1_4-8a9caeb409fd
  ota list --output json
  ota tags --targets thinggroup/Lab --profile OtaProfile

Exit codes: 0 success; 2 invalid input (nothing was uploaded); 3 the pipeline
failed (the reason is printed); 4 gave up waiting (the pipeline keeps going);
1 anything else (AWS access, a missing file).

AWS credentials and region come from the usual places (environment, profile,
SSO, instance role). --endpoint-url or AWS_ENDPOINT_URL points every call at
another endpoint, e.g. the local emulator.";

const VALIDATE_EXAMPLES: &str = "\
Examples:
  ota validate app.bin --targets thinggroup/Lab --profile OtaProfile --start +2h
  ota validate --targets thing/dev-7 --manifest-file app-1.4.json
  ota validate --state-machine \"$STATE_MACHINE_ARN\" --targets thing/dev-7   # + stack defaults";

const UPLOAD_EXAMPLES: &str = "\
Examples:
  ota upload app-v1.4.bin --targets 'thinggroup/Lab thing/dev-7' --profile OtaProfile
  ota upload app-v1.4.bin --targets thinggroup/Lab --start +2h --end +3d --end-behavior CANCEL \\
      --window MON-FRI@02:00/120 --window SAT@01:00/60 --retry 'FAILED:2 TIMED_OUT:3' --timeout 30
  ota upload app-v1.4.bin --manifest manifests/app-1.4.json --no-wait --output json

Exit codes: 0 the job exists (or, with --no-wait, the upload); 2 invalid input,
nothing uploaded; 3 the pipeline failed (its errorType and reason are printed);
4 gave up waiting (the upload stands, the pipeline keeps going); 1 anything else.";

const STATUS_EXAMPLES: &str = "\
Examples:
  ota status firmware/app-v1.4.bin        # its current version
  ota status firmware/app-v1.4.bin --version-id 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY
  ota status AFR_OTA-app-v1_4-8a9caeb409fd --output json
  ota status AFR_OTA-app-v1_4-8a9caeb409fd --devices   # each device, and why it failed";

#[derive(Debug, Parser)]
#[command(
    name = "ota",
    version,
    about = "Upload firmware to the OTA pipeline and follow it to its AWS IoT job.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Readable text.
    Human,
    /// One JSON document on stdout, for scripts.
    Json,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Send every AWS call here instead of the regional endpoint (e.g. the
    /// local emulator, http://127.0.0.1:4566).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region (default: from the environment or the AWS profile).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub output: Output,
    /// The pipeline's state machine (stack output StateMachineArn). Found by
    /// name when there is exactly one OtaUpdateStateMachine in the region.
    #[arg(long, global = true, env = "OTA_STATE_MACHINE_ARN", value_name = "ARN")]
    pub state_machine: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check flags (and a manifest) with the pipeline's own rules; print the
    /// CreateJob request the pipeline would send, or every problem.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Validate, upload with the tags, and follow the pipeline to the job.
    #[command(after_help = UPLOAD_EXAMPLES)]
    Upload(UploadArgs),
    /// Where an upload or a job is: execution, signing, stream, job, failure.
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),
    /// The updates this pipeline created, newest first.
    #[command(after_help = "Examples:\n  ota list\n  ota list --limit 10 --output json")]
    List(ListArgs),
    /// Print the tags (and S3's URL-encoded tagging string) for the flags, for
    /// uploading with other tools.
    Tags(TagsArgs),
    /// Cancel a job the pipeline made (CancelJob): no new devices start it.
    #[command(after_help = CANCEL_EXAMPLES)]
    Cancel(CancelArgs),
    /// Delete a job the pipeline made, its stream and its signed object
    /// version (what DeleteOTAUpdate does); the firmware stays.
    #[command(after_help = DELETE_EXAMPLES)]
    Delete(DeleteArgs),
    /// Run the pipeline again for an uploaded version (after fixing what
    /// made its run fail, or after ota delete): a new run, signed again,
    /// with a job id of its own.
    #[command(after_help = RETRY_EXAMPLES)]
    Retry(RetryArgs),
    /// Watch a job's rollout: a bar per device state, until the job ends.
    #[command(after_help = WATCH_EXAMPLES)]
    Watch(WatchArgs),
    /// A reference device: take the thing's next job as a device library
    /// would, download it (MQTT stream or HTTP), verify it and report.
    #[command(after_help = DEVICE_EXAMPLES)]
    Device(DeviceArgs),
}

const DEVICE_EXAMPLES: &str = "Examples:
  ota device --thing canary-1 --family freertos-ota-agent --cert canary-1.crt --key canary-1.key --signer-cert ecdsa-signer.crt --once
  ota device --thing canary-1 --family aws-iot-jobs-parser --signer-cert ecdsa-signer.crt --once
  ota device --thing nrf-canary --family nrf-aws-fota --out ./flash --once --wait-for-job 600

Transport: MQTT to the account's iot:Data-ATS endpoint, over mutual TLS with
--cert/--key, else over WebSocket signed with SigV4 from the usual credential
chain; the job comes over the Jobs topics and the file over the job's MQTT
stream or its presigned URL, as the device library would take it. With
--transport https, the Jobs device API over HTTPS and HTTP downloads only (a
job the library would stream is left pending).
--endpoint-url names the control-plane endpoint (DescribeEndpoint); the MQTT
endpoint is --iot-endpoint.
As nrf-aws-fota it checks the size only: that document has no signature
(MCUboot verifies the image on the device), as in Nordic's library and sample.
Exit codes: 0 SUCCEEDED (or no job and no --wait-for-job), 3 reported FAILED,
4 no job within --wait-for-job, 1 the agent could not run.";

#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// The thing this device is.
    #[arg(long, value_name = "NAME")]
    pub thing: String,
    /// The device library to behave as: its acceptance rules decide.
    #[arg(long, value_name = "FAMILY", value_parser = parse_family)]
    pub family: ota_core::devices::DeviceFamily,
    /// The code-signing certificate (PEM) whose key verifies the firmware
    /// signature (afr_ota families).
    #[arg(long, value_name = "FILE")]
    pub signer_cert: Option<PathBuf>,
    /// Where downloaded files are written (the stand-in for flash).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub out: PathBuf,
    /// Take one job and exit, instead of going on with each new job.
    #[arg(long)]
    pub once: bool,
    /// With --once, wait this long for a job to be pending (exit 4 if none).
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    pub wait_for_job: u64,
    /// How often to look for a pending job.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub poll: u64,
    /// As aws-iot-jobs-parser: take every file of the document, in order,
    /// as an application looping over otaParser_parseJobDocFile does (a
    /// multi-file release); without it, the first file only. The FreeRTOS
    /// agent always takes the first.
    #[arg(long)]
    pub all_files: bool,
    /// Report progress (statusDetails) every this many percent.
    #[arg(long, default_value_t = 25, value_name = "PERCENT")]
    pub progress_step: u64,
    /// As nrf-aws-fota: the device's CONFIG_AWS_FOTA_FILE_PATH_MAX_LEN (a
    /// presigned URL needs far more than the default 255).
    #[arg(long, default_value_t = 255, value_name = "BYTES")]
    pub nrf_file_path_max_len: usize,
    /// As nrf-aws-fota: CONFIG_AWS_FOTA_HOSTNAME_MAX_LEN.
    #[arg(long, default_value_t = 255, value_name = "BYTES")]
    pub nrf_hostname_max_len: usize,
    /// As nrf-aws-fota: CONFIG_AWS_FOTA_PAYLOAD_SIZE (the whole Jobs message).
    #[arg(long, default_value_t = 1350, value_name = "BYTES")]
    pub nrf_payload_size: usize,
    #[command(flatten)]
    pub connection: DeviceConnectionArgs,
}

/// How `ota device` reaches AWS IoT.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct DeviceConnectionArgs {
    /// mqtt (the Jobs topics and MQTT file streams, as devices connect) or
    /// https (the Jobs device API; HTTP downloads only).
    #[arg(long, value_enum, default_value = "mqtt")]
    pub transport: DeviceTransport,
    /// The thing's certificate (PEM): MQTT over mutual TLS. Without
    /// --cert/--key, MQTT over WebSocket signed with SigV4 from the usual
    /// credential chain.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The MQTT endpoint: HOST[:PORT], or wss://, ws://, mqtts:// URLs
    /// (default: the account's iot:Data-ATS endpoint from DescribeEndpoint;
    /// port 8883 with --cert, 443 over WebSocket).
    #[arg(long, value_name = "HOST")]
    pub iot_endpoint: Option<String>,
    /// Trust anchors for the endpoint's server certificate (PEM; default:
    /// the system's, which hold Amazon Root CA 1).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The MQTT client id (default: the thing name, as AWS IoT policies with
    /// iot:Connection.Thing.IsAttached expect).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// MQTT stream: bytes per block (256-131072; FreeRTOS: 4096).
    #[arg(long, default_value_t = 4096, value_name = "BYTES")]
    pub block_size: u32,
    /// MQTT stream: blocks asked for per GetStream request.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub blocks_per_request: u32,
    /// How long to wait for an MQTT answer or the next stream block before
    /// asking again (FreeRTOS: otaconfigFILE_REQUEST_WAIT_MS, 10 s).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub request_timeout: f64,
    /// MQTT stream: cbor (what FreeRTOS uses) or json.
    #[arg(long, value_enum, default_value = "cbor")]
    pub stream_encoding: StreamEncoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceTransport {
    Mqtt,
    Https,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamEncoding {
    Cbor,
    Json,
}

fn parse_family(s: &str) -> Result<ota_core::devices::DeviceFamily, String> {
    ota_core::devices::DeviceFamily::parse(s)
}

/// One flag per `ota:` tag; lists may be given once space-separated or by
/// repeating the flag.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Request (one flag per ota: tag)")]
pub struct RequestFlags {
    /// ota:targets: `thinggroup/NAME` or `thing/NAME`, space-separated or repeated.
    #[arg(long = "targets", value_name = "TARGETS")]
    pub targets: Vec<String>,
    /// ota:selection: SNAPSHOT or CONTINUOUS.
    #[arg(long, value_name = "SELECTION")]
    pub selection: Option<String>,
    /// ota:description: the job description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// ota:protocols: MQTT, HTTP or both.
    #[arg(long, value_name = "PROTOCOLS")]
    pub protocols: Vec<String>,
    /// ota:file-path: where the device writes the image.
    #[arg(long, value_name = "PATH")]
    pub file_path: Option<String>,
    /// ota:file-type: a number 0-255 the device may use.
    #[arg(long, value_name = "N")]
    pub file_type: Option<String>,
    /// ota:devices: the device families the update is for
    /// (freertos-ota-agent, aws-iot-jobs-parser, nrf-aws-fota); what they
    /// would reject is refused before the upload.
    #[arg(long, value_name = "FAMILY")]
    pub devices: Vec<String>,
    /// ota:format: the job document's shape, afr_ota (FreeRTOS, the
    /// default) or aws_fota (Nordic nRF: HTTP only, not signed).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// ota:firmware-version: fwversion in an aws_fota document.
    #[arg(long, value_name = "VERSION")]
    pub firmware_version: Option<String>,
    /// ota:profile: the AWS Signer signing profile.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// ota:signature: a base64 signature, for pre-signed firmware.
    #[arg(long, value_name = "BASE64")]
    pub signature: Option<String>,
    /// ota:signature-algorithm, for pre-signed firmware (e.g. SHA256withECDSA).
    #[arg(long, value_name = "ALG")]
    pub signature_algorithm: Option<String>,
    /// ota:certfile: the certificate path on the device, for pre-signed firmware.
    #[arg(long, value_name = "PATH")]
    pub certfile: Option<String>,
    /// ota:timeout: in-progress timeout in minutes.
    #[arg(long, value_name = "MINUTES")]
    pub timeout: Option<String>,
    /// ota:retry: `FAILED:N`, `TIMED_OUT:N` or `ALL:N`.
    #[arg(long, value_name = "RETRY")]
    pub retry: Vec<String>,
    /// ota:start: `+2h`, `+30m`, `+1d` or `2026-12-01T02:00` (UTC).
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// ota:end: as --start.
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,
    /// ota:end-behavior: STOP_ROLLOUT, CANCEL or FORCE_CANCEL.
    #[arg(long, value_name = "BEHAVIOR")]
    pub end_behavior: Option<String>,
    /// ota:windows: `DAYS@HH:MM/MINUTES`, e.g. MON-FRI@02:00/120; repeatable.
    #[arg(long = "window", value_name = "WINDOW")]
    pub windows: Vec<String>,
    /// ota:abort: `FAILURE_TYPE:PERCENT:MIN_THINGS`, e.g. FAILED:10:20.
    #[arg(long, value_name = "ABORT")]
    pub abort: Vec<String>,
    /// ota:rollout: e.g. `max:100 base:10 factor:2 succeeded:20`.
    #[arg(long, value_name = "ROLLOUT")]
    pub rollout: Option<String>,
    /// ota:presigned-expiry: presigned URL lifetime in seconds (HTTP).
    #[arg(long, value_name = "SECONDS")]
    pub presigned_expiry: Option<String>,
    /// ota:packages: `PACKAGE@VERSION`, repeatable.
    #[arg(long = "package", value_name = "PACKAGE@VERSION")]
    pub packages: Vec<String>,
    /// ota:register-package: register this upload as that Software Package
    /// Catalog version (draft, published before the job), deployed by the job.
    #[arg(long, value_name = "PACKAGE@VERSION")]
    pub register_package: Option<String>,
    /// ota:register-default=true: also make it the package's default version.
    #[arg(long)]
    pub register_default: bool,
    /// ota:document-values: `literal` (default) or `package` (the document
    /// names the registered version's attributes by substitution parameter).
    #[arg(long, value_name = "literal|package")]
    pub document_values: Option<String>,
    /// ota:job-id: the job id (default: derived from bucket, key and version).
    #[arg(long, value_name = "ID")]
    pub job_id: Option<String>,
    /// ota:manifest: the key of a JSON manifest in the bucket (for what tags
    /// cannot say: raw cron windows, long lists).
    #[arg(long, value_name = "KEY")]
    pub manifest: Option<String>,
    /// Any other tag, `KEY=VALUE`; repeatable. Tags without the `ota:` prefix
    /// are yours and travel with the object.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub extra_tags: Vec<String>,
}

/// The stack's defaults, for requests that rely on them. `upload` (and
/// `validate --state-machine`) read them from the deployed pipeline; these
/// flags override what it says.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Stack defaults")]
pub struct StackDefaults {
    /// Stack parameter DefaultSigningProfile.
    #[arg(long, env = "OTA_DEFAULT_SIGNING_PROFILE", value_name = "NAME")]
    pub default_signing_profile: Option<String>,
    /// Stack parameter DefaultTargets.
    #[arg(long, env = "OTA_DEFAULT_TARGETS", value_name = "TARGETS")]
    pub default_targets: Option<String>,
    /// Stack parameter DefaultProtocols.
    #[arg(long, env = "OTA_DEFAULT_PROTOCOLS", value_name = "PROTOCOLS")]
    pub default_protocols: Option<String>,
    /// Stack parameter DefaultDocumentFormat.
    #[arg(long, env = "OTA_DEFAULT_DOCUMENT_FORMAT", value_name = "FORMAT")]
    pub default_document_format: Option<String>,
    /// Stack parameter DefaultDevices.
    #[arg(long, env = "OTA_DEFAULT_DEVICES", value_name = "FAMILIES")]
    pub default_devices: Option<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The firmware file (its name and size go into the preview).
    pub file: Option<PathBuf>,
    /// The bucket (it shapes the preview; with --state-machine it must be the
    /// pipeline's, which is the default).
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// The object key (default: the upload prefix + the file name).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Check this local manifest file instead of reading --manifest from the
    /// bucket (which needs --state-machine).
    #[arg(long, value_name = "PATH")]
    pub manifest_file: Option<PathBuf>,
    #[command(flatten)]
    pub request: RequestFlags,
    #[command(flatten)]
    pub defaults: StackDefaults,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The firmware file.
    pub file: PathBuf,
    /// The firmware bucket (default: the deployed pipeline's, stack output
    /// FirmwareBucketName).
    #[arg(long, env = "OTA_BUCKET", value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// The object key (default: the pipeline's UploadPrefix + the file name).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Return after the upload instead of following the pipeline.
    #[arg(long)]
    pub no_wait: bool,
    /// Stop following after this many seconds, exit code 4 (the upload
    /// stays, the pipeline keeps going). Default: the pipeline's
    /// MaxSigningWaitSeconds + 600.
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
    #[command(flatten)]
    pub request: RequestFlags,
    #[command(flatten)]
    pub defaults: StackDefaults,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// An object key under the upload prefix, or a job id.
    pub what: String,
    /// The firmware bucket, to look up a key (default: the pipeline's).
    #[arg(long, env = "OTA_BUCKET", value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// The object version (default: the key's current version).
    #[arg(long, value_name = "VERSION_ID")]
    pub version_id: Option<String>,
    /// Also list each device's execution, with the statusDetails of those
    /// that FAILED, were REJECTED or TIMED_OUT.
    #[arg(long)]
    pub devices: bool,
}

const CANCEL_EXAMPLES: &str = "Examples:
  ota cancel firmware/app-v1.4.bin --comment 'boot loop on rev B boards' --reason-code BAD_RELEASE
  ota cancel AFR_OTA-app-v1_4-8a9caeb409fd --force

Without --force, IoT cancels the QUEUED executions only: devices already
IN_PROGRESS may finish. --force cancels those too; they can then no longer
report their status, so make sure each can recover to a valid state.
Exit codes: 0 canceled (or it already was); 2 invalid --comment or
--reason-code, or the job cannot be canceled (COMPLETED, not the pipeline's);
1 anything else.";

const DELETE_EXAMPLES: &str = "Examples:
  ota delete firmware/app-v1.4.bin
  ota delete AFR_OTA-app-v1_4-8a9caeb409fd --force

Deletes the job (waiting for IoT's asynchronous deletion, queued while 10
deletions are in progress), then its stream and the signer's output object
version, unless another job still carries their tag or the pipeline did not
make them. The uploaded firmware stays.
Exit codes: 0 deleted; 2 the job is not COMPLETED or CANCELED (cancel it, or
--force) or not the pipeline's; 4 still deleting after --wait-timeout; 1
anything else.";

const RETRY_EXAMPLES: &str = "Examples:
  ota retry firmware/app-v1.4.bin
  ota retry firmware/app-v1.4.bin --version-id 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY --no-wait

Refused while a run for the version is RUNNING or its job exists (ota delete
it first). The new run reads the version's tags and the manifest as they are
now, counts offsets such as ota:start=+2h from now, signs again and names its
job <job id>-r<N>.
Exit codes as ota upload: 0 the job exists (or, with --no-wait, the run
started); 2 refused; 3 the pipeline failed; 4 gave up waiting; 1 anything else.";

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The object key under the upload prefix.
    pub key: String,
    /// The firmware bucket (default: the pipeline's).
    #[arg(long, env = "OTA_BUCKET", value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// The object version (default: the key's current version).
    #[arg(long, value_name = "VERSION_ID")]
    pub version_id: Option<String>,
    /// Return once the run has started.
    #[arg(long)]
    pub no_wait: bool,
    /// Stop following after this many seconds, exit code 4 (the run keeps
    /// going). Default: the pipeline's MaxSigningWaitSeconds + 600.
    #[arg(long, value_name = "SECONDS")]
    pub wait_timeout: Option<u64>,
}

const WATCH_EXAMPLES: &str = "Examples:
  ota watch firmware/app-v1.4.bin
  ota watch AFR_OTA-app-v1_4-8a9caeb409fd --interval 5 --timeout 3600

On a terminal: one bar per execution state (queued, in progress, succeeded,
failed, timed out, rejected, canceled, removed), redrawn in place; otherwise
one line each time the counts change. Ends when the job is COMPLETED or
CANCELED (or deleted); a CONTINUOUS job never completes, so watch it with
--timeout. `ota status JOB --devices` says which devices failed and why.
Exit codes: 0 the job ended; 4 --timeout reached; 2 not the pipeline's job;
1 anything else.";

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub job: JobRef,
    /// Seconds between looks (DescribeJob).
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub interval: f64,
    /// Stop after this many seconds (exit 4); default: until the job ends.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

/// Which job: a key under the upload prefix (its version's job) or a job id.
#[derive(Debug, Args)]
pub struct JobRef {
    /// An object key under the upload prefix, or a job id.
    pub what: String,
    /// The firmware bucket, to look up a key (default: the pipeline's).
    #[arg(long, env = "OTA_BUCKET", value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// The object version (default: the key's current version).
    #[arg(long, value_name = "VERSION_ID")]
    pub version_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    #[command(flatten)]
    pub job: JobRef,
    /// Also cancel executions that are IN_PROGRESS (CancelJob force).
    #[arg(long)]
    pub force: bool,
    /// Why (CancelJob comment: up to 2028 characters, no control characters).
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// A code for why (CancelJob reasonCode: up to 128 of A-Z, 0-9, _).
    #[arg(long, value_name = "CODE")]
    pub reason_code: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub job: JobRef,
    /// Delete a job that is not COMPLETED or CANCELED (DeleteJob force):
    /// devices still updating can no longer report.
    #[arg(long)]
    pub force: bool,
    /// Give up waiting for IoT's deletion after this many seconds (exit 4).
    #[arg(long, default_value_t = 900, value_name = "SECONDS")]
    pub wait_timeout: u64,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// At most this many updates.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct TagsArgs {
    #[command(flatten)]
    pub request: RequestFlags,
    /// Where a manifest for more than 10 tags' worth of flags goes (the
    /// stack's ManifestPrefix).
    #[arg(long, default_value = "manifests/", value_name = "PREFIX")]
    pub manifest_prefix: String,
}
