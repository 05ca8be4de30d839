#!/usr/bin/env bash
# Installs the real agent CLIs that tests/core/test_tmux_real_agents.py delivers to, at pinned
# versions, into the project-local .agent-clis/ (never globally). Idempotent: does nothing when
# the pinned versions are already there. Needs node and npm; without them it says so and exits 0.
# Override the folder with AGENT_CLIS_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  "@openai/codex@0.169.0"
  "@anthropic-ai/claude-code@2.1.328"
)
DIR=${AGENT_CLIS_DIR:-.agent-clis}

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "install-agent-clis: node/npm not found; the real-agent tmux tests will skip" >&2
  exit 0
fi

installed_version() {  # name -> version in $DIR, or nothing
  node -e 'try { process.stdout.write(require(process.argv[1]).version) } catch (e) {}' \
    "$PWD/$DIR/node_modules/$1/package.json" 2>/dev/null || true
}

missing=()
for spec in "${PACKAGES[@]}"; do
  name=${spec%@*}; version=${spec##*@}
  [ "$(installed_version "$name")" = "$version" ] || missing+=("$spec")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-agent-clis: up to date (${PACKAGES[*]})"
  exit 0
fi

echo "install-agent-clis: installing ${missing[*]} into $DIR"
mkdir -p "$DIR"
# All pins in one call so npm keeps every one of them in $DIR/package.json.
npm install --prefix "$DIR" --no-audit --no-fund --no-update-notifier --loglevel=error \
  --save-exact "${PACKAGES[@]}"
for spec in "${PACKAGES[@]}"; do
  name=${spec%@*}; version=${spec##*@}
  got=$(installed_version "$name")
  if [ "$got" != "$version" ]; then
    echo "install-agent-clis: $name is ${got:-missing}, wanted $version" >&2
    exit 1
  fi
done
echo "install-agent-clis: done"
