#!/usr/bin/env bash
# Checks the deployment files in deploy/ as far as this machine allows, in seconds; each
# check this machine cannot make is skipped with a line saying so. Run by deploy/test.sh
# (CI) after the build, so the built binary is checked against the image's libraries.
#   deploy/check-deploy.sh [path/to/scribe]
set -euo pipefail
cd "$(dirname "$0")/.."
scribe=${1:-build/scribe}
failed=0
fail() { echo "check-deploy: FAIL: $*" >&2; failed=1; }
ok() { echo "check-deploy: ok: $*"; }
skip() { echo "check-deploy: SKIPPED: $*"; }

# --- Dockerfile ----------------------------------------------------------------------------
dockerfile=deploy/Dockerfile
[ "$(grep -c '^FROM debian:12' "$dockerfile")" -eq 2 ] || fail "$dockerfile: two stages FROM debian:12"
grep -q 'deploy/install-deps.sh' "$dockerfile" || fail "$dockerfile: the build stage must use deploy/install-deps.sh"
# Every file a COPY takes from the build context exists (COPY . . aside).
while read -r src; do
  [ -e "$src" ] || fail "$dockerfile: COPY source $src does not exist"
done < <(awk '$1 == "COPY" && $2 !~ /^--from/ && $2 != "." {print $2}' "$dockerfile")
final_stage=$(awk '/^FROM /{n++} n == 2' "$dockerfile")
grep -Eq '^USER [a-z]' <<<"$final_stage" && ! grep -Eq '^USER (root|0)' <<<"$final_stage" \
  || fail "$dockerfile: the final stage must run as a non-root USER"
grep -Eq '^HEALTHCHECK .*' <<<"$final_stage" && grep -q '/healthz' <<<"$final_stage" \
  || fail "$dockerfile: HEALTHCHECK on /healthz"
grep -q '^VOLUME \["/var/lib/scribe"\]' <<<"$final_stage" || fail "$dockerfile: VOLUME for the SQLite file"
grep -q 'SCRIBE_DB=/var/lib/scribe/' <<<"$final_stage" || fail "$dockerfile: SCRIBE_DB under the volume"
if grep -Eq -- '-dev\b|build-essential|cmake|clang' <<<"$final_stage"; then
  fail "$dockerfile: the final stage installs build tools or headers"
fi
# The final stage's package list must hold the package of every library the binary links,
# and of every library it loads at run time (libpq, for PostgreSQL: no NEEDED entry names it,
# so it is read from storage/postgres_libpq.h).
runtime_packages=$(sed -n '/apt-get install/,/rm -rf/p' <<<"$final_stage" | tr ' \\' '\n\n' \
  | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|y)$' | sort -u)
if [ -x "$scribe" ] && command -v readelf >/dev/null && command -v dpkg-query >/dev/null; then
  # One dpkg-query for all the libraries: it reads its whole file list per call.
  paths=()
  missing=()
  # The cache is read once and awk reads all of it: an awk that exits at the first match
  # leaves ldconfig writing into a closed pipe, and SIGPIPE under pipefail ends the script.
  library_cache=$(ldconfig -p)
  loaded=$(sed -n 's/.*kLibPqFile = "\(.*\)";/\1/p' storage/postgres_libpq.h)
  [ -n "$loaded" ] || fail "storage/postgres_libpq.h: no kLibPqFile, the library loaded at run time"
  for soname in $(readelf -d "$scribe" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p') $loaded; do
    path=$(awk -v s="$soname" '$1 == s && p == "" {p = $NF} END {print p}' <<<"$library_cache")
    if [ -n "$path" ]; then paths+=("$(readlink -f "$path")"); else missing+=("$soname(not found here)"); fi
  done
  while IFS=': ' read -r pkg path; do
    case "${pkg%%:*}" in libc6 | libgcc-s1) continue ;; esac
    grep -qxF "${pkg%%:*}" <<<"$runtime_packages" || missing+=("$(basename "$path")(${pkg%%:*})")
  done < <(dpkg-query -S "${paths[@]}" 2>/dev/null)
  if [ ${#missing[@]} -eq 0 ]; then
    ok "$dockerfile: its runtime packages cover every library $scribe links, and $loaded"
  else
    fail "$dockerfile: the final stage lacks the packages of: ${missing[*]}"
  fi
else
  skip "runtime libraries of the image against the binary (needs a built $scribe, readelf, dpkg)"
fi
if apt-cache show libssl3 >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # one word per package
  known=$(apt-cache show --no-all-versions $runtime_packages 2>/dev/null | sed -n 's/^Package: //p' | sort -u)
  for p in $runtime_packages; do
    grep -qxF "$p" <<<"$known" || fail "$dockerfile: no Debian package $p"
  done
  ok "$dockerfile: every runtime package exists in the configured Debian archive"
else
  skip "package names of the image (no apt lists on this machine)"
fi
if docker info >/dev/null 2>&1; then
  skip "docker build (a daemon is available, but a build takes minutes: docker build -f deploy/Dockerfile .)"
else
  skip "docker build: no Docker daemon on this machine; the Dockerfile was checked statically above"
fi

# --- compose.yaml --------------------------------------------------------------------------
python3 - deploy/compose.yaml <<'EOF' || failed=1
import pathlib, sys, yaml
path = pathlib.Path(sys.argv[1])
doc = yaml.safe_load(path.read_text())
problems = []
services = doc.get("services", {})
for name in ("scribe", "postgres"):
    if name not in services:
        problems.append(f"no service {name}")
scribe = services.get("scribe", {})
db = str(scribe.get("environment", {}).get("SCRIBE_DB", ""))
if not db.startswith("postgresql://"):
    problems.append("scribe: SCRIBE_DB must be a postgresql:// URL")
if scribe.get("depends_on", {}).get("postgres", {}).get("condition") != "service_healthy":
    problems.append("scribe: depends_on postgres with condition service_healthy")
if "healthcheck" not in services.get("postgres", {}):
    problems.append("postgres: a healthcheck (scribe waits for it)")
build = scribe.get("build", {})
dockerfile = path.parent / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
if not dockerfile.exists():
    problems.append(f"scribe: build dockerfile {dockerfile} does not exist")
for p in problems:
    print(f"check-deploy: FAIL: {path}: {p}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check-deploy: ok: {path}: valid YAML, scribe on PostgreSQL, waits for its health check")
EOF
if docker compose version >/dev/null 2>&1; then
  POSTGRES_PASSWORD=check docker compose -f deploy/compose.yaml config -q \
    && ok "deploy/compose.yaml: docker compose config" || fail "deploy/compose.yaml: docker compose config"
else
  skip "docker compose config (no compose plugin on this machine)"
fi

# --- systemd unit --------------------------------------------------------------------------
unit=deploy/systemd/scribe.service
for directive in 'DynamicUser=yes' 'ProtectSystem=strict' 'StateDirectory=scribe' \
  'NoNewPrivileges=yes' 'PrivateTmp=yes' 'ProtectHome=yes' 'CapabilityBoundingSet=$' \
  'RestrictAddressFamilies=' 'SystemCallFilter=@system-service'; do
  grep -Eq "^$directive" "$unit" || fail "$unit: no $directive"
done
if command -v systemd-analyze >/dev/null; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # verify wants ExecStart's binary to exist: point it at the build's (or any executable).
  exe=$(readlink -f "$scribe" 2>/dev/null || true)
  [ -x "$exe" ] || exe=/bin/true
  sed "s|/usr/local/bin/scribe|$exe|g" "$unit" > "$tmp/scribe.service"
  if out=$(systemd-analyze verify "$tmp/scribe.service" 2>&1) && [ -z "$out" ]; then
    ok "$unit: systemd-analyze verify"
  else
    fail "$unit: systemd-analyze verify: $out"
  fi
  if score_line=$(systemd-analyze security --offline=true "$tmp/scribe.service" 2>/dev/null | grep 'Overall exposure level'); then
    score=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$score_line")
    # The README quotes this score; a change that weakens the unit fails here.
    if awk -v s="$score" 'BEGIN {exit !(s <= 2.0)}'; then
      ok "$unit: systemd-analyze security exposure $score (at most 2.0)"
    else
      fail "$unit: systemd-analyze security exposure $score is above 2.0"
    fi
  else
    skip "systemd-analyze security --offline (not supported by this systemd)"
  fi
else
  skip "systemd-analyze verify/security (systemd-analyze is not installed)"
fi

# --- Helm chart ----------------------------------------------------------------------------
if command -v helm >/dev/null; then
  helm lint deploy/helm/scribe || fail "helm lint"
else
  skip "helm lint (helm is not packaged for Debian 12); rendering and checking the chart instead"
fi
python3 deploy/check_helm.py deploy/helm/scribe || failed=1

if [ "$failed" -ne 0 ]; then
  echo "check-deploy: some checks failed" >&2
  exit 1
fi
echo "check-deploy: all checks this machine can make passed"
