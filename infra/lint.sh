#!/usr/bin/env bash
# Lint the deploy template with cfn-lint (which runs the SAM translator
# first) when it is installed; otherwise say so and pass: the Go tests in
# infra/infratest still parse the template with goformation.
#   bash infra/lint.sh        (from anywhere)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v cfn-lint >/dev/null 2>&1; then
	echo "cfn-lint absent: ran the goformation parse test only"
	exit 0
fi
cfn-lint --version
cfn-lint "$here/template.yaml"
echo "cfn-lint: infra/template.yaml clean"
