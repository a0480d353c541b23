#!/usr/bin/env bash
# npm run pack:lint: the packed tarball as npm would publish it, checked by
#   - @arethetypeswrong/cli (attw): do the types resolve for require and import under node10, node16
#     (CJS and ESM) and bundler resolution, and do they describe the right module format;
#   - publint: do package.json's exports, main, types and files point at files that exist in the
#     tarball, with the right format;
#   - scripts/check-md-links.mjs: every relative link in the tarball's Markdown files (README.md,
#     docs/) names a file in the tarball.
# Both are devDependencies (pinned by package-lock.json). It builds nothing and needs no binary.
# Exits non-zero if any reports a problem (attw: any error; publint: any error or warning).
#
#   ENTRYPOINTS=". ./eventsource"   attw checks only these entry points (default: every one in exports)
#   LINKS=0                         skip the link check
set -euo pipefail
cd "$(dirname "$0")/.."

tmp="$(mktemp -d "${TMPDIR:-/tmp}/native-sse-pack-lint.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
npm pack --silent --ignore-scripts --pack-destination "$tmp" >/dev/null
tgz="$(ls "$tmp"/*.tgz)"
echo "== $(basename "$tgz"): $(tar -tzf "$tgz" | wc -l) files"

status=0
echo "== attw (are the types wrong?)"
entry_args=()
if [[ -n "${ENTRYPOINTS:-}" ]]; then
  read -r -a entries <<<"$ENTRYPOINTS"
  entry_args=(--entrypoints "${entries[@]}")
fi
npx --no-install attw "$tgz" --format table-flipped --no-emoji "${entry_args[@]}" || status=1
echo "== publint"
# --strict: warnings fail too (a suggestion does not).
npx --no-install publint run "$tgz" --strict || status=1
if [[ "${LINKS:-1}" != 0 ]]; then
  echo "== relative links in the tarball's Markdown files"
  mkdir "$tmp/unpacked"
  tar -xzf "$tgz" -C "$tmp/unpacked"
  node scripts/check-md-links.mjs "$tmp/unpacked/package" || status=1
fi
if [[ $status -ne 0 ]]; then
  echo "pack:lint: attw, publint or the link check found problems (above)" >&2
fi
exit "$status"
