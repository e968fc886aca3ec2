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
                           "Dimensions": {name: value}, "Tags": {key: value}}},
         "dashboards": {name: <the dashboard body, parsed JSON>},
         "policies": {group_name: {policy_name: <the DescribePolicies entry as returned,
                                                 always with "Alarms": [...]>}},
         "metric_filters": {log_group: {filter_name: <the DescribeMetricFilters entry as
                            returned, without creationTime>}},
         "composite_alarms": {name: {"AlarmRule", "ActionsEnabled", "AlarmActions",
                                     "OKActions", "InsufficientDataActions",
                                     "AlarmDescription" (those returned),
                                     "Tags": {key: value}}},
         "scalable_targets": {resource_id: <the DescribeScalableTargets entry (namespace
                              ecs) as returned, without CreationTime>},
         "service_policies": {resource_id: {policy_name: <the DescribeScalingPolicies
                              entry (namespace ecs) as returned, without CreationTime
                              and Alarms>}}}
        Topic attributes omit Policy, EffectivePolicy and EffectiveDeliveryPolicy. Alarm
        fields are those DescribeAlarms returns (absent = not set), minus the state and
        timestamp fields; metric-math alarms keep "Metrics" and "ThresholdMetricId" (moto
        also returns "Metrics": [] and "Dimensions": {} where unused). "alarms" has only
        metric alarms. "policies" has every Auto Scaling group as a key, even one without
        policies; moto returns no "Alarms", so it is [] there. "policies" and
        "composite_alarms" are {} when the emulator does not implement the API (moto
        5.2.5 cannot create composite alarms at all). --prefix filters topics, alarms,
        dashboards, composite alarms and policies (by policy name, not group name) by
        name prefix.
    put-alarm NAME [--tag K=V ...] [--threshold N]     -> the alarm, as in dump
        Namespace Foreign, metric M, Sum, 60 s, 1 period, GreaterThanThreshold (default 1).
    create-topic NAME [--tag K=V ...] [--policy JSON]  -> the topic, as in dump
    subscribe TOPIC_NAME PROTOCOL ENDPOINT             -> {"SubscriptionArn": ...}
    set-threshold NAME N                               -> the alarm, as in dump
        Re-puts an existing alarm with every field preserved but the threshold.
        Fails if the alarm does not exist.
    delete-alarm NAME                                  -> {"deleted": NAME}
    put-alarm-raw NAME PUT_METRIC_ALARM_JSON [--tag K=V]... -> the alarm as described
    create-queue NAME [--dlq DLQ_NAME]
        -> {"name", "url", "arn", "attributes": {...}, "dlq": <same shape> | null}
        With --dlq, creates DLQ_NAME first and gives NAME a RedrivePolicy to it with
        maxReceiveCount 5. Attributes are GetQueueAttributes All, as returned (strings).
    create-service CLUSTER SERVICE [--container-insights enabled|disabled] [--health-check]
        -> {"cluster": <DescribeClusters entry with settings>, "service": <DescribeServices
            entry>}
        Creates the cluster if missing (with that containerInsights setting, default
        enabled), a new revision of task definition "awsctl-worker" (its one essential
        container with a healthCheck with --health-check) and the service on that
        revision (EC2 launch type, desired count 1).
    register-target CLUSTER SERVICE [--min N] [--max N]  -> the target, as in dump
        A foreign scalable target (no tags) of the service's DesiredCount.
    put-service-policy CLUSTER SERVICE NAME            -> the policy, as in dump
        A foreign target-tracking policy: ECSServiceAverageCPUUtilization, target 50.
    create-group NAME [--min N] [--max N] [--desired N]
        -> the DescribeAutoScalingGroups entry, as returned
        An Auto Scaling group in us-east-1a from launch template "awsctl-template"
        (created if missing). Defaults: --min 0, --max 1, --desired = --min.
    put-policy GROUP NAME                              -> the policy, as in dump
        A foreign target-tracking policy on GROUP: ASGAverageCPUUtilization, target 50.
        Fails if the group does not exist (moto would accept it).
    list-queues                                        -> [queue name, ...]
    put-metric NAMESPACE NAME [--dim K=V ...] [--value V] [--storage-resolution 1|60]
        -> {"Namespace", "MetricName", "Dimensions", "Value"}
        One data point (value V, default 1, now) of a custom metric: what makes it exist,
        or what an alarm evaluates. StorageResolution is sent only when given.
    alarm-state NAME                                   -> {"StateValue", "StateReason",
                                                           "StateUpdatedTimestamp"}
        Fails if the alarm does not exist.
    receive QUEUE_NAME [--wait SECONDS]
        -> [{"Body": <as received>, "Notification": {"Type", "TopicArn", "Subject",
             "Message": <parsed JSON, else the string>} | null}, ...]
        One ReceiveMessage (up to 10, long-polling SECONDS, default 0); what it receives
        is deleted. Notification is null when the body is not an SNS envelope.
    set-topic-attribute TOPIC_NAME ATTRIBUTE VALUE     -> the topic's attributes, all
        SetTopicAttributes, e.g. Policy with a JSON document.
    create-log-group NAME                              -> {"logGroupName": NAME}
    put-metric-filter GROUP NAME PATTERN               -> the filter, as in dump
        A foreign filter: namespace Foreign, metric M, value 1.
    batch COMMANDS_JSON                                -> [<each command's output>, ...]
        COMMANDS_JSON is a list of argument lists, e.g. [["create-queue", "q"], ["dump"]]:
        each runs in turn in this one process (one interpreter start instead of one per
        command); the first that fails stops the batch and fails it.
    put-dashboard NAME BODY_JSON
        -> {"DashboardName", "DashboardArn", "DashboardBody": <as stored, a string>,
            "DashboardValidationMessages": [...]}
        BODY_JSON is sent verbatim.
"""

import argparse
import datetime
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

# DescribeAlarms fields of a composite alarm that dump shows (those present).
COMPOSITE_ALARM_FIELDS = [
    "AlarmRule",
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
    "AlarmDescription",
]


class Fail(Exception):
    """A usage problem found after argument parsing (e.g. a missing alarm)."""


class Clients:
    """boto3 clients for the emulator, each created on first use."""

    SERVICES = {
        "sns": "sns",
        "cw": "cloudwatch",
        "sqs": "sqs",
        "autoscaling": "autoscaling",
        "ec2": "ec2",
        "logs": "logs",
        "ecs": "ecs",
        "aas": "application-autoscaling",
    }

    def __init__(self, endpoint):
        self._endpoint = endpoint
        self._session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=REGION,
        )
        self._config = botocore.config.Config(
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        )

    def __getattr__(self, attr):
        service = self.SERVICES.get(attr)
        if service is None:
            raise AttributeError(attr)
        client = self._session.client(
            service, endpoint_url=self._endpoint, config=self._config
        )
        setattr(self, attr, client)  # later lookups do not come back here
        return client


def unimplemented(error):
    """Whether a boto error means the emulator does not implement the operation.

    moto answers an unimplemented action with an HTML 500 page; LocalStack with 501
    (InternalFailure "not yet implemented or pro feature").
    """
    if not isinstance(error, botocore.exceptions.ClientError):
        return False
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    code = error.response.get("Error", {}).get("Code", "")
    return status >= 500 or code in {"NotImplemented", "InternalFailure", "500", "501"}


def without_timestamps(entry):
    return {k: v for k, v in entry.items() if not isinstance(v, datetime.datetime)}


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


def composite_alarms(cw, prefix):
    """Composite alarms by name; {} if the emulator does not implement them."""
    kwargs = {"AlarmNamePrefix": prefix} if prefix else {}
    found = []
    try:
        paginator = cw.get_paginator("describe_alarms")
        for page in paginator.paginate(AlarmTypes=["CompositeAlarm"], **kwargs):
            found.extend(page.get("CompositeAlarms", []))
    except botocore.exceptions.ClientError as e:
        if unimplemented(e):
            return {}
        raise
    out = {}
    for alarm in found:
        if not alarm["AlarmName"].startswith(prefix):
            continue
        entry = {k: alarm[k] for k in COMPOSITE_ALARM_FIELDS if k in alarm}
        entry["Tags"] = tag_dict(
            cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
        )
        out[alarm["AlarmName"]] = entry
    return dict(sorted(out.items()))


# ---- dashboards ---------------------------------------------------------------------


def dashboard_names(cw, prefix):
    kwargs = {"DashboardNamePrefix": prefix} if prefix else {}
    for page in cw.get_paginator("list_dashboards").paginate(**kwargs):
        for entry in page.get("DashboardEntries", []):
            if entry["DashboardName"].startswith(prefix):  # do not rely on the server
                yield entry["DashboardName"]


def dashboard_body(cw, name):
    body = cw.get_dashboard(DashboardName=name)["DashboardBody"]
    try:
        return json.loads(body)
    except ValueError:
        return body  # not JSON: shown as the raw string


# ---- queues -------------------------------------------------------------------------


def create_queue(sqs, name, attributes=None):
    params = {"QueueName": name}
    if attributes:
        params["Attributes"] = attributes
    url = sqs.create_queue(**params)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {"name": name, "url": url, "arn": attrs["QueueArn"], "attributes": attrs}


# ---- Auto Scaling -------------------------------------------------------------------

LAUNCH_TEMPLATE = "awsctl-template"
# moto accepts any AMI id in a launch template, and launches instances from it.
LAUNCH_TEMPLATE_DATA = {"ImageId": "ami-12345678", "InstanceType": "t3.micro"}
AVAILABILITY_ZONE = REGION + "a"


def ensure_launch_template(ec2):
    try:
        ec2.describe_launch_templates(LaunchTemplateNames=[LAUNCH_TEMPLATE])
    except botocore.exceptions.ClientError as e:
        if "NotFound" not in e.response.get("Error", {}).get("Code", ""):
            raise
        ec2.create_launch_template(
            LaunchTemplateName=LAUNCH_TEMPLATE, LaunchTemplateData=LAUNCH_TEMPLATE_DATA
        )


def group_names(autoscaling):
    for page in autoscaling.get_paginator("describe_auto_scaling_groups").paginate():
        for group in page.get("AutoScalingGroups", []):
            yield group["AutoScalingGroupName"]


def raw_group(autoscaling, name):
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    for group in groups.get("AutoScalingGroups", []):
        if group["AutoScalingGroupName"] == name:
            return group
    raise Fail(f"Auto Scaling group {name!r} not found")


def describe_policy(policy):
    out = without_timestamps(policy)
    out.setdefault("Alarms", [])  # AWS lists the policy's alarms; moto never does
    return out


def group_policies(autoscaling, group, prefix=""):
    out = {}
    paginator = autoscaling.get_paginator("describe_policies")
    for page in paginator.paginate(AutoScalingGroupName=group):
        for policy in page.get("ScalingPolicies", []):
            # moto keys policies by name only; keep the group check anyway
            if policy.get("AutoScalingGroupName") != group:
                continue
            if policy["PolicyName"].startswith(prefix):
                out[policy["PolicyName"]] = describe_policy(policy)
    return dict(sorted(out.items()))


def all_policies(autoscaling, prefix):
    """{group: {policy: entry}} for every group; {} if Auto Scaling is unimplemented."""
    try:
        return {
            group: group_policies(autoscaling, group, prefix)
            for group in sorted(group_names(autoscaling))
        }
    except botocore.exceptions.ClientError as e:
        if unimplemented(e):
            return {}
        raise


# ---- ECS and Application Auto Scaling ---------------------------------------------


def scalable_targets(aas):
    """Every ECS scalable target by resource id; {} if the emulator lacks the API."""
    out = {}
    try:
        for page in aas.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="ecs"):
            for target in page.get("ScalableTargets", []):
                out[target["ResourceId"]] = without_timestamps(target)
    except botocore.exceptions.ClientError as e:
        if unimplemented(e):
            return {}
        raise
    return dict(sorted(out.items()))


def service_policies(aas, prefix=""):
    """{resource_id: {policy_name: entry}} of ECS policies named with prefix."""
    out = {}
    try:
        for page in aas.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="ecs"):
            for policy in page.get("ScalingPolicies", []):
                if not policy["PolicyName"].startswith(prefix):
                    continue
                entry = without_timestamps(policy)
                entry.pop("Alarms", None)  # created by AWS per policy; moto leaves old ones
                out.setdefault(policy["ResourceId"], {})[policy["PolicyName"]] = entry
    except botocore.exceptions.ClientError as e:
        if unimplemented(e):
            return {}
        raise
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def cmd_create_service(aws, args):
    ecs = aws.ecs
    found = ecs.describe_clusters(clusters=[args.cluster])["clusters"]
    if not [c for c in found if c.get("status") != "INACTIVE"]:
        ecs.create_cluster(
            clusterName=args.cluster,
            settings=[{"name": "containerInsights", "value": args.container_insights}],
        )
    container = {"name": "worker", "image": "worker:latest", "memory": 512, "essential": True}
    if args.health_check:
        # What a worker's check looks like: it fails once progress stops being recorded.
        container["healthCheck"] = {
            "command": ["CMD-SHELL", "find /tmp/progress -mmin -5 | grep -q ."],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 60,
        }
    registered = ecs.register_task_definition(
        family="awsctl-worker",
        containerDefinitions=[container],
    )["taskDefinition"]["taskDefinitionArn"]
    # EC2 launch type without awsvpc: moto 5.2.5 fails on awsvpc without security groups.
    ecs.create_service(
        cluster=args.cluster,
        serviceName=args.service,
        taskDefinition=registered,
        desiredCount=1,
        launchType="EC2",
    )
    cluster = ecs.describe_clusters(clusters=[args.cluster], include=["SETTINGS"])["clusters"][0]
    service = ecs.describe_services(cluster=args.cluster, services=[args.service])["services"][0]
    return {"cluster": cluster, "service": without_timestamps(service)}


def cmd_register_target(aws, args):
    resource = f"service/{args.cluster}/{args.service}"
    aws.aas.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=args.min,
        MaxCapacity=args.max,
    )
    targets = scalable_targets(aws.aas)
    if resource not in targets:
        raise Fail(f"scalable target {resource!r} not found after RegisterScalableTarget")
    return targets[resource]


def cmd_put_service_policy(aws, args):
    resource = f"service/{args.cluster}/{args.service}"
    aws.aas.put_scaling_policy(
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension="ecs:service:DesiredCount",
        PolicyName=args.name,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
            "TargetValue": 50.0,
        },
    )
    policies = service_policies(aws.aas).get(resource, {})
    if args.name not in policies:
        raise Fail(f"policy {args.name!r} not found on {resource!r} after PutScalingPolicy")
    return policies[args.name]


# ---- logs ---------------------------------------------------------------------------


def metric_filters(logs, prefix):
    """Every metric filter by log group and name; {} if the emulator lacks the API."""
    out = {}
    try:
        for page in logs.get_paginator("describe_metric_filters").paginate():
            for entry in page.get("metricFilters", []):
                if not entry["filterName"].startswith(prefix):
                    continue
                entry = {k: v for k, v in entry.items() if k != "creationTime"}
                out.setdefault(entry["logGroupName"], {})[entry["filterName"]] = entry
    except botocore.exceptions.ClientError as e:
        if unimplemented(e):
            return {}
        raise
    return {group: dict(sorted(filters.items())) for group, filters in sorted(out.items())}


def cmd_list_queues(aws, args):
    urls = aws.sqs.list_queues().get("QueueUrls", [])
    return sorted(url.rsplit("/", 1)[-1] for url in urls)


def cmd_put_metric(aws, args):
    dims = [{"Name": t["Key"], "Value": t["Value"]} for t in parse_tags(args.dim)]
    datum = {"MetricName": args.name, "Dimensions": dims, "Value": args.value}
    if args.storage_resolution is not None:
        datum["StorageResolution"] = args.storage_resolution
    aws.cw.put_metric_data(Namespace=args.namespace, MetricData=[datum])
    return {
        "Namespace": args.namespace,
        "MetricName": args.name,
        "Dimensions": dims,
        "Value": args.value,
    }


def cmd_alarm_state(aws, args):
    alarm = raw_alarm(aws.cw, args.name)
    return {k: alarm.get(k) for k in ("StateValue", "StateReason", "StateUpdatedTimestamp")}


def parse_notification(body):
    """An SNS envelope as delivered to SQS (raw delivery off), its Message parsed."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    if not isinstance(envelope, dict) or "Message" not in envelope:
        return None
    out = {k: envelope.get(k) for k in ("Type", "TopicArn", "Subject", "Message")}
    try:
        out["Message"] = json.loads(envelope["Message"])
    except (TypeError, ValueError):
        pass  # not JSON: kept as the raw string
    return out


def cmd_receive(aws, args):
    sqs = aws.sqs
    url = sqs.get_queue_url(QueueName=args.queue)["QueueUrl"]
    resp = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=args.wait
    )
    out = []
    for message in resp.get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        out.append(
            {"Body": message["Body"], "Notification": parse_notification(message["Body"])}
        )
    return out


def cmd_set_topic_attribute(aws, args):
    sns = aws.sns
    arn = topic_arn_by_name(sns, args.topic)
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName=args.attribute, AttributeValue=args.value
    )
    return sns.get_topic_attributes(TopicArn=arn)["Attributes"]


def cmd_create_log_group(aws, args):
    aws.logs.create_log_group(logGroupName=args.name)
    return {"logGroupName": args.name}


def cmd_put_metric_filter(aws, args):
    aws.logs.put_metric_filter(
        logGroupName=args.group,
        filterName=args.name,
        filterPattern=args.pattern,
        metricTransformations=[
            {"metricName": "M", "metricNamespace": "Foreign", "metricValue": "1"}
        ],
    )
    return metric_filters(aws.logs, args.name)[args.group][args.name]


# ---- commands -----------------------------------------------------------------------


def cmd_dump(aws, args):
    sns, cw = aws.sns, aws.cw
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
    dashboards = {name: dashboard_body(cw, name) for name in dashboard_names(cw, prefix)}
    return {
        "topics": dict(sorted(topics.items())),
        "alarms": dict(sorted(alarms.items())),
        "dashboards": dict(sorted(dashboards.items())),
        "policies": all_policies(aws.autoscaling, prefix),
        "metric_filters": metric_filters(aws.logs, prefix),
        "composite_alarms": composite_alarms(cw, prefix),
        "scalable_targets": scalable_targets(aws.aas),
        "service_policies": service_policies(aws.aas, prefix),
    }


def cmd_put_alarm(aws, args):
    cw = aws.cw
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


def cmd_put_alarm_raw(aws, args):
    """An alarm as a console user clicks it: PutMetricAlarm with these exact parameters
    (a JSON object), tags given as K=V."""
    cw = aws.cw
    params = json.loads(args.params)
    params["AlarmName"] = args.name
    tags = parse_tags(args.tag)
    if tags:
        params["Tags"] = tags
    cw.put_metric_alarm(**params)
    return describe_alarm(cw, raw_alarm(cw, args.name))


def cmd_create_topic(aws, args):
    sns = aws.sns
    params = {"Name": args.name}
    tags = parse_tags(args.tag)
    if tags:
        params["Tags"] = tags
    arn = sns.create_topic(**params)["TopicArn"]
    if args.policy is not None:
        # A foreign topic with its own access policy (a team's pager topic, say).
        sns.set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=args.policy
        )
    return describe_topic(sns, arn)


def cmd_subscribe(aws, args):
    sns = aws.sns
    arn = topic_arn_by_name(sns, args.topic)
    resp = sns.subscribe(
        TopicArn=arn,
        Protocol=args.protocol,
        Endpoint=args.subscription_endpoint,
        ReturnSubscriptionArn=True,
    )
    return {"SubscriptionArn": resp["SubscriptionArn"]}


def cmd_set_threshold(aws, args):
    cw = aws.cw
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


def cmd_delete_alarm(aws, args):
    cw = aws.cw
    raw_alarm(cw, args.name)  # moto silently accepts deleting a missing alarm
    cw.delete_alarms(AlarmNames=[args.name])
    return {"deleted": args.name}


def cmd_create_queue(aws, args):
    sqs = aws.sqs
    dlq = None
    attributes = {}
    if args.dlq:
        dlq = create_queue(sqs, args.dlq)
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq["arn"], "maxReceiveCount": 5},
            separators=(",", ":"),
        )
    if args.visibility_timeout is not None:
        attributes["VisibilityTimeout"] = str(args.visibility_timeout)
    queue = create_queue(sqs, args.name, attributes)
    queue["dlq"] = dlq
    return queue


def cmd_create_group(aws, args):
    desired = args.min if args.desired is None else args.desired
    if not args.min <= desired <= args.max:
        raise Fail(f"need --min <= --desired <= --max, got {args.min}, {desired}, {args.max}")
    ensure_launch_template(aws.ec2)
    aws.autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=args.name,
        LaunchTemplate={"LaunchTemplateName": LAUNCH_TEMPLATE, "Version": "$Latest"},
        MinSize=args.min,
        MaxSize=args.max,
        DesiredCapacity=desired,
        AvailabilityZones=[AVAILABILITY_ZONE],
    )
    return raw_group(aws.autoscaling, args.name)


def cmd_put_policy(aws, args):
    autoscaling = aws.autoscaling
    raw_group(autoscaling, args.group)
    autoscaling.put_scaling_policy(
        AutoScalingGroupName=args.group,
        PolicyName=args.name,
        PolicyType="TargetTrackingScaling",
        TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ASGAverageCPUUtilization"
            },
            "TargetValue": 50.0,
        },
    )
    policies = group_policies(autoscaling, args.group)
    if args.name not in policies:
        raise Fail(f"policy {args.name!r} not found on {args.group!r} after PutScalingPolicy")
    return policies[args.name]


def cmd_put_dashboard(aws, args):
    cw = aws.cw
    resp = cw.put_dashboard(DashboardName=args.name, DashboardBody=args.body)
    got = cw.get_dashboard(DashboardName=args.name)
    return {
        "DashboardName": got["DashboardName"],
        "DashboardArn": got["DashboardArn"],
        "DashboardBody": got["DashboardBody"],
        "DashboardValidationMessages": resp.get("DashboardValidationMessages", []),
    }


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

    p = sub.add_parser("put-alarm-raw")
    p.add_argument("name")
    p.add_argument("params", metavar="PUT_METRIC_ALARM_JSON")
    p.add_argument("--tag", action="append", metavar="K=V")
    p.set_defaults(func=cmd_put_alarm_raw)

    p = sub.add_parser("create-topic")
    p.add_argument("name")
    p.add_argument("--tag", action="append", metavar="K=V")
    p.add_argument("--policy", metavar="JSON", help="the topic's access policy")
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

    p = sub.add_parser("create-queue")
    p.add_argument("name")
    p.add_argument("--dlq", metavar="DLQ_NAME")
    # Seconds a received message stays invisible (SQS's default is 30).
    p.add_argument("--visibility-timeout", type=int, metavar="SECONDS")
    p.set_defaults(func=cmd_create_queue)

    p = sub.add_parser("create-group")
    p.add_argument("name")
    p.add_argument("--min", type=int, default=0)
    p.add_argument("--max", type=int, default=1)
    p.add_argument("--desired", type=int)
    p.set_defaults(func=cmd_create_group)

    p = sub.add_parser("create-service")
    p.add_argument("cluster", metavar="CLUSTER")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("--container-insights", choices=["enabled", "disabled"], default="enabled")
    p.add_argument("--health-check", action="store_true",
                   help="the task definition's container declares a healthCheck")
    p.set_defaults(func=cmd_create_service)

    p = sub.add_parser("register-target")
    p.add_argument("cluster", metavar="CLUSTER")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("--min", type=int, default=0)
    p.add_argument("--max", type=int, default=4)
    p.set_defaults(func=cmd_register_target)

    p = sub.add_parser("put-service-policy")
    p.add_argument("cluster", metavar="CLUSTER")
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_put_service_policy)

    p = sub.add_parser("put-policy")
    p.add_argument("group", metavar="GROUP")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_put_policy)

    p = sub.add_parser("list-queues")
    p.set_defaults(func=cmd_list_queues)

    p = sub.add_parser("put-metric")
    p.add_argument("namespace", metavar="NAMESPACE")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--dim", action="append", metavar="K=V")
    p.add_argument("--value", type=float, default=1.0)
    p.add_argument("--storage-resolution", type=int, choices=[1, 60])
    p.set_defaults(func=cmd_put_metric)

    p = sub.add_parser("alarm-state")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_alarm_state)

    p = sub.add_parser("receive")
    p.add_argument("queue", metavar="QUEUE_NAME")
    p.add_argument("--wait", type=int, default=0, metavar="SECONDS")
    p.set_defaults(func=cmd_receive)

    p = sub.add_parser("set-topic-attribute")
    p.add_argument("topic", metavar="TOPIC_NAME")
    p.add_argument("attribute", metavar="ATTRIBUTE")
    p.add_argument("value", metavar="VALUE")
    p.set_defaults(func=cmd_set_topic_attribute)

    p = sub.add_parser("create-log-group")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_create_log_group)

    p = sub.add_parser("put-metric-filter")
    p.add_argument("group", metavar="GROUP")
    p.add_argument("name", metavar="NAME")
    p.add_argument("pattern", metavar="PATTERN")
    p.set_defaults(func=cmd_put_metric_filter)

    p = sub.add_parser("put-dashboard")
    p.add_argument("name", metavar="NAME")
    p.add_argument("body", metavar="BODY_JSON")
    p.set_defaults(func=cmd_put_dashboard)

    p = sub.add_parser("batch")
    p.add_argument("commands", metavar="COMMANDS_JSON")
    p.set_defaults(func=None)

    args = parser.parse_args(argv)
    if args.command == "batch":
        try:
            commands = json.loads(args.commands)
            if not isinstance(commands, list) or not all(
                isinstance(c, list) and c and all(isinstance(a, str) for a in c)
                for c in commands
            ):
                raise ValueError("expected a list of non-empty lists of strings")
        except ValueError as e:
            print(f"awsctl batch: {e}", file=sys.stderr)
            return 1
        if any(c[0] == "batch" for c in commands):
            print("awsctl batch: a batch cannot hold a batch", file=sys.stderr)
            return 1
        steps = [parser.parse_args(["--endpoint", args.endpoint, *c]) for c in commands]
        args.func = lambda aws, _: [step.func(aws, step) for step in steps]
    if not args.endpoint.startswith(("http://127.0.0.1:", "http://localhost:")):
        print(f"awsctl: refusing non-local endpoint {args.endpoint!r}", file=sys.stderr)
        return 1
    aws = Clients(args.endpoint)
    try:
        result = args.func(aws, args)
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
