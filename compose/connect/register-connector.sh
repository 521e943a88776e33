#!/bin/sh
# Registers debezium-postgres.json with Kafka Connect at $CONNECT_URL once its REST API responds. Exits 0 when the
# connector was created or already exists, and 1 when Connect does not respond within 180 s or rejects the config.
set -eu

connect_url=${CONNECT_URL:-http://connect:8083}
config=$(dirname "$0")/debezium-postgres.json

attempt=0
until curl -fsS -o /dev/null "$connect_url/connectors"; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 90 ]; then
    echo "Timed out after 180 s waiting for Kafka Connect at $connect_url; see: docker compose logs connect" >&2
    exit 1
  fi
  sleep 2
done

status=$(curl -sS -o /tmp/connect-response -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data "@$config" "$connect_url/connectors")
case "$status" in
  201)
    echo "Registered the connector backbone-postgres"
    ;;
  409)
    # POST never changes an existing connector, so a changed file has to be applied by hand.
    echo "The connector backbone-postgres is already registered. To apply a changed configuration, PUT its config" \
      "object to $connect_url/connectors/backbone-postgres/config"
    ;;
  *)
    echo "Registering the connector failed with HTTP status $status:" >&2
    cat /tmp/connect-response >&2
    exit 1
    ;;
esac
