#!/usr/bin/env bash
# Build the lab's signed apt repository in .lab/repo/ (served to the hosts as file:/srv/labrepo).
#   suites: bookworm, bookworm-updates (Origin Debian, Label Debian)
#           bookworm-security (Origin Debian, Label Debian-Security)
#   content: lab/repo/packages.list plus the lines lab/repo/publish-extra.sh added (.lab/repo-extra.list)
# Signed with a throwaway key kept in .lab/repo-key/ (created on first use, never committed).
# Cached: nothing is rebuilt while the inputs (this script, the package sources, the content lists and
# the key) are unchanged. The .lab/repo directory itself is never replaced, only its content, because
# running hosts bind-mount it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
repo="$root/.lab/repo"
keydir="$root/.lab/repo-key"
extra="$root/.lab/repo-extra.list"
stamps="$root/.lab/stamps"
suites="bookworm bookworm-updates bookworm-security"
arch=$(dpkg --print-architecture)
mkdir -p "$repo" "$stamps"

die() { echo "repo: $*" >&2; exit 1; }

# One builder at a time (lab/up.sh, publish-extra.sh and reset.sh may meet).
exec 9>"$root/.lab/repo.lock"
flock 9

# Read a content list, failing with file, line and field on anything malformed.
read_list() {
  local file=$1 n=0 suite pkg ver rest
  while read -r suite pkg ver rest || [ -n "$suite" ]; do
    n=$((n + 1))
    case "$suite" in ''|'#'*) continue ;; esac
    case " $suites " in *" $suite "*) ;; *) die "$file line $n: field suite: unknown suite '$suite' (one of: $suites)" ;; esac
    [ -d "$here/packages/$pkg" ] || die "$file line $n: field package: no lab package '$pkg' under lab/repo/packages/"
    [[ "$ver" =~ ^[0-9]+(\.[0-9]+)*$ ]] || die "$file line $n: field version: '$ver' is not like 1.2"
    [ -z "$rest" ] || die "$file line $n: unexpected text after the version: '$rest'"
    echo "$suite $pkg $ver"
  done < "$file"
}

# The key: generated once, then reused. gpg-agent is stopped afterwards so nothing is left running.
gpg_() { gpg --homedir "$keydir/gnupg" --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }
stop_agent() { gpgconf --homedir "$keydir/gnupg" --kill all >/dev/null 2>&1 || true; }
trap stop_agent EXIT
if [ ! -s "$keydir/lab-archive-keyring.gpg" ]; then
  echo "repo: creating the lab repository's throwaway signing key"
  rm -rf "$keydir"
  mkdir -p "$keydir/gnupg"
  chmod 0700 "$keydir" "$keydir/gnupg"
  gpg_ --quick-gen-key "healthit.patching lab repository (throwaway) <lab-repo@localhost.invalid>" ed25519 sign never
  gpg_ --export > "$keydir/lab-archive-keyring.gpg.part"
  mv "$keydir/lab-archive-keyring.gpg.part" "$keydir/lab-archive-keyring.gpg"
fi

# What the .deb files are made of; the index and signing logic (this script) only feeds full_inputs.
base_inputs=$( (cd "$here" && find build-deb.sh packages -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
content=$( { read_list "$here/packages.list"; [ ! -f "$extra" ] || read_list "$extra"; } | sort -u)
full_inputs=$( { echo "$base_inputs"; sha256sum < "$here/build.sh"; echo "$content"; sha256sum < "$keydir/lab-archive-keyring.gpg"; } | sha256sum | cut -c1-16)
if [ "$(cat "$stamps/repo-full" 2>/dev/null)" = "$full_inputs" ] && [ -s "$repo/dists/bookworm-security/InRelease" ]; then
  echo "repo: up to date ($(echo "$content" | wc -l) packages)"
  exit 0
fi

# Package sources changed: every .deb is stale. They are replaced in place (never removed first),
# because running hosts may be reading the repository.
rebuild_all=no
[ "$(cat "$stamps/repo-base" 2>/dev/null)" = "$base_inputs" ] || rebuild_all=yes

echo "repo: building the lab repository in $repo"
wanted=$(mktemp)
while read -r suite pkg ver; do
  deb="$repo/pool/$suite/${pkg}_${ver}_all.deb"
  echo "$deb" >> "$wanted"
  [ "$rebuild_all" = no ] && [ -s "$deb" ] && continue
  mkdir -p "$repo/pool/$suite"
  "$here/build-deb.sh" "$pkg" "$ver" "$deb"
done <<< "$content"
# drop what an earlier publish-extra.sh added and reset.sh took back
find "$repo/pool" -name '*.deb' | sort | comm -23 - <(sort "$wanted") | xargs -r rm -f
rm -f "$wanted"

cd "$repo"
for suite in $suites; do
  mkdir -p "pool/$suite" "dists/$suite/main/binary-$arch"
  case "$suite" in
    bookworm) label=Debian; alias=bookworm ;;
    bookworm-updates) label=Debian; alias=bookworm-updates ;;
    bookworm-security) label=Debian-Security; alias=bookworm-security ;;
  esac
  # Hosts may run apt-get update while this runs (publish-extra.sh during a test): every file is
  # replaced by rename, and indexes are also published by hash (Acquire-By-Hash), old hashes kept, so a
  # reader holding the previous InRelease still finds the Packages files it names.
  bin="dists/$suite/main/binary-$arch"
  apt-ftparchive packages "pool/$suite" > "$bin/Packages.part" 2>/dev/null
  gzip -9nc "$bin/Packages.part" > "$bin/Packages.gz.part"
  mv "$bin/Packages.part" "$bin/Packages"
  mv "$bin/Packages.gz.part" "$bin/Packages.gz"
  apt-ftparchive \
    -o APT::FTPArchive::DoByHash=true \
    -o APT::FTPArchive::Release::Acquire-By-Hash=yes \
    -o APT::FTPArchive::Release::Origin=Debian \
    -o APT::FTPArchive::Release::Label="$label" \
    -o APT::FTPArchive::Release::Suite="$alias" \
    -o APT::FTPArchive::Release::Codename="$suite" \
    -o APT::FTPArchive::Release::Architectures="$arch" \
    -o APT::FTPArchive::Release::Components=main \
    -o APT::FTPArchive::Release::Description="healthit.patching lab repository ($suite)" \
    release "dists/$suite" > "dists/$suite/Release.part"
  gpg_ --yes --clearsign -o "dists/$suite/InRelease.part" "dists/$suite/Release.part"
  gpg_ --yes --detach-sign --armor -o "dists/$suite/Release.gpg.part" "dists/$suite/Release.part"
  mv "dists/$suite/Release.part" "dists/$suite/Release"
  mv "dists/$suite/Release.gpg.part" "dists/$suite/Release.gpg"
  mv "dists/$suite/InRelease.part" "dists/$suite/InRelease"
done
chmod -R a+rX "$repo"
echo "$base_inputs" > "$stamps/repo-base"
echo "$full_inputs" > "$stamps/repo-full"
echo "repo: signed $(echo "$content" | wc -l) packages in: $suites"
