#!/usr/bin/env bash
# Checks the import rules of DESIGN.md ("Arrows point one way") on the module's packages.
#
#   scripts/lint-imports.sh             run `go list` on ./... and check it
#   scripts/lint-imports.sh -           check `go list` lines read from stdin, each
#                                       "<import path> <import> <import> ..."
#   scripts/lint-imports.sh --self-test feed known-good and known-bad lines to `-`
#
# Only non-test imports are checked (.Imports, not .TestImports or .XTestImports): a
# test may reach for whatever it needs to exercise its package.
#
# The rules, by component (a package and the packages under it, except smpp/text which is
# a component of its own); imports inside one component are always allowed:
#   cmd       may import any package of the module
#   scripts   developer tools (generators, evaluators): any package of the module, like cmd
#   api       may import router
#   router    may import parser, smpp/text
#   store     may import router, smpp/text
#   smpp      may import smpp/text
#   smpp/text may import no package of the module; standard library and golang.org/x/text only
#   parser    may import no package of the module
# and for third-party modules:
#   github.com/jackc/... (pgx, tern) and github.com/redis/go-redis: store and cmd only
#   github.com/fiorix/go-smpp: smpp only ("no package but smpp sees a PDU")
# A package outside these components is itself a violation, so that a new one gets a rule.
#
# Each violation is printed as `lint: <pkg> imports <dep>: <rule>`; the exit status is 1
# when there is any.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

module_path() {
  awk '$1 == "module" { print $2; exit }' "$ROOT/go.mod"
}

# component prints the component of a module-relative package path, or nothing when the
# package is outside the layout.
component() {
  case "$1" in
    cmd | cmd/*) echo cmd ;;
    scripts | scripts/*) echo scripts ;;
    api | api/*) echo api ;;
    router | router/*) echo router ;;
    store | store/*) echo store ;;
    smpp/text | smpp/text/*) echo smpp/text ;;
    smpp | smpp/*) echo smpp ;;
    parser | parser/*) echo parser ;;
  esac
}

# allowed_internal lists the components a component may import besides itself.
allowed_internal() {
  case "$1" in
    cmd | scripts) echo "api router store smpp smpp/text parser" ;;
    api) echo "router" ;;
    router) echo "parser smpp/text" ;;
    store) echo "router smpp/text" ;;
    smpp) echo "smpp/text" ;;
    smpp/text | parser) echo "" ;;
  esac
}

is_stdlib() {
  # The standard library's import paths have no dot in their first element.
  local first=${1%%/*}
  [[ $first != *.* ]]
}

# check reads `go list` lines from stdin and prints violations; returns 1 if any.
check() {
  local mod bad=0 n=0 line pkg deps dep rel comp drel dcomp allowed
  mod=$(module_path)
  if [ -z "$mod" ]; then
    echo "lint: no module line in $ROOT/go.mod" >&2
    return 2
  fi
  while read -r line; do
    [ -n "$line" ] || continue
    read -r pkg deps <<<"$line"
    n=$((n + 1))
    if [ "$pkg" = "$mod" ]; then
      rel=.
    else
      rel=${pkg#"$mod"/}
    fi
    if [ "$rel" = "$pkg" ]; then
      echo "lint: $pkg: not a package of module $mod"
      bad=1
      continue
    fi
    comp=$(component "$rel")
    if [ -z "$comp" ]; then
      echo "lint: $pkg: package outside the DESIGN.md layout (cmd, scripts, api, router, store, smpp, smpp/text, parser); give it a rule in scripts/lint-imports.sh"
      bad=1
      continue
    fi
    for dep in $deps; do
      if [ "$dep" = "$mod" ] || [[ $dep == "$mod"/* ]]; then
        drel=${dep#"$mod"}
        drel=${drel#/}
        dcomp=$(component "$drel")
        if [ "$dcomp" = "$comp" ]; then
          continue
        fi
        if [ -z "$dcomp" ] || [[ " $(allowed_internal "$comp") " != *" $dcomp "* ]]; then
          allowed=$(allowed_internal "$comp")
          allowed=${allowed// /, }
          echo "lint: $pkg imports $dep: $comp may import ${allowed:+only }${allowed:-no other package of the module}"
          bad=1
        fi
        continue
      fi
      is_stdlib "$dep" && continue
      case "$comp:$dep" in
        smpp/text:golang.org/x/text | smpp/text:golang.org/x/text/*) ;;
        smpp/text:*)
          echo "lint: $pkg imports $dep: smpp/text may import only the standard library and golang.org/x/text"
          bad=1
          continue
          ;;
      esac
      case "$dep" in
        github.com/jackc/* | github.com/redis/go-redis | github.com/redis/go-redis/*)
          if [ "$comp" != store ] && [ "$comp" != cmd ]; then
            echo "lint: $pkg imports $dep: only store (and cmd) may import pgx, tern or go-redis"
            bad=1
          fi
          ;;
        github.com/fiorix/go-smpp | github.com/fiorix/go-smpp/*)
          if [ "$comp" != smpp ]; then
            echo "lint: $pkg imports $dep: only smpp may import go-smpp (no package but smpp sees a PDU)"
            bad=1
          fi
          ;;
      esac
    done
  done
  if [ "$n" = 0 ]; then
    echo "lint: no packages to check" >&2
    return 2
  fi
  if [ "$bad" = 0 ]; then
    echo "lint-imports: ok ($n packages, non-test imports)"
  fi
  return "$bad"
}

# expect runs check on the given lines and compares its verdict and output.
expect() {
  local want_rc=$1 want_out=$2 input=$3 out rc
  set +e
  out=$(printf '%s\n' "$input" | "${BASH_SOURCE[0]}" - 2>&1)
  rc=$?
  set -e
  if [ "$rc" != "$want_rc" ] || [[ $out != *"$want_out"* ]]; then
    printf 'lint-imports self-test FAILED\n  input: %s\n  want: exit %s, output containing "%s"\n  got:  exit %s, output:\n%s\n' \
      "$input" "$want_rc" "$want_out" "$rc" "$out" >&2
    return 1
  fi
}

self_test() {
  local m
  m=$(module_path)
  local good="$m/cmd/sms1708 $m/api $m/router $m/store $m/smpp $m/smpp/text $m/parser github.com/jackc/pgx/v5 github.com/redis/go-redis/v9
$m/cmd/smscsim $m/smpp/smsctest flag os
$m/api $m/router net/http
$m/router $m/parser $m/smpp/text context github.com/prometheus/client_golang/prometheus
$m/router/routertest $m/router testing
$m/store $m/router $m/smpp/text github.com/jackc/pgx/v5 github.com/jackc/pgx/v5/pgxpool github.com/jackc/tern/v2/migrate github.com/redis/go-redis/v9
$m/store/storetest $m/store $m/router $m/smpp/text github.com/jackc/pgx/v5
$m/smpp $m/smpp/text github.com/fiorix/go-smpp/smpp/pdu net
$m/smpp/smsctest $m/smpp $m/smpp/text net
$m/smpp/text golang.org/x/text/encoding unicode/utf16
$m/parser strings unicode"
  expect 0 "lint-imports: ok (11 packages" "$good"
  local cases=(
    "$m/router $m/store|lint: $m/router imports $m/store: router may import only parser, smpp/text"
    "$m/router $m/smpp|lint: $m/router imports $m/smpp: router may import only parser, smpp/text"
    "$m/parser $m/smpp/text|lint: $m/parser imports $m/smpp/text: parser may import no other package of the module"
    "$m/smpp $m/router|lint: $m/smpp imports $m/router: smpp may import only smpp/text"
    "$m/smpp/text $m/smpp|lint: $m/smpp/text imports $m/smpp: smpp/text may import no other package"
    "$m/smpp/text github.com/google/go-cmp/cmp|lint: $m/smpp/text imports github.com/google/go-cmp/cmp: smpp/text may import only"
    "$m/store $m/api|lint: $m/store imports $m/api: store may import only router, smpp/text"
    "$m/store $m/smpp|lint: $m/store imports $m/smpp: store may import only router, smpp/text"
    "$m/api $m/store|lint: $m/api imports $m/store: api may import only router"
    "$m/router github.com/jackc/pgx/v5|lint: $m/router imports github.com/jackc/pgx/v5: only store"
    "$m/api github.com/redis/go-redis/v9|lint: $m/api imports github.com/redis/go-redis/v9: only store"
    "$m/smpp github.com/redis/go-redis/v9|lint: $m/smpp imports github.com/redis/go-redis/v9: only store"
    "$m/cmd/sms1708 github.com/fiorix/go-smpp/smpp/pdu|lint: $m/cmd/sms1708 imports github.com/fiorix/go-smpp/smpp/pdu: only smpp"
    "$m/store github.com/fiorix/go-smpp/smpp/pdu|lint: $m/store imports github.com/fiorix/go-smpp/smpp/pdu: only smpp"
    "$m/internal/util fmt|lint: $m/internal/util: package outside the DESIGN.md layout"
    "$m/router $m/internal/util|lint: $m/router imports $m/internal/util: router may import"
  )
  local c
  for c in "${cases[@]}"; do
    # Each bad line is checked next to good ones, so a violation is not masked by them.
    expect 1 "${c#*|}" "$good
${c%%|*}"
  done
  expect 2 "no packages to check" ""
  echo "lint-imports self-test: ok ($((${#cases[@]} + 2)) cases)"
}

case "${1:-}" in
  -) check ;;
  --self-test) self_test ;;
  "")
    cd "$ROOT"
    # -e: a package that does not compile is still listed with its imports; vet and the
    # build report the compile error itself.
    list=$(go list -e -f '{{.ImportPath}} {{join .Imports " "}}' ./...)
    printf '%s\n' "$list" | check
    ;;
  *)
    echo "usage: $0 [- | --self-test]" >&2
    exit 2
    ;;
esac
