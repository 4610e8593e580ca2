#!/usr/bin/env bash
# Validates the deployment files under deploy/ with the tools made for them:
#
#   switchyard check        every Switchyard config: deploy/examples/*.yaml, the
#                           config embedded in the Kubernetes ConfigMap, and the
#                           demo template with its @PLACEHOLDERS@ filled in
#   systemd-analyze verify  deploy/systemd/switchyard.service, plus
#   systemd-analyze security  its offline exposure score (must stay <= 2.0)
#   kubernetes-validate     every manifest in deploy/kubernetes/, strictly (unknown
#                           fields fail), offline, against Kubernetes 1.30 (the
#                           oldest with the preStop `sleep` action on by default)
#                           and the newest schema it ships; `kubectl kustomize`
#                           renders the kustomization when kubectl is present
#   nginx -t                deploy/nginx/switchyard-equivalent.conf
#   yamllint                every YAML file above, with a relaxed config
#
#   deploy/validate.sh                       one line per check; exit 1 if any failed
#   SWITCHYARD_BIN=/path/to/switchyard deploy/validate.sh
#
# Installs what is missing: nginx and systemd from Debian (as root, with
# apt-get), kubernetes-validate and yamllint from PyPI into a virtualenv kept
# in $SWITCHYARD_VALIDATE_VENV (default ~/.cache/switchyard-validate/venv).
# The switchyard binary is not built here: default
# $(dirname "$0")/../.build/debug/switchyard (swift build --product switchyard).
set -uo pipefail

deploy=$(cd "$(dirname "$0")" && pwd)
bin=${SWITCHYARD_BIN:-$deploy/../.build/debug/switchyard}
venv=${SWITCHYARD_VALIDATE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard-validate/venv}
k8s_versions=(1.30.0 "")          # "" = kubernetes-validate's newest schema
yamllint_config='{extends: relaxed, rules: {line-length: {max: 200}}}'

work=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-validate.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
# check NAME COMMAND...: runs COMMAND, prints "ok" or "FAIL" and, on failure,
# what the tool said, indented.
check() {
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then
    printf 'ok    %s\n' "$name"
    passed=$((passed + 1))
  else
    printf 'FAIL  %s\n' "$name"
    # Messages about the scratch copies name the files they were made from
    # (the copies keep every line where it was).
    sed -e "s#$work/nginx/nginx.conf#$deploy/nginx/switchyard-equivalent.conf#g" \
        -e "s#$work/systemd/switchyard.service#$deploy/systemd/switchyard.service#g" \
        -e 's/^/        /' "$work/out"
    failed=$((failed + 1))
  fi
}
# a check that could not even run (a tool or the binary is missing) fails too
broken() {
  printf 'FAIL  %s\n        %s\n' "$1" "$2"
  failed=$((failed + 1))
}

# ---- tools -----------------------------------------------------------------
apt_updated=no
apt_install() {  # PACKAGE...: installs from Debian when we can; quiet
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = no ]; then apt-get update -qq >/dev/null 2>&1 || return 1; apt_updated=yes; fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}
command -v nginx >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
command -v nginx >/dev/null 2>&1 || apt_install nginx || true
command -v systemd-analyze >/dev/null 2>&1 || apt_install systemd || true

if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/yamllint" ]; then
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >/dev/null 2>&1 || { apt_install python3-venv && python3 -m venv "$venv" >/dev/null 2>&1; } || true
  if [ -x "$venv/bin/pip" ]; then
    "$venv/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==1.37.0" "yamllint==1.38.0" >"$work/pip.log" 2>&1 ||
      { echo "pip install failed:"; cat "$work/pip.log"; }
  fi
fi
py=$venv/bin/python3      # has PyYAML (a dependency of both tools)
[ -x "$py" ] || py=python3

# ---- Switchyard configs -------------------------------------------------------
configs=("$deploy"/examples/*.yaml)
labels=()
for file in "${configs[@]}"; do labels+=("${file#"$deploy"/}"); done
# The config inside the ConfigMap, as the pods will read it.
if "$py" - "$deploy/kubernetes/configmap.yaml" "$work/configmap-switchyard.yaml" >"$work/out" 2>&1 <<'PY'
import sys, yaml
with open(sys.argv[1]) as f:
    doc = yaml.safe_load(f)
with open(sys.argv[2], "w") as f:
    f.write(doc["data"]["switchyard.yaml"])
PY
then
  configs+=("$work/configmap-switchyard.yaml")
  labels+=("kubernetes/configmap.yaml (data.switchyard.yaml)")
else
  broken "extract data.switchyard.yaml from kubernetes/configmap.yaml" "$(tail -n 1 "$work/out")"
fi
# The demo template: every @PLACEHOLDER@ gets a distinct value, as demo.sh does.
if [ -f "$deploy/demo/switchyard.yaml.in" ]; then
  "$py" - "$deploy/demo/switchyard.yaml.in" "$work/demo-switchyard.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
names = sorted(set(re.findall(r"@([A-Z0-9_]+)@", text)))
for i, name in enumerate(names):
    text = text.replace("@%s@" % name, "placeholder" if "PASSWORD" in name else str(28000 + i))
open(sys.argv[2], "w").write(text)
PY
  configs+=("$work/demo-switchyard.yaml")
  labels+=("demo/switchyard.yaml.in (placeholders filled)")
fi
if [ ! -x "$bin" ]; then
  broken "switchyard check (${#configs[@]} configs)" "$bin is missing: build it (swift build --product switchyard) or set SWITCHYARD_BIN"
else
  for i in "${!configs[@]}"; do
    check "switchyard check ${labels[$i]}" "$bin" check --config "${configs[$i]}"
  done
fi

# ---- systemd -------------------------------------------------------------------
unit=$deploy/systemd/switchyard.service
if ! command -v systemd-analyze >/dev/null 2>&1; then
  broken "systemd-analyze verify systemd/switchyard.service" "systemd-analyze is not installed (apt-get install systemd)"
elif [ ! -x "$bin" ]; then
  broken "systemd-analyze verify systemd/switchyard.service" "needs the switchyard binary (see above)"
else
  # verify checks that every Exec*= binary exists; the unit names the installed
  # path (/usr/local/bin/switchyard), so verify a copy that names the built
  # binary instead. Nothing else in the unit changes.
  mkdir -p "$work/systemd"
  sed "s#/usr/local/bin/switchyard#$bin#g" "$unit" >"$work/systemd/switchyard.service"
  verify_unit() {  # verify prints warnings but may still exit 0: any output fails
    systemd-analyze verify "$work/systemd/switchyard.service" >"$work/verify.out" 2>&1
    local rc=$?
    cat "$work/verify.out"
    [ $rc -eq 0 ] && [ ! -s "$work/verify.out" ]
  }
  check "systemd-analyze verify systemd/switchyard.service" verify_unit
  exposure() {
    systemd-analyze security --offline=yes --threshold=20 --no-pager "$work/systemd/switchyard.service" >"$work/security.out" 2>&1
    local rc=$?
    grep -E '✗|Overall' "$work/security.out" || tail -n 5 "$work/security.out"
    return $rc
  }
  score=$(systemd-analyze security --offline=yes --no-pager "$work/systemd/switchyard.service" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  check "systemd-analyze security systemd/switchyard.service (exposure ${score:-?} <= 2.0)" exposure
fi

# ---- Kubernetes ------------------------------------------------------------------
manifests=()
for file in "$deploy"/kubernetes/*.yaml; do
  [ "$(basename "$file")" = kustomization.yaml ] || manifests+=("$file")
done
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  broken "kubernetes-validate" "not installed (pip install kubernetes-validate into $venv failed)"
else
  for version in "${k8s_versions[@]}"; do
    label=${version:-newest}
    args=(--strict --no-warn --quiet)
    [ -n "$version" ] && args+=(-k "$version")
    for file in "${manifests[@]}"; do
      check "kubernetes-validate --strict (${label}) kubernetes/$(basename "$file")" \
        "$venv/bin/kubernetes-validate" "${args[@]}" "$file"
    done
  done
fi
if command -v kubectl >/dev/null 2>&1; then
  render() {
    kubectl kustomize "$deploy/kubernetes" >"$work/kustomized.yaml" || return 1
    [ -x "$venv/bin/kubernetes-validate" ] || return 0
    "$venv/bin/kubernetes-validate" --strict --no-warn --quiet "$work/kustomized.yaml"
  }
  check "kubectl kustomize kubernetes/ (rendered output validated)" render
else
  # Without kubectl: every resource the kustomization lists exists and parses.
  resources_exist() {
    "$py" - "$deploy/kubernetes" <<'PY'
import os, sys, yaml
base = sys.argv[1]
k = yaml.safe_load(open(os.path.join(base, "kustomization.yaml")))
missing = [r for r in k.get("resources", []) if not os.path.isfile(os.path.join(base, r))]
for r in k.get("resources", []):
    if r not in missing:
        list(yaml.safe_load_all(open(os.path.join(base, r))))
if missing:
    sys.exit("missing resources: " + ", ".join(missing))
PY
  }
  check "kubernetes/kustomization.yaml resources exist (no kubectl to render it)" resources_exist
fi

# ---- nginx -------------------------------------------------------------------------
if ! command -v nginx >/dev/null 2>&1; then
  broken "nginx -t nginx/switchyard-equivalent.conf" "nginx is not installed (apt-get install nginx)"
else
  # A copy whose log and pid paths point into a scratch prefix: `nginx -t`
  # opens (creates) them, and this must not touch /var/log/nginx or /run.
  mkdir -p "$work/nginx"
  sed -e "s#/var/log/nginx/#$work/nginx/#g" -e "s#/run/#$work/nginx/#g" \
    "$deploy/nginx/switchyard-equivalent.conf" >"$work/nginx/nginx.conf"
  check "nginx -t nginx/switchyard-equivalent.conf" nginx -t -q -p "$work/nginx/" -e stderr -c "$work/nginx/nginx.conf"
fi

# ---- yamllint ------------------------------------------------------------------------
if [ ! -x "$venv/bin/yamllint" ]; then
  broken "yamllint" "not installed (pip install yamllint into $venv failed)"
else
  yaml_files=("$deploy"/examples/*.yaml "$deploy"/kubernetes/*.yaml)
  [ -f "$work/configmap-switchyard.yaml" ] && yaml_files+=("$work/configmap-switchyard.yaml")
  [ -f "$work/demo-switchyard.yaml" ] && yaml_files+=("$work/demo-switchyard.yaml")
  check "yamllint (relaxed) ${#yaml_files[@]} files: examples/, kubernetes/, the ConfigMap's config, the demo config" \
    "$venv/bin/yamllint" --no-warnings -f parsable -d "$yamllint_config" "${yaml_files[@]}"
fi

echo "validate: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
