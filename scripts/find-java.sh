# Sourced by ./shadowsync and .ci/run: sets JAVA_HOME to a JDK 21 or newer.
# Order: $JAVA_HOME if it is 21+, else the newest 21+ JDK under /usr/lib/jvm. Fails with a clear message.

_java_major() {  # prints the major version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1
}

_find_java() {
  local cand v best="" bestv=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(_java_major "$JAVA_HOME/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then return 0; fi
    echo "shadowsync: JAVA_HOME=$JAVA_HOME is Java ${v:-?}; looking for a JDK 21+ under /usr/lib/jvm instead" >&2
  fi
  for cand in /usr/lib/jvm/*/; do
    cand=${cand%/}
    [ -x "$cand/bin/javac" ] || continue
    [ -L "$cand" ] && continue
    v=$(_java_major "$cand/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$bestv" ]; then best=$cand; bestv=$v; fi
  done
  if [ -z "$best" ]; then
    echo "shadowsync: no JDK 21 or newer found (JAVA_HOME unset or older, nothing 21+ under /usr/lib/jvm)." >&2
    echo "shadowsync: install one (e.g. apt-get install openjdk-21-jdk, or Temurin 21/25) or point JAVA_HOME at it." >&2
    return 1
  fi
  export JAVA_HOME=$best
}
_find_java
