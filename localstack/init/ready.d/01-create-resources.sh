#!/bin/bash
# LocalStack runs this once it is ready (mounted at /etc/localstack/init/ready.d by ../../docker-compose.yml).
# It creates:
#   1. the SSM parameters `serverless deploy --stage local` resolves (CloudFormation dynamic references);
#   2. the `tugboat` table and promotions queues, for running Tugboat's code on your machine against LocalStack
#      without deploying (the names `npm start` and the tests use). A `--stage local` deploy creates its own
#      `tugboat-local` table and queues through CloudFormation.
# The JSON it reads is generated from lib/ by `npx tsx localstack/resources.ts`. Safe to run again.
set -euo pipefail

RES=${TUGBOAT_RESOURCES_DIR:-/etc/localstack/tugboat}
STAGE=${TUGBOAT_STAGE:-local}

json_string() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }
json_field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# String parameters (CloudFormation cannot put `ssm-secure` references into Lambda environment variables).
# --cli-input-json keeps the AWS CLI from fetching values that look like URLs.
put_parameter() {
  local name=$1 value=$2
  if awslocal ssm get-parameter --name "$name" >/dev/null 2>&1; then
    echo "tugboat: SSM $name exists"
    return
  fi
  awslocal ssm put-parameter --cli-input-json \
    "{\"Name\": $(json_string "$name"), \"Type\": \"String\", \"Value\": $(json_string "$value")}" >/dev/null
  echo "tugboat: SSM $name created"
}

put_parameter "/tugboat/$STAGE/encryption-key" "$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
put_parameter "/tugboat/$STAGE/admin-token" "${TUGBOAT_ADMIN_TOKEN:-tb_local_admin_token}"
# Argo CD only when configured (then deploy with --param="argocd=ssm"; the local stage defaults to none).
if [ -n "${ARGOCD_SERVER:-}" ]; then
  put_parameter "/tugboat/$STAGE/argocd-server" "$ARGOCD_SERVER"
  put_parameter "/tugboat/$STAGE/argocd-auth-token" "${ARGOCD_AUTH_TOKEN:?ARGOCD_AUTH_TOKEN is required with ARGOCD_SERVER}"
  put_parameter "/tugboat/$STAGE/argocd-insecure" "${ARGOCD_INSECURE:-false}"
fi

TABLE=$(json_field "$RES/table.json" TableName)
if awslocal dynamodb describe-table --table-name "$TABLE" >/dev/null 2>&1; then
  echo "tugboat: table $TABLE exists"
else
  awslocal dynamodb create-table --cli-input-json "file://$RES/table.json" >/dev/null
  awslocal dynamodb wait table-exists --table-name "$TABLE"
  awslocal dynamodb update-time-to-live --cli-input-json "file://$RES/table-ttl.json" >/dev/null
  echo "tugboat: table $TABLE created"
fi

DLQ_NAME=$(json_field "$RES/queues.json" promotionsDlq)
QUEUE_NAME=$(json_field "$RES/queues.json" promotions)
DLQ_URL=$(awslocal sqs create-queue --queue-name "$DLQ_NAME" \
  --attributes "file://$RES/promotions-dlq-attributes.json" --query QueueUrl --output text)
DLQ_ARN=$(awslocal sqs get-queue-attributes --queue-url "$DLQ_URL" --attribute-names QueueArn \
  --query Attributes.QueueArn --output text)
ATTRIBUTES=$(sed "s|__DEAD_LETTER_TARGET_ARN__|$DLQ_ARN|" "$RES/promotions-attributes.json")
QUEUE_URL=$(awslocal sqs create-queue --queue-name "$QUEUE_NAME" --attributes "$ATTRIBUTES" \
  --query QueueUrl --output text)
echo "tugboat: queues $QUEUE_URL (dead letters: $DLQ_URL)"
