#!/bin/sh
# Make Graphviz's `dot` program available: install it with apt-get when we are root on Debian/Ubuntu,
# otherwise say how to install it. graphc still builds DOT source without it; only drawing images needs it.
command -v dot >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "graphc: installing Graphviz (dot) with apt-get..."
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; then
        exit 0
    fi
fi
echo "graphc: Graphviz's 'dot' program is not installed, so graphs cannot be drawn as images." >&2
echo "        Install it with 'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS)" >&2
echo "        or 'conda install graphviz'; see https://graphviz.org/download/" >&2
exit 0
