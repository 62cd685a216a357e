#!/bin/sh
# Installs the build tree into a scratch prefix and builds and runs a C
# program against libheapcomp-client found through pkg-config alone.
set -eu
build=$1
libdir=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/share/heapcomp/protocols/heapcomp-heaps-v1.xml"
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
cat > "$prefix/use.c" <<'C'
#include <heapcomp/heap_client.h>
#include <stdio.h>
#include <wayland-client.h>
int main(void)
{
	/* No compositor here: creating a client fails cleanly. */
	struct wl_display *display = wl_display_connect("heapcomp-install-test-none");
	printf("%s\n", display ? "connected" : "no compositor");
	return display ? 1 : (hc_client_heap_count != 0 ? 0 : 2);
}
C
# shellcheck disable=SC2046
cc "$prefix/use.c" -o "$prefix/use" $(pkg-config --cflags --libs heapcomp-client wayland-client)
LD_LIBRARY_PATH="$prefix/$libdir" "$prefix/use"
echo "install: library, header, pkg-config file and protocol XML usable from $prefix"
