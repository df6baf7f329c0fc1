#!/usr/bin/env bash
# Placeholder until the real-component harness lands: the unit tests need only npm packages.
exit 0
