#!/usr/bin/env python3
"""The operator hears of trouble: template.yaml's alarms cover what docs/deploy.md promises.

- Every function has an Errors and a Throttles alarm on its own name.
- The delivery dead-letter queue, the table's and its indexes' throttles, the API's 5xx and
  the forwarder's set-aside items (the metric the code writes: namespace and name read from
  shared/webhooks/src/metrics.rs) each have an alarm.
- Every alarm notifies AlarmTopic when it fires and when it clears.
- docs/deploy.md names every alarm (the per-function ones as `<Function>ErrorsAlarm`).

Usage: check_alarms.py [template.yaml]. Exits 1 and names every gap.
"""
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Loader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Ref X, !GetAtt X.Y, ...) as {"Tag": value}."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix: value}


Loader.add_multi_constructor("!", _tag)

template_path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "template.yaml"
resources = yaml.load(template_path.read_text(), Loader=Loader)["Resources"]
alarms = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
functions = [n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
gaps = []


def dims(props):
    return {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}


def find(namespace, metric, **dimensions):
    return [
        n for n, p in alarms.items()
        if p.get("Namespace") == namespace and p.get("MetricName") == metric
        and all(dims(p).get(k) == v for k, v in dimensions.items())
    ]


for f in functions:
    for metric in ("Errors", "Throttles"):
        if not find("AWS/Lambda", metric, FunctionName={"Ref": f}):
            gaps.append(f"{f}: no {metric} alarm")

metrics_rs = (ROOT / "shared/webhooks/src/metrics.rs").read_text()
namespace = re.search(r'pub const NAMESPACE: &str = "([^"]+)"', metrics_rs).group(1)
set_aside = re.search(r'pub const ITEMS_SET_ASIDE: &str = "([^"]+)"', metrics_rs).group(1)
wanted = {
    "dead letters": find("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                         QueueName={"GetAtt": "DeliveryDeadLetterQueue.QueueName"}),
    "items set aside": find(namespace, set_aside),
    "table read throttles": find("AWS/DynamoDB", "ReadThrottleEvents", TableName={"Ref": "Table"}),
    "table write throttles": find("AWS/DynamoDB", "WriteThrottleEvents", TableName={"Ref": "Table"}),
    "API 5xx": find("AWS/ApiGateway", "5xx", ApiId={"Ref": "HttpApi"}),
}
indexes = [g["IndexName"] for g in resources["Table"]["Properties"].get("GlobalSecondaryIndexes", [])]
for index in indexes:
    wanted[f"{index} write throttles"] = find(
        "AWS/DynamoDB", "WriteThrottleEvents", TableName={"Ref": "Table"}, GlobalSecondaryIndexName=index)
gaps += [f"no alarm on {what}" for what, found in wanted.items() if not found]

for name, p in alarms.items():
    for actions in ("AlarmActions", "OKActions"):
        if {"Ref": "AlarmTopic"} not in p.get(actions, []):
            gaps.append(f"{name}: {actions} does not notify AlarmTopic")

deploy = (ROOT / "docs/deploy.md").read_text()
per_function = re.compile(r"(%s)(Errors|Throttles)Alarm$" % "|".join(f.removesuffix("Function") for f in functions))
for name in alarms:
    m = per_function.match(name)
    named = f"<Function>{m.group(2)}Alarm" if m else name
    if named not in deploy:
        gaps.append(f"docs/deploy.md does not name {named}")

if gaps:
    print("\n".join(gaps))
    sys.exit(1)
print(f"{len(alarms)} alarms: {len(functions)} functions (errors, throttles), dead letters, "
      f"items set aside, table and {len(indexes)} index throttles, API 5xx; all notify AlarmTopic")
