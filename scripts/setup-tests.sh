#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine that has only Node, and skips whatever is already
# there, so a second run takes about a second. `npm test` runs it before the build; `.ci/run` runs it too.
#
#   1. Debian packages (APT_PACKAGES below): `apt-get update` then `apt-get install`, only when one is missing;
#      sudo when not root.
#   2. The Moddable SDK tools and mcsim, from ../shared/moddable-sdk/setup.sh (the SDK tarball kept beside the
#      repository; it builds once into ~/.cache). Without it the Moddable lane is skipped with a loud note,
#      except in CI (CI set), where that is an error.
#   3. node_modules (`npm ci`) when missing (always so in a fresh clone), and the XS engine @agoric/xsnap
#      builds in its install script.
#
# Environment: TINYMQTT_SKIP_APT=1 skips step 1 (and the SDK's own apt step).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# What the tests need from Debian, one package per line with why. Add yours here.
APT_PACKAGES=(
	mosquitto   # the reference broker the integration tests start on loopback
	mosquitto-clients  # mosquitto_pub and mosquitto_sub: the CLI tests run them beside tinymqtt pub/sub
	openssl     # the tests' throwaway certificate authority (TLS suites)
	chromium    # the headless browser that opens the simulate command's HTML report
	build-essential  # make and a C compiler: @agoric/xsnap builds the XS engine at npm ci
	ejabberd    # a broker that clusters: simulate's cluster test runs two of its nodes (plain erl, its own epmd) on loopback
)

log() { printf 'setup-tests: %s\n' "$*" >&2; }

installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }

if [ "${TINYMQTT_SKIP_APT:-0}" != 1 ]; then
	missing=()
	for p in "${APT_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
	if [ ${#missing[@]} -gt 0 ]; then
		SUDO=()
		if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
		log "apt: installing ${missing[*]}"
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
	fi
fi

MODDABLE_SETUP="${TINYMQTT_MODDABLE_SETUP:-../shared/moddable-sdk/setup.sh}"
if [ -f "$MODDABLE_SETUP" ]; then
	if [ "${TINYMQTT_SKIP_APT:-0}" = 1 ]; then export MODDABLE_SKIP_APT=1; fi
	bash "$MODDABLE_SETUP" >/dev/null || { log "error: the Moddable SDK setup failed"; exit 1; }
elif [ -n "${CI:-}" ]; then
	log "error: $MODDABLE_SETUP is missing: CI runs the Moddable toolchain lane"
	exit 1
else
	log "NOTE: $MODDABLE_SETUP is missing: the Moddable toolchain tests will be SKIPPED on this machine"
fi

if [ ! -d node_modules ]; then
	log "npm ci"
	npm ci >&2
fi
# @agoric/xsnap builds the XS engine the codec tests run in from its install script; rebuild it in case the
# runner's npm skipped install scripts.
XSNAP_WORKER=node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker
if [ ! -x "$XSNAP_WORKER" ]; then
	log "building the XS engine (npm rebuild @agoric/xsnap)"
	npm rebuild @agoric/xsnap >&2
fi
[ -x "$XSNAP_WORKER" ] || { log "error: the XS engine (xsnap-worker) did not build"; exit 1; }
