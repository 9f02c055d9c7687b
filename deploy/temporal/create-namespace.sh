#!/bin/sh
# Tocsin's namespace, once the server answers; its retention (how long a closed
# workflow's history stays readable) outlasts an event and its review.
set -eu
until temporal operator cluster health >/dev/null 2>&1; do sleep 2; done
temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1 \
    || temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
