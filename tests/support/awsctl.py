#!/usr/bin/env python3
"""Independent boto3 client for the integration tests (never talks to real AWS).

Reads and changes the state of a local emulator without going through monplan, so tests
can check what monplan really created and simulate changes made behind its back.

    awsctl.py --endpoint http://127.0.0.1:PORT <command> ...

Commands (each prints JSON to stdout; on an AWS/boto error prints it to stderr, exits 1):

    dump [--prefix P]
        {"topics": {name: {"name", "arn", "attributes": {...}, "tags": {...},
                           "subscriptions": [{"protocol", "endpoint", "arn"}, ...]}},
         "alarms": {name: {"AlarmName", "AlarmArn", <configuration fields as returned>,
                           "Dimensions": {name: value}, "Tags": {key: value}}}}
        Topic attributes omit Policy, EffectivePolicy and EffectiveDeliveryPolicy. Alarm
        fields are those DescribeAlarms returns (absent = not set), minus the state and
        timestamp fields. Only metric alarms. --prefix filters both by name prefix.
    put-alarm NAME [--tag K=V ...] [--threshold N]     -> the alarm, as in dump
        Namespace Foreign, metric M, Sum, 60 s, 1 period, GreaterThanThreshold (default 1).
    create-topic NAME [--tag K=V ...]                  -> the topic, as in dump
    subscribe TOPIC_NAME PROTOCOL ENDPOINT             -> {"SubscriptionArn": ...}
    set-threshold NAME N                               -> the alarm, as in dump
        Re-puts an existing alarm with every field preserved but the threshold.
    delete-alarm NAME                                  -> {"deleted": NAME}
        Fails if the alarm does not exist.
"""

import argparse
import json
import sys

import boto3
import botocore.config
import botocore.exceptions

REGION = "us-east-1"

TOPIC_ATTRIBUTES_OMITTED = {"Policy", "EffectivePolicy", "EffectiveDeliveryPolicy"}

# DescribeAlarms fields that describe the alarm's state rather than its configuration.
ALARM_FIELDS_OMITTED = {
    "StateValue",
    "StateReason",
    "StateReasonData",
    "StateUpdatedTimestamp",
    "StateTransitionedTimestamp",
    "AlarmConfigurationUpdatedTimestamp",
}

# PutMetricAlarm parameters that DescribeAlarms returns under the same name.
PUT_ALARM_FIELDS = [
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
]


class Fail(Exception):
    """A usage problem found after argument parsing (e.g. a missing alarm)."""


def clients(endpoint):
    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=REGION,
    )
    config = botocore.config.Config(
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    return (
        session.client("sns", endpoint_url=endpoint, config=config),
        session.client("cloudwatch", endpoint_url=endpoint, config=config),
    )


def parse_tags(pairs):
    tags = []
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise Fail(f"--tag expects KEY=VALUE, got {pair!r}")
        tags.append({"Key": key, "Value": value})
    return tags


def tag_dict(tags):
    return {t["Key"]: t["Value"] for t in tags}


# ---- topics -------------------------------------------------------------------------


def topic_arns(sns):
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            yield topic["TopicArn"]


def topic_arn_by_name(sns, name):
    for arn in topic_arns(sns):
        if arn.split(":")[-1] == name:
            return arn
    raise Fail(f"topic {name!r} not found")


def describe_topic(sns, arn):
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    subscriptions = []
    paginator = sns.get_paginator("list_subscriptions_by_topic")
    for page in paginator.paginate(TopicArn=arn):
        for sub in page.get("Subscriptions", []):
            subscriptions.append(
                {
                    "protocol": sub["Protocol"],
                    "endpoint": sub["Endpoint"],
                    "arn": sub["SubscriptionArn"],
                }
            )
    subscriptions.sort(key=lambda s: (s["protocol"], s["endpoint"], s["arn"]))
    return {
        "name": arn.split(":")[-1],
        "arn": arn,
        "attributes": {
            k: v for k, v in attributes.items() if k not in TOPIC_ATTRIBUTES_OMITTED
        },
        "tags": tag_dict(sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])),
        "subscriptions": subscriptions,
    }


# ---- alarms -------------------------------------------------------------------------


def raw_alarms(cw, **kwargs):
    paginator = cw.get_paginator("describe_alarms")
    for page in paginator.paginate(AlarmTypes=["MetricAlarm"], **kwargs):
        yield from page.get("MetricAlarms", [])


def raw_alarm(cw, name):
    for alarm in raw_alarms(cw, AlarmNames=[name]):
        if alarm["AlarmName"] == name:
            return alarm
    raise Fail(f"alarm {name!r} not found")


def describe_alarm(cw, alarm):
    out = {k: v for k, v in alarm.items() if k not in ALARM_FIELDS_OMITTED}
    if "Dimensions" in out:
        out["Dimensions"] = {d["Name"]: d["Value"] for d in out["Dimensions"]}
    out["Tags"] = tag_dict(
        cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
    )
    return out


# ---- commands -----------------------------------------------------------------------


def cmd_dump(sns, cw, args):
    prefix = args.prefix or ""
    topics = {}
    for arn in topic_arns(sns):
        if arn.split(":")[-1].startswith(prefix):
            topic = describe_topic(sns, arn)
            topics[topic["name"]] = topic
    alarms = {}
    kwargs = {"AlarmNamePrefix": prefix} if prefix else {}
    for alarm in raw_alarms(cw, **kwargs):
        if alarm["AlarmName"].startswith(prefix):  # do not rely on the server filtering
            alarms[alarm["AlarmName"]] = describe_alarm(cw, alarm)
    return {
        "topics": dict(sorted(topics.items())),
        "alarms": dict(sorted(alarms.items())),
    }


def cmd_put_alarm(sns, cw, args):
    params = {
        "AlarmName": args.name,
        "Namespace": "Foreign",
        "MetricName": "M",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": args.threshold,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    tags = parse_tags(args.tag)
    if tags:
        params["Tags"] = tags
    cw.put_metric_alarm(**params)
    return describe_alarm(cw, raw_alarm(cw, args.name))


def cmd_create_topic(sns, cw, args):
    params = {"Name": args.name}
    tags = parse_tags(args.tag)
    if tags:
        params["Tags"] = tags
    arn = sns.create_topic(**params)["TopicArn"]
    return describe_topic(sns, arn)


def cmd_subscribe(sns, cw, args):
    arn = topic_arn_by_name(sns, args.topic)
    resp = sns.subscribe(
        TopicArn=arn,
        Protocol=args.protocol,
        Endpoint=args.subscription_endpoint,
        ReturnSubscriptionArn=True,
    )
    return {"SubscriptionArn": resp["SubscriptionArn"]}


def cmd_set_threshold(sns, cw, args):
    alarm = raw_alarm(cw, args.name)
    params = {k: alarm[k] for k in PUT_ALARM_FIELDS if k in alarm}
    # DescribeAlarms returns "Metrics": [] for single-metric alarms; PutMetricAlarm must
    # not get both a metric and an (empty) Metrics list.
    if not params.get("Metrics"):
        params.pop("Metrics", None)
    else:
        for key in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic",
                    "Dimensions", "Period", "Unit"):
            params.pop(key, None)
    params["Threshold"] = args.threshold
    # No Tags: on an existing alarm AWS ignores them (moto would merge them); the
    # alarm's tags stay as they are.
    cw.put_metric_alarm(**params)
    return describe_alarm(cw, raw_alarm(cw, args.name))


def cmd_delete_alarm(sns, cw, args):
    raw_alarm(cw, args.name)  # moto silently accepts deleting a missing alarm
    cw.delete_alarms(AlarmNames=[args.name])
    return {"deleted": args.name}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="awsctl.py", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="emulator URL, e.g. http://127.0.0.1:5000")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("dump")
    p.add_argument("--prefix")
    p.set_defaults(func=cmd_dump)

    p = sub.add_parser("put-alarm")
    p.add_argument("name")
    p.add_argument("--tag", action="append", metavar="K=V")
    p.add_argument("--threshold", type=float, default=1.0)
    p.set_defaults(func=cmd_put_alarm)

    p = sub.add_parser("create-topic")
    p.add_argument("name")
    p.add_argument("--tag", action="append", metavar="K=V")
    p.set_defaults(func=cmd_create_topic)

    p = sub.add_parser("subscribe")
    p.add_argument("topic", metavar="TOPIC_NAME")
    p.add_argument("protocol")
    # dest must differ from the global --endpoint, which it would overwrite
    p.add_argument("subscription_endpoint", metavar="ENDPOINT")
    p.set_defaults(func=cmd_subscribe)

    p = sub.add_parser("set-threshold")
    p.add_argument("name")
    p.add_argument("threshold", type=float)
    p.set_defaults(func=cmd_set_threshold)

    p = sub.add_parser("delete-alarm")
    p.add_argument("name")
    p.set_defaults(func=cmd_delete_alarm)

    args = parser.parse_args(argv)
    if not args.endpoint.startswith(("http://127.0.0.1:", "http://localhost:")):
        print(f"awsctl: refusing non-local endpoint {args.endpoint!r}", file=sys.stderr)
        return 1
    sns, cw = clients(args.endpoint)
    try:
        result = args.func(sns, cw, args)
    except Fail as e:
        print(f"awsctl {args.command}: {e}", file=sys.stderr)
        return 1
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        print(f"awsctl {args.command}: {e}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
