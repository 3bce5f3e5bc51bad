#!/usr/bin/env bash
# The package and install tests, run by scripts/test.sh after the cargo tests: what a stranger
# does with a clone, checked for real on this machine.
#
#   1. The user-facing documents refer to nothing outside the repository (no `../shared`).
#   2. scripts/package.sh builds target/debian/trace-tools_<version>_amd64.deb; `dpkg-deb -c`
#      lists exactly the files the package must hold, `dpkg-deb -f` the fields, the copyright
#      parses as DEP-5 (python3-debian).
#   3. `dpkg -i` installs it for real; then, with a clean PATH from outside the clone:
#      `--version` of both tools names this commit, `man -w` finds both pages, bash (through
#      bash-completion's loader), zsh (compinit) and fish load the completions from their own
#      directories and complete `trace-merge --fo` to `--format`, and the README's usage
#      examples run as written (a real bpftrace trace of `cat /tmp/not_exists`, piped and saved).
#      `dpkg --purge` then leaves no file and no directory of its own behind.
#   4. `cargo install --locked --path crates/...` (the README's other install) works, reusing
#      the release build, and the same examples run with what it installed.
#   5. `cargo publish --dry-run --workspace`: the three crates package and build from their
#      .crate files, trace-format first, the others against it (cargo >= 1.90 verifies a
#      multi-crate publish against a local registry holding the workspace's new crates).
#
# Needs root (dpkg -i). Without root it stops with an error under CI=true and is skipped with a
# notice elsewhere. The tracers and shells come from scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "test-package: FAIL: $*" >&2
    exit 1
}
step() { echo "== test-package: $*" >&2; }
timed() { # timed LABEL COMMAND...: runs it, prints its wall time
    local start=$SECONDS
    "${@:2}"
    echo "test-package: $1 took $((SECONDS - start)) s" >&2
}

if [ "$(id -u)" -ne 0 ]; then
    [ "${CI:-}" != true ] || fail "needs root (dpkg -i), and CI=true"
    echo "test-package: NOTICE: skipped, needs root to install the package with dpkg -i" >&2
    exit 0
fi

version=$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "trace-tools"))')
commit=$(git rev-parse --short=12 HEAD) || fail "not a git checkout: --version cannot be checked"
work=$(mktemp -d)
cleanup() {
    # Never leave the test's package installed, whatever failed.
    if dpkg-query -W -f='${Status}' trace-tools 2>/dev/null | grep -q 'ok installed'; then
        dpkg --purge trace-tools >/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# -- 1. Documents ---------------------------------------------------------------------------
step "user-facing documents refer to nothing outside the repository"
if git ls-files -z '*.md' | xargs -0 grep -nE '\.\./shared|/work/' >&2; then
    fail "the lines above refer to paths outside the repository"
fi

# -- 2. The package -------------------------------------------------------------------------
step "scripts/package.sh"
deb=$(timed "package build" bash scripts/package.sh)
[ "$deb" = "$PWD/target/debian/trace-tools_${version}_amd64.deb" ] \
    || [ "$(realpath "$deb")" = "$(realpath "target/debian/trace-tools_${version}_amd64.deb")" ] \
    || fail "package.sh built $deb, not target/debian/trace-tools_${version}_amd64.deb"
grep -qF "target/debian/trace-tools_${version}_amd64.deb" README.md \
    || fail "README.md's Install section does not name target/debian/trace-tools_${version}_amd64.deb"
echo "test-package: $(basename "$deb"): $(du -k "$deb" | cut -f1) KiB" >&2

step "dpkg-deb -c: every file, and nothing else"
dpkg-deb -c "$deb" >"$work/contents"
awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' "$work/contents" | sort >"$work/files"
sort >"$work/expected" <<'EOF'
/usr/bin/trace-gen
/usr/bin/trace-merge
/usr/share/man/man1/trace-gen.1.gz
/usr/share/man/man1/trace-merge.1.gz
/usr/share/bash-completion/completions/trace-gen
/usr/share/bash-completion/completions/trace-merge
/usr/share/zsh/vendor-completions/_trace-gen
/usr/share/zsh/vendor-completions/_trace-merge
/usr/share/fish/vendor_completions.d/trace-gen.fish
/usr/share/fish/vendor_completions.d/trace-merge.fish
/usr/share/doc/trace-tools/README.md.gz
/usr/share/doc/trace-tools/changelog.gz
/usr/share/doc/trace-tools/copyright
EOF
diff -u "$work/expected" "$work/files" >&2 || fail "the package's files differ from the list (- expected, + found)"
grep -qE '^-rwxr-xr-x .* \./usr/bin/trace-gen$' "$work/contents" || fail "/usr/bin/trace-gen is not 0755"
grep -qE '^-rwxr-xr-x .* \./usr/bin/trace-merge$' "$work/contents" || fail "/usr/bin/trace-merge is not 0755"

step "dpkg-deb -f: the fields"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = trace-tools ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), not $version"
[ "$(field Architecture)" = amd64 ] || fail "Architecture: $(field Architecture)"
# Computed from the binaries by dpkg-shlibdeps: both link glibc, nothing else.
[[ "$(field Depends)" =~ ^libc6\ \(\>=\ 2\.[0-9]+\)$ ]] || fail "Depends: $(field Depends)"
[ "$(field Recommends)" = bpftrace ] || fail "Recommends: $(field Recommends)"
[ "$(field Suggests)" = "systemtap, strace" ] || fail "Suggests: $(field Suggests)"
[ -n "$(field Description)" ] || fail "no Description"
[ "$(field Section)" = utils ] || fail "Section: $(field Section)"

step "the copyright file is machine-readable (DEP-5)"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/trace-tools/copyright >"$work/copyright"
# The Debian python3 (python3-debian is its module), not a python3 that PATH may prefer.
/usr/bin/python3 -I - "$work/copyright" <<'EOF' || fail "copyright is not a valid DEP-5 file"
import sys
from debian import copyright

with open(sys.argv[1], encoding="utf-8") as f:
    c = copyright.Copyright(f, strict=True)
files = c.find_files_paragraph("usr/bin/trace-gen")
assert files is not None, "no Files paragraph covers the binaries"
assert files.license.synopsis == "Expat or Apache-2.0", files.license.synopsis
for name in ("Expat", "Apache-2.0"):
    assert any(p.license.synopsis == name and p.license.text.strip()
               for p in c.all_license_paragraphs()), f"no License: {name} paragraph with its text"
EOF

# -- 3. Installed for real ------------------------------------------------------------------
# A clean environment outside the clone: only the system's directories on PATH.
clean() { (cd "$work" && env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$work" TERM=dumb "$@"); }

# The commands of the README's Usage section, run as written (without sudo: this is root),
# with the tools found on PATH. $1 names the install.
usage_examples() {
    rm -f /tmp/not_exists
    clean bash -c "trace-gen -c 'cat /tmp/not_exists' | trace-merge" >"$work/piped" 2>"$work/piped.err" || true
    grep -q '/tmp/not_exists => ERROR -2 \[' "$work/piped" \
        || fail "$1: trace-gen -c 'cat /tmp/not_exists' | trace-merge did not show the failed open:
$(cat "$work/piped" "$work/piped.err")"
    clean bash -c "trace-gen -B -c 'cat /tmp/not_exists' > app.trace" 2>"$work/saved.err" || true
    clean trace-merge app.trace | grep -q '/tmp/not_exists => ERROR -2 \[' \
        || fail "$1: trace-merge app.trace: $(cat "$work/saved.err")"
    clean trace-merge --summary app.trace | grep -q . || fail "$1: trace-merge --summary app.trace"
    clean trace-merge --format json app.trace | grep -q '"/tmp/not_exists"' \
        || fail "$1: trace-merge --format json app.trace"
    clean trace-gen -S -c 'ls' --print-script 2>/dev/null | grep -q 'probe' \
        || fail "$1: trace-gen -S -c 'ls' --print-script"
}

step "dpkg -i"
for tool in trace-gen trace-merge; do
    # Never overwrite (and then remove) a file the package does not own.
    if [ -e "/usr/bin/$tool" ] && ! dpkg -S "/usr/bin/$tool" 2>/dev/null | grep -q '^trace-tools:'; then
        fail "/usr/bin/$tool exists and is not the package's: not installing over it"
    fi
done
dpkg --purge trace-tools >/dev/null 2>&1 || true
# The package's directories that exist before: after removal, only those may remain.
awk '$1 ~ /^d/ { sub(/^\./, "", $6); sub(/\/$/, "", $6); print $6 }' "$work/contents" \
    | while read -r dir; do [ -d "$dir" ] && echo "$dir"; done >"$work/dirs-before" || true
dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"
dpkg -L trace-tools | sort >"$work/installed"

step "installed: --version, man -w, completions"
for tool in trace-gen trace-merge; do
    [ "$(clean "$tool" --version)" = "$tool $version (commit $commit)" ] \
        || fail "$tool --version: $(clean "$tool" --version), expected $tool $version (commit $commit)"
    [ "$(clean bash -c "command -v $tool")" = "/usr/bin/$tool" ] || fail "$tool is not /usr/bin/$tool"
    [ "$(clean man -w "$tool")" = "/usr/share/man/man1/$tool.1.gz" ] \
        || fail "man -w $tool: $(clean man -w "$tool" 2>&1)"
done
clean man -P cat trace-gen 2>/dev/null | grep -q -- '--print-script' || fail "man trace-gen: no --print-script"
# bash: bash-completion's own loader finds the file in its directory; then the completion
# function gets the words of `trace-merge --fo<TAB>`.
completed=$(clean bash --norc --noprofile -c '
    source /usr/share/bash-completion/bash_completion
    if declare -F _comp_load >/dev/null; then _comp_load trace-merge; else _completion_loader trace-merge; fi
    spec=$(complete -p trace-merge) || exit 1
    fn=${spec##*-F }; fn=${fn%% *}
    COMP_WORDS=(trace-merge --fo); COMP_CWORD=1; COMP_LINE="trace-merge --fo"; COMP_POINT=${#COMP_LINE}
    "$fn" trace-merge --fo trace-merge
    printf "%s\n" "${COMPREPLY[@]}"') || true
# `--fo` offers --format (and --force, the heat map's overwrite switch); `--form` is --format.
printf '%s\n' "$completed" | grep -qx -- --format \
    || fail "bash: trace-merge --fo completes to '$completed', without --format"
printf '%s\n' "$completed" | grep -qvx -- '--format\|--force' \
    && fail "bash: trace-merge --fo completes to '$completed', not only --format and --force"
# zsh: compinit finds _trace-merge in its default fpath and binds it to the command.
[ "$(clean zsh -f -c 'autoload -Uz compinit && compinit -u -D && print -r -- ${_comps[trace-merge]}')" = _trace-merge ] \
    || fail "zsh: compinit did not bind _trace-merge to trace-merge"
# fish: completes the command line as the shell would (its own config.fish adds the vendor
# directories; HOME is the scratch directory, so no user configuration is read).
completed=$(clean fish -c 'complete -C"trace-merge --fo"' | cut -f1) || true
printf '%s\n' "$completed" | grep -qx -- --format \
    || fail "fish: trace-merge --fo completes to '$completed', without --format"
completed=$(clean fish -c 'complete -C"trace-merge --form"' | cut -f1) || true
[ "$completed" = "--format" ] || fail "fish: trace-merge --form completes to '$completed', not --format"

step "installed: the README's usage examples"
usage_examples "the .deb"

step "dpkg --purge leaves nothing behind"
dpkg --purge trace-tools >/dev/null || fail "dpkg --purge trace-tools"
! dpkg-query -W trace-tools >/dev/null 2>&1 || fail "dpkg still knows trace-tools"
left=0
while read -r path; do
    [ "$path" = /. ] && continue
    if [ -d "$path" ] && ! [ -L "$path" ]; then
        grep -qxF "$path" "$work/dirs-before" && continue
    fi
    if [ -e "$path" ] || [ -L "$path" ]; then
        echo "test-package: left behind: $path" >&2
        left=1
    fi
done <"$work/installed"
[ "$left" -eq 0 ] || fail "dpkg --purge left the files above"

# -- 4. cargo install ------------------------------------------------------------------------
step "cargo install --locked --path (reusing the release build)"
target_dir=$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
for crate in trace-gen trace-merge; do
    timed "cargo install $crate" env CARGO_TARGET_DIR="$target_dir" \
        cargo install --quiet --locked --root "$work/cargo" --path "crates/$crate"
done
for tool in trace-gen trace-merge; do
    [ "$("$work/cargo/bin/$tool" --version)" = "$tool $version (commit $commit)" ] \
        || fail "cargo-installed $tool --version: $("$work/cargo/bin/$tool" --version)"
done
clean() { (cd "$work" && env -i PATH="$work/cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    HOME="$work" TERM=dumb "$@"); }
[ "$(clean bash -c 'command -v trace-merge')" = "$work/cargo/bin/trace-merge" ] || fail "cargo's trace-merge is not first on PATH"
usage_examples "cargo install"
# The README's commands for the man pages and completions, as written but into a scratch
# prefix instead of /usr/local.
awk '/^The man pages and completions come from the binaries themselves/ { found = 1; next }
     found && /^```sh$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside' README.md | sed "s|/usr/local|$work/local|g" >"$work/man-and-completions.sh"
grep -q -- '--generate man' "$work/man-and-completions.sh" \
    || fail "README.md: no man page and completion commands after cargo install"
clean bash -e "$work/man-and-completions.sh" || fail "README.md's man page and completion commands"
[ "$(clean man -M "$work/local/share/man" -w trace-merge)" = "$work/local/share/man/man1/trace-merge.1" ] \
    || fail "man -w does not find the README-installed trace-merge page"
grep -q -- '--format' "$work/local/share/bash-completion/completions/trace-merge" \
    && grep -q -- '--format' "$work/local/share/zsh/site-functions/_trace-merge" \
    && grep -q -- '-l format' "$work/local/share/fish/vendor_completions.d/trace-merge.fish" \
    || fail "the README-installed completions do not complete --format"

# -- 5. crates.io ----------------------------------------------------------------------------
step "cargo publish --dry-run --workspace"
# --allow-dirty: a developer runs this with uncommitted changes; a real publish checks it.
# The verify builds go to a target directory of their own: Cargo takes a registry crate's
# version for its content, so trace-format 0.2.0 compiled from an earlier dry run (from the
# temporary local registry) would be reused for trace-gen and trace-merge after trace-format
# changed, and so would the copies it unpacked into $CARGO_HOME/registry/src/-HASH/. Both are
# removed first, for the workspace's crates only; the other dependencies stay cached.
publish_target=target/publish-check
cargo clean --quiet --target-dir "$publish_target" -p trace-format -p trace-gen -p trace-merge
for crate in trace-format trace-gen trace-merge; do
    rm -rf "${CARGO_HOME:-$HOME/.cargo}/registry/src/"-*/"$crate-$version"
done
start=$SECONDS
cargo publish --dry-run --workspace --locked --allow-dirty --target-dir "$publish_target" 2>"$work/publish" \
    || { cat "$work/publish" >&2; fail "cargo publish --dry-run --workspace"; }
echo "test-package: cargo publish --dry-run took $((SECONDS - start)) s" >&2
# Cargo only warns about missing metadata (crates.io would refuse it): any warning but the dry
# run's own is a failure.
if grep -v 'warning: aborting upload due to dry run' "$work/publish" | grep 'warning:' >&2; then
    fail "cargo publish --dry-run warned (above)"
fi
cargo metadata --format-version 1 --no-deps | /usr/bin/python3 -I -c '
import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] not in ("trace-format", "trace-gen", "trace-merge"):
        continue
    missing = [k for k in ("description", "license", "repository", "keywords", "categories", "readme") if not p.get(k)]
    if p.get("readme") and not os.path.isfile(os.path.join(os.path.dirname(p["manifest_path"]), p["readme"])):
        missing.append("readme file")
    if missing:
        sys.exit(p["name"] + ": no " + ", ".join(missing) + " in Cargo.toml")
' || fail "crate metadata incomplete"
for crate in trace-format trace-gen trace-merge; do
    grep -q "Uploading $crate v$version" "$work/publish" || {
        cat "$work/publish" >&2
        fail "cargo publish --dry-run did not reach the upload of $crate"
    }
done

echo "test-package: ok ($SECONDS s)" >&2
