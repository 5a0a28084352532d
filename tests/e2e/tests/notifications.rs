//! What a subscriber sees: the pipeline's "OTA Update Created" and "OTA
//! Update Failed" events on the default EventBridge bus (source
//! ota.pipeline), delivered by a rule the test makes as a user would, to an
//! SQS queue. A folder marker, which the pipeline skips, emits nothing.
//! The clean-up sweep and its Completed event: `clean_up_sweep.rs` (beside
//! this file, as a module: the same subscription helpers).
//! `#[ignore]`d: scripts/test.sh runs it with --ignored on the deployed stack.

#[path = "notifications/clean_up_sweep.rs"]
mod clean_up_sweep;

use e2e::{firmware, Local};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A rule on the pipeline's events with a queue of its own as the target;
/// the queue URL.
async fn subscribe(l: &Local, name: &str, detail_types: &[&str]) -> String {
    let sqs = aws_sdk_sqs::Client::new(&l.config);
    let events = aws_sdk_eventbridge::Client::new(&l.config);
    let queue = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("CreateQueue");
    let url = queue.queue_url().expect("queue url").to_string();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("queue arn")
        .clone();
    // What EventBridge needs to deliver to a queue (EventBridge user
    // guide, "Amazon SQS permissions").
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": arn}]});
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::Policy,
            policy.to_string(),
        )
        .send()
        .await
        .expect("SetQueueAttributes");
    let pattern = json!({"source": ["ota.pipeline"], "detail-type": detail_types});
    events
        .put_rule()
        .name(name)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .expect("PutRule");
    events
        .put_targets()
        .rule(name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("PutTargets");
    url
}

/// Every event on the queue so far (removed from it).
async fn drain(l: &Local, url: &str) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(&l.config);
    let mut out = Vec::new();
    loop {
        let r = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("ReceiveMessage");
        if r.messages().is_empty() {
            return out;
        }
        for m in r.messages() {
            out.push(serde_json::from_str(m.body().unwrap_or("null")).expect("event JSON"));
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
}

/// The first event of `detail_type` about `key`, waiting up to a minute;
/// every event seen meanwhile goes into `seen`.
async fn event_for(
    l: &Local,
    url: &str,
    detail_type: &str,
    key: &str,
    seen: &mut Vec<Value>,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        seen.extend(drain(l, url).await);
        if let Some(e) = seen
            .iter()
            .find(|e| e["detail-type"] == detail_type && e["detail"]["source"]["key"] == key)
        {
            return e.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {detail_type} event for {key}: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn a_rule_on_the_pipeline_events_hears_created_and_failed_and_nothing_for_a_folder_marker() {
    let l = Local::connect().await;
    let name = format!("ota-events-{}", std::process::id());
    let url = subscribe(&l, &name, &["OTA Update Created", "OTA Update Failed"]).await;
    let mut seen = Vec::new();

    // A folder marker first: the pipeline skips it.
    let folder = format!("{}/", l.unique_key("events-folder"));
    let folder_version = l
        .upload(&folder, &[], &[("ota:targets", "thinggroup/Lab")])
        .await;
    l.wait_for(&folder, &folder_version, 1).await[0].assert_succeeded();

    let good = l
        .update(
            "events-ok",
            &firmware(5_000, 21),
            &[("ota:targets", "thinggroup/Lab")],
        )
        .await;
    let created = event_for(&l, &url, "OTA Update Created", &good.key, &mut seen).await;
    let d = &created["detail"];
    assert_eq!(created["source"], "ota.pipeline");
    assert_eq!(d["jobId"], good.job_id.as_str());
    assert!(
        d["jobArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(&format!("job/{}", good.job_id))),
        "{d}"
    );
    assert_eq!(
        d["consoleUrl"],
        format!("https://us-east-1.console.aws.amazon.com/iot/home?region=us-east-1#/jobhub/jobdetails/{}", good.job_id).as_str()
    );
    assert_eq!(
        d["source"],
        json!({"bucket": l.bucket, "key": good.key, "versionId": good.version})
    );
    assert!(
        d["executionArn"]
            .as_str()
            .is_some_and(|a| a.contains(":execution:")),
        "{d}"
    );
    assert_eq!(d["stateMachineArn"], l.state_machine.as_str());

    let bad = l.unique_key("events-bad");
    let bad_version = l
        .upload(
            &bad,
            &firmware(1_000, 22),
            &[
                ("ota:targets", "thinggroup/Lab"),
                ("ota:retry", "FAILED:11"),
            ],
        )
        .await;
    let failed = event_for(&l, &url, "OTA Update Failed", &bad, &mut seen).await;
    let d = &failed["detail"];
    assert_eq!(d["errorType"], "InvalidRequest");
    assert!(
        d["cause"].as_str().is_some_and(|c| c.contains("ota:retry")),
        "{d}"
    );
    assert_eq!(
        d["source"],
        json!({"bucket": l.bucket, "key": bad, "versionId": bad_version})
    );
    let run = l.wait_for(&bad, &bad_version, 1).await;
    assert_eq!(d["executionArn"], run[0].arn.as_str());

    // Both later runs have ended: anything the folder marker put would be here.
    seen.extend(drain(&l, &url).await);
    assert!(
        !seen
            .iter()
            .any(|e| e["detail"]["source"]["key"] == folder.as_str()),
        "a skipped folder marker emits nothing: {seen:?}"
    );
    unsubscribe(&l, &name, &url).await;
}

async fn unsubscribe(l: &Local, name: &str, url: &str) {
    let events = aws_sdk_eventbridge::Client::new(&l.config);
    events
        .remove_targets()
        .rule(name)
        .ids("queue")
        .send()
        .await
        .expect("RemoveTargets");
    events
        .delete_rule()
        .name(name)
        .send()
        .await
        .expect("DeleteRule");
    aws_sdk_sqs::Client::new(&l.config)
        .delete_queue()
        .queue_url(url)
        .send()
        .await
        .expect("DeleteQueue");
}

/// The SNS route (stack parameter NotificationTopicArn; `localaws prepare`
/// makes the topic with an SQS queue subscribed, raw delivery): the
/// pipeline's events reach the topic's subscriber through the stack's
/// NotificationRule.
#[tokio::test]
#[ignore = "needs the deployed local stack: scripts/test.sh runs it with --ignored"]
async fn the_stacks_notification_rule_delivers_the_events_to_the_sns_topic() {
    let l = Local::connect().await;
    let url = std::fs::read_to_string(e2e::local_dir().join("notification-queue-url"))
        .expect("localaws prepare wrote the notification queue's URL")
        .trim()
        .to_string();
    let bad = l.unique_key("sns-bad");
    let version = l
        .upload(
            &bad,
            &firmware(1_000, 23),
            &[
                ("ota:targets", "thinggroup/Lab"),
                ("ota:retry", "FAILED:11"),
            ],
        )
        .await;
    let mut seen = Vec::new();
    let failed = event_for(&l, &url, "OTA Update Failed", &bad, &mut seen).await;
    assert_eq!(failed["source"], "ota.pipeline");
    assert_eq!(failed["detail"]["errorType"], "InvalidRequest");
    assert_eq!(failed["detail"]["source"]["versionId"], version.as_str());
}
