#!/usr/bin/env bash
# Debian's kernel config of one architecture (config/debian-arches), from
# that architecture's linux-config-6.1 package, fetched with apt's
# multiarch support without adding the architecture to dpkg: apt reads the
# archive's index for it into a list folder of the cache's own
# (APT::Architectures, Dir::State::Lists) and downloads the package,
# whose config.ARCH_none_FLAVOUR.xz is kept in the cache per version.
#   debian-config.sh ARCH    prints 'VERSION PATH' of the config
# The version is the tree's (the linux-source-6.1 package's) when the
# archive's index for the architecture has it, else the newest it has
# (the tree's is in bookworm-security; an index that fails to download,
# as bookworm-security's for some architectures on this archive, leaves
# bookworm's).  The caller says which.
. "$(dirname "$0")/lib.sh"

arch=$1
read -r _ _ flavour < <(debian_arch "$arch") ||
	die "no architecture '$arch' in config/debian-arches"
want=$(tree_version)
store=$CACHE/debian-configs
cfg=config.${arch}_none_$flavour.xz
if [ -f "$store/$want/$cfg" ]; then
	echo "$want $store/$want/$cfg"
	exit 0
fi
apt=$CACHE/apt-$arch
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
opts=(-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root
      -o "APT::Architectures=$arch" -o "APT::Architecture=$arch")
# an index that does not download is reported in the log, not fatal
apt-get -q "${opts[@]}" update >"$LOGS/apt-$arch.log" 2>&1 || true
have=$(apt-cache "${opts[@]}" madison "linux-config-6.1:$arch" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}')
[ -n "$have" ] || die "the archive has no linux-config-6.1 for $arch (log: $LOGS/apt-$arch.log)"
ver=$(echo "$have" | grep -xF "$want" || echo "$have" | sort -V | tail -n 1)
if [ ! -f "$store/$ver/$cfg" ]; then
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get -q "${opts[@]}" download "linux-config-6.1:$arch=$ver") >>"$LOGS/apt-$arch.log" 2>&1 ||
		die "could not download linux-config-6.1:$arch=$ver (log: $LOGS/apt-$arch.log)"
	dpkg-deb -x "$tmp"/linux-config-6.1_*.deb "$tmp/x"
	mkdir -p "$store/$ver"
	cp "$tmp/x/usr/src/linux-config-6.1/$cfg" "$store/$ver/$cfg" ||
		die "linux-config-6.1:$arch=$ver has no $cfg"
	rm -rf "$tmp"
fi
echo "$ver $store/$ver/$cfg"
